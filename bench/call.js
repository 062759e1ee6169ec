// Sequential reinstall_server calls against the emulator through the
// official Huawei Cloud Node.js SDK core's own machinery (sdk.client: an
// HcClient over axios with a keep-alive agent, BasicCredentials signing each
// request), the JSON response decoded by axios.
//   node bench/call.js ENDPOINT SECONDS    -> call_rate=..., calls=...
'use strict';

const sdk = require('./sdk');

const { PROJECT_ID } = sdk;
const endpoint = process.argv[2];
const seconds = Number(process.argv[3] || 3);
const { client, agent } = sdk.client(endpoint);

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
