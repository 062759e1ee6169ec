// Signatures per second of the official Huawei Cloud Node.js SDK core's
// signer (AKSKSigner.sign, the function its credentials call for every
// request) on the reinstall_server request hwcloud signs in bench/sign.lua.
//   node bench/sign.js SECONDS       -> sign_rate=...
//   node bench/sign.js check DATE    -> authorization=... for a fixed X-Sdk-Date
// The SDK is looked up in HWCLOUD_NODE_SDK (a node_modules folder).
'use strict';

const sdk = require('./sdk');

const { BasicCredentials } = sdk.load();
const { AKSKSigner } = sdk.load('auth/AKSKSigner');
const { HttpRequestBuilder } = sdk.load('http/IHttpRequestBuilder');

const { PROJECT_ID, AK, SK } = sdk;
const endpoint = 'https://appstream.cn-north-4.myhuaweicloud.com';
const url = `/v1/${PROJECT_ID}/app-servers/srv-bench-0001/actions/reinstall`;

const credentials = new BasicCredentials().withAk(AK).withSk(SK).withProjectId(PROJECT_ID);
const headers = { 'content-type': 'application/json', 'X-Project-Id': PROJECT_ID };
if (process.argv[2] === 'check') headers['X-Sdk-Date'] = process.argv[3];
const request = new HttpRequestBuilder()
  .withEndpoint(endpoint + url)
  .withUrl(url)
  .withMethod('POST')
  .withHeaders(headers)
  .withData({ update_access_agent: false })
  .build();

if (process.argv[2] === 'check') {
  process.stdout.write(`authorization=${AKSKSigner.sign(request, credentials).Authorization}\n`);
  process.exit(0);
}

function timed(seconds, batch) {
  const t0 = process.hrtime.bigint();
  let calls = 0;
  let elapsed;
  do {
    for (let i = 0; i < batch; i++) AKSKSigner.sign(request, credentials);
    calls += batch;
    elapsed = Number(process.hrtime.bigint() - t0) / 1e9;
  } while (elapsed < seconds);
  return calls / elapsed;
}

const seconds = Number(process.argv[2] || 2);
timed(1, 200); // warm-up: let V8 optimise the signer
process.stdout.write(`sign_rate=${timed(seconds, 200).toFixed(1)}\n`);
