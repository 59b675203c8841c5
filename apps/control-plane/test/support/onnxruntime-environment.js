// Jest runs each test file in its own VM realm, so a Float32Array made there is not `instanceof` the
// Float32Array of the realm onnxruntime-node's native binding creates its outputs in, and
// onnxruntime-common rejects them ("A float32 tensor's data must be type of Float32Array"). This
// environment gives the test realm the host's typed-array constructors, as a plain Node.js process has.
// Used by the spec files that run onnxruntime-node (`@jest-environment ./test/support/onnxruntime-environment.js`).
const { TestEnvironment } = require('jest-environment-node');

const SHARED_CONSTRUCTORS = [
  'ArrayBuffer',
  'SharedArrayBuffer',
  'DataView',
  'Int8Array',
  'Uint8Array',
  'Uint8ClampedArray',
  'Int16Array',
  'Uint16Array',
  'Int32Array',
  'Uint32Array',
  'Float32Array',
  'Float64Array',
  'BigInt64Array',
  'BigUint64Array',
];

class OnnxRuntimeEnvironment extends TestEnvironment {
  constructor(config, context) {
    super(config, context);
    for (const name of SHARED_CONSTRUCTORS) this.global[name] = globalThis[name];
  }
}

module.exports = OnnxRuntimeEnvironment;
