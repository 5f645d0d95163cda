#!/usr/bin/env node
// `npm run bench:consensus`: runs libs/consensus/bench/consensus.bench.ts through @swc/core
// (a dev dependency), so the benchmark needs no build of the whole monorepo.
const { readFileSync } = require('node:fs');
const { join } = require('node:path');
const swc = require('@swc/core');

require.extensions['.ts'] = function (m, filename) {
  const out = swc.transformSync(readFileSync(filename, 'utf8'), {
    filename,
    jsc: { parser: { syntax: 'typescript' }, target: 'es2022' },
    module: { type: 'commonjs' },
  });
  m._compile(out.code, filename);
};
require(join(__dirname, '../libs/consensus/bench/consensus.bench.ts'));
