#!/usr/bin/env node
// Runs a TypeScript script from the sources without a build: `node scripts/run-ts.js FILE.ts [args]`.
// Compiles each .ts file on load with @swc/core (the transform Jest uses) and resolves the
// @tally/<lib> path aliases, so dev scripts work even while another part of the tree is mid-edit.
const Module = require('node:module');
const { readFileSync } = require('node:fs');
const { join, resolve } = require('node:path');
const swc = require('@swc/core');

const root = join(__dirname, '..');
const resolveFilename = Module._resolveFilename;
Module._resolveFilename = function (request, ...rest) {
  const m = /^@tally\/([a-z-]+)$/.exec(request);
  return resolveFilename.call(this, m ? join(root, 'libs', m[1], 'src') : request, ...rest);
};
const options = {
  jsc: {
    parser: { syntax: 'typescript', decorators: true },
    transform: { legacyDecorator: true, decoratorMetadata: true },
    target: 'es2022',
  },
  module: { type: 'commonjs' },
  sourceMaps: 'inline',
};
require.extensions['.ts'] = (module, filename) => {
  const { code } = swc.transformSync(readFileSync(filename, 'utf8'), { ...options, filename });
  module._compile(code, filename);
};
const [script, ...args] = process.argv.slice(2);
if (!script) {
  console.error('usage: node scripts/run-ts.js FILE.ts [args]');
  process.exit(2);
}
process.argv = [process.argv[0], resolve(script), ...args];
require(resolve(script));
