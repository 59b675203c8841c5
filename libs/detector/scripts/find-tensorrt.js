// Prints the directory holding TensorRT's NvInfer.h (TENSORRT_INCLUDE_DIR, or JetPack's / the CUDA
// toolkit's usual places), or nothing: binding.gyp compiles the tensorrt backend only when this is non-empty.
const fs = require('node:fs');
const path = require('node:path');

const candidates = [
  process.env.TENSORRT_INCLUDE_DIR,
  '/usr/include/aarch64-linux-gnu',
  '/usr/include/x86_64-linux-gnu',
  '/usr/local/TensorRT/include',
].filter(Boolean);
const found = candidates.find((dir) => fs.existsSync(path.join(dir, 'NvInfer.h')));
process.stdout.write(found ?? '');
