module.exports = {
  ...require('../../jest.preset.js'),
  displayName: 'darknet',
  rootDir: __dirname,
};
