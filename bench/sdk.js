// What both Node.js benchmarks share: where the official Huawei Cloud
// Node.js SDK core is installed (HWCLOUD_NODE_SDK, a node_modules folder, or
// bench/.work/node), and the project and key pair of the benchmark request.
'use strict';

const path = require('path');

const root = path.resolve(
  process.env.HWCLOUD_NODE_SDK || path.join(__dirname, '.work', 'node', 'node_modules'),
  '@huaweicloud', 'huaweicloud-sdk-core');

module.exports = {
  // sdk.load() is the package, sdk.load('auth/AKSKSigner') one of its modules
  load: (rel) => require(rel ? path.join(root, rel) : root),
  PROJECT_ID: '0123456789abcdef0123456789abcdef',
  AK: process.env.BENCH_AK || 'HWCLOUDEMULATORAK001',
  SK: process.env.BENCH_SK || 'hwcloud-emulator-secret',
};
