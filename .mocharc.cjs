// mocha's configuration. The whole suite runs when no test file is named;
// `npx mocha test/cli/check.test.ts` runs that file alone (a `spec` here would
// be added to the files named, and run everything).
const named = process.argv.slice(2).some((arg) => /\.test\.ts$/.test(arg));
module.exports = {
  ...(named ? {} : {spec: ['test/**/*.test.ts']}),
  'node-option': ['import=tsx'],
  timeout: 60000,
  reporter: 'spec',
};
