// Lets a child `node` process run the agent's TypeScript sources directly (tests spawn the real entry point
// without a prior build): compiles .ts files with SWC on require, and resolves @emofleet/* to their sources.
'use strict';
const Module = require('node:module');
const path = require('node:path');
const fs = require('node:fs');
const { transformSync } = require('@swc/core');

const repositoryRoot = path.resolve(__dirname, '../../..');
const workspaceSources = {
  '@emofleet/protocol': path.join(repositoryRoot, 'libs/protocol/src/index.ts'),
  '@emofleet/agent': path.join(repositoryRoot, 'agent/src/index.ts'),
  '@emofleet/detector': path.join(repositoryRoot, 'libs/detector/src/index.ts'),
};

const originalResolve = Module._resolveFilename;
Module._resolveFilename = function resolveWorkspaceSources(request, ...rest) {
  return originalResolve.call(this, workspaceSources[request] ?? request, ...rest);
};

require.extensions['.ts'] = (module, filename) => {
  const { code } = transformSync(fs.readFileSync(filename, 'utf8'), {
    filename,
    jsc: { target: 'es2021', parser: { syntax: 'typescript' } },
    module: { type: 'commonjs' },
    sourceMaps: 'inline',
  });
  module._compile(code, filename);
};
