// What the Node.js benchmarks share: where the official Huawei Cloud
// Node.js SDK core is installed (HWCLOUD_NODE_SDK, a node_modules folder, or
// bench/.work/node), the project and key pair of the benchmark request, and
// the SDK's client for an endpoint.
'use strict';

const path = require('path');

const root = path.resolve(
  process.env.HWCLOUD_NODE_SDK || path.join(__dirname, '.work', 'node', 'node_modules'),
  '@huaweicloud', 'huaweicloud-sdk-core');

// sdk.load() is the package, sdk.load('auth/AKSKSigner') one of its modules
const load = (rel) => require(rel ? path.join(root, rel) : root);

const PROJECT_ID = '0123456789abcdef0123456789abcdef';
const AK = process.env.BENCH_AK || 'HWCLOUDEMULATORAK001';
const SK = process.env.BENCH_SK || 'hwcloud-emulator-secret';

// client(endpoint[, axios]) -> { client, agent }: an HcClient over a DefaultHttpClient (axios)
// given a keep-alive http.Agent holding one socket, BasicCredentials signing
// each request (AKSKSigner, X-Project-Id): wired as ClientBuilder.build wires
// them (ClientBuilder itself needs the package 'uuid' in 3.1.211, which the
// SDK core does not declare). `axios` adds to the axios request config.
function client(endpoint, axios) {
  const http = require('http');
  const { BasicCredentials } = load();
  const { HcClient } = load('HcClient');
  const { DefaultHttpClient } = load('http/DefaultHttpClient');
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const credentials = new BasicCredentials().withAk(AK).withSk(SK).withProjectId(PROJECT_ID);
  const httpClient = new DefaultHttpClient({
    disableSslVerification: true,
    headers: { 'User-Agent': 'huaweicloud-usdk-nodejs/3.0' },
    axiosRequestConfig: Object.assign({ httpAgent: agent }, axios),
  }, [endpoint]);
  const client = new HcClient(httpClient).withCredential(credentials).withEndpoints([endpoint]);
  return { client, agent };
}

module.exports = { load, client, PROJECT_ID, AK, SK };
