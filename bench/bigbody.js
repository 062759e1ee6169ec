// The response side of body-response-10mb through the official Node.js
// SDK core: list_software_configs (RTS) answered with the emulator's canned
// 10 MB list, over the HcClient of bench/sdk.js; axios receives and decodes the JSON.
//   node bench/bigbody.js ENDPOINT CALLS    -> response_s=...
'use strict';

const sdk = require('./sdk');

const endpoint = process.argv[2];
const calls = Number(process.argv[3] || 3);
const { client, agent } = sdk.client(endpoint, { maxContentLength: Infinity, maxBodyLength: Infinity });

function list() {
  return client.sendRequest({
    method: 'GET',
    url: '/v1/{project_id}/software_configs',
    contentType: 'application/json',
    headers: {},
    pathParams: {},
    queryParams: {},
  });
}

async function one() {
  const res = await list();
  if (res.httpStatusCode !== 200 || !Array.isArray(res.software_configs)) {
    throw new Error('unexpected answer: ' + String(res.httpStatusCode));
  }
}

async function main() {
  await one(); // warm-up: the connection, V8
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < calls; i += 1) await one();
  const s = Number(process.hrtime.bigint() - t0) / 1e9 / calls;
  process.stdout.write(`response_s=${s.toPrecision(6)}\n`);
  agent.destroy();
}

main().catch((err) => {
  process.stderr.write('bigbody.js: ' + (err && (err.stack || err.message) || String(err)) + '\n');
  process.exit(1);
});
