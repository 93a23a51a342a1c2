// mocha's configuration. The whole suite runs when no test file or folder is
// named, three files at a time on the 2-core machine (the command tests spend
// much of their time waiting on subprocesses: 4m16s against 4m37s for two at
// a time, same hour), the slowest files first so that the jobs finish together; `npx mocha test/cli/check.test.ts` or
// `npx mocha test/core` runs those alone, in order (a `spec` here would be
// added to the files named, and run everything).
// KEYWARD_TEST_JOBS=1 runs the whole suite in one process, in order.
const fs = require('node:fs');
const path = require('node:path');

// A machine's CA bundle for Node's TLS (NODE_EXTRA_CA_CERTS, set on some CI and development machines) makes every Node
// process load and parse it at start: 50 ms of CPU each, a minute and a half of a suite that starts thousands of
// keyward runs, and keyward makes no TLS connection. The test workers, and what they start, run without it.
delete process.env.NODE_EXTRA_CA_CERTS;

const named = process.argv.slice(2).some((arg) => /\.test\.ts$/.test(arg) || /^(\.\/)?test(\/|$)/.test(arg));
const jobs = Number(process.env.KEYWARD_TEST_JOBS || 3);

/** Files that take longest (measured: the json reporter's durations, 2026-12-02), slowest first: a file missing here only loses its place. */
const SLOW = [
  'store-trust',
  'learn-follow',
  'fast-path',
  'serve',
  'serve-nginx',
  'startup',
  'authorize-fast',
  'help-lint',
  'concurrency',
  'io-trust',
  'status-fast',
  'crash',
  'tables',
  'sync',
  'list-fast',
  'bounded',
  'limits',
  'stdin',
  'shapes',
  'deny',
  'authorize-unread',
  'groups',
  'single-change',
  'differential',
  'export',
  'flags-words',
  'secret-sweep',
  'grammar',
  'bad-stores',
  'colour',
  'decisions',
];

function testFiles(dir) {
  return fs.readdirSync(dir, {withFileTypes: true}).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return testFiles(full);
    return entry.name.endsWith('.test.ts') ? [full] : [];
  });
}

function spec() {
  const rank = (file) => {
    const i = SLOW.indexOf(path.basename(file, '.test.ts'));
    return i < 0 ? SLOW.length : i;
  };
  return testFiles('test').sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
}

module.exports = {
  ...(named ? {} : {spec: spec()}),
  ...(named || jobs < 2 ? {} : {parallel: true, jobs}),
  extension: ['ts'],
  'node-option': ['import=tsx'],
  timeout: 60000,
  reporter: 'spec',
};
