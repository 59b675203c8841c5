/** Shared jest settings: SWC transpiles TypeScript (with decorator metadata for NestJS). */
const path = require('node:path');

const swcTransform = [
  require.resolve('@swc/jest'),
  {
    jsc: {
      target: 'es2021',
      parser: { syntax: 'typescript', decorators: true },
      transform: { legacyDecorator: true, decoratorMetadata: true },
    },
    module: { type: 'commonjs' },
    sourceMaps: 'inline',
  },
];

const root = __dirname;

module.exports = {
  testEnvironment: 'node',
  transform: { '^.+\\.ts$': swcTransform },
  moduleFileExtensions: ['ts', 'js', 'json', 'node'],
  moduleNameMapper: {
    '^@emofleet/protocol$': path.join(root, 'libs/protocol/src/index.ts'),
    '^@emofleet/darknet$': path.join(root, 'libs/darknet/src/index.ts'),
    '^@emofleet/detector$': path.join(root, 'libs/detector/src/index.ts'),
    '^@emofleet/agent$': path.join(root, 'agent/src/index.ts'),
  },
  testMatch: ['<rootDir>/**/*.spec.ts'],
  testPathIgnorePatterns: ['/node_modules/', '/dist/'],
};
