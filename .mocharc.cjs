// mocha's configuration. The whole suite runs when no test file or folder is
// named, two files at a time (one per core: the command tests spend much of
// their time waiting on subprocesses); `npx mocha test/cli/check.test.ts` or
// `npx mocha test/core` runs those alone, in order (a `spec` here would be
// added to the files named, and run everything).
// KEYWARD_TEST_JOBS=1 runs the whole suite in one process, in order.
const named = process.argv.slice(2).some((arg) => /\.test\.ts$/.test(arg) || /^(\.\/)?test(\/|$)/.test(arg));
const jobs = Number(process.env.KEYWARD_TEST_JOBS || 2);
module.exports = {
  ...(named ? {} : {spec: ['test/**/*.test.ts']}),
  ...(named || jobs < 2 ? {} : {parallel: true, jobs}),
  extension: ['ts'],
  'node-option': ['import=tsx'],
  timeout: 60000,
  reporter: 'spec',
};
