// Sequential reinstall_server calls against the emulator through the
// official Huawei Cloud Node.js SDK core's own machinery: an HcClient over a
// DefaultHttpClient (axios) given a keep-alive http.Agent holding one socket,
// BasicCredentials signing each request (AKSKSigner, X-Project-Id), the JSON
// response decoded by axios. The two objects are wired as ClientBuilder.build
// wires them; ClientBuilder itself is not used because in 3.1.211 it needs
// the package 'uuid', which the SDK core does not declare as a dependency.
//   node bench/call.js ENDPOINT SECONDS    -> call_rate=..., calls=...
'use strict';

const http = require('http');
const sdk = require('./sdk');

const { BasicCredentials } = sdk.load();
const { HcClient } = sdk.load('HcClient');
const { DefaultHttpClient } = sdk.load('http/DefaultHttpClient');

const { PROJECT_ID, AK, SK } = sdk;
const endpoint = process.argv[2];
const seconds = Number(process.argv[3] || 3);

const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
const credentials = new BasicCredentials().withAk(AK).withSk(SK).withProjectId(PROJECT_ID);
const httpClient = new DefaultHttpClient({
  disableSslVerification: true,
  headers: { 'User-Agent': 'huaweicloud-usdk-nodejs/3.0' },
  axiosRequestConfig: { httpAgent: agent },
}, [endpoint]);
const client = new HcClient(httpClient).withCredential(credentials).withEndpoints([endpoint]);

// what a generated service client passes to HcClient.sendRequest
function reinstall() {
  return client.sendRequest({
    method: 'POST',
    url: '/v1/{project_id}/app-servers/{server_id}/actions/reinstall',
    contentType: 'application/json',
    headers: {},
    pathParams: { server_id: 'srv-bench-0001' },
    queryParams: {},
    data: { update_access_agent: false },
  });
}

async function timed(secs) {
  const t0 = process.hrtime.bigint();
  let calls = 0;
  let elapsed;
  do {
    const res = await reinstall();
    if (res.httpStatusCode !== 200 || typeof res.job_id !== 'string') {
      throw new Error('unexpected answer: ' + JSON.stringify(res));
    }
    calls += 1;
    elapsed = Number(process.hrtime.bigint() - t0) / 1e9;
  } while (elapsed < secs);
  return { calls, elapsed };
}

async function main() {
  await timed(0.5); // warm-up: connection open, V8 optimised
  const { calls, elapsed } = await timed(seconds);
  const sockets = Object.values(agent.sockets).reduce((n, l) => n + l.length, 0)
    + Object.values(agent.freeSockets).reduce((n, l) => n + l.length, 0);
  process.stdout.write(`call_rate=${(calls / elapsed).toFixed(1)}\ncalls=${calls}\nsockets=${sockets}\n`);
  agent.destroy();
}

main().catch((err) => {
  process.stderr.write('call.js: ' + (err && (err.stack || err.message) || JSON.stringify(err)) + '\n');
  process.exit(1);
});
