// `npm run lint`: the type check (src and tests), ESLint and Prettier's check,
// run side by side (each is one process busy on one core; one after another
// they were some 30 s of `npm test`). Each one's output is printed when it
// ends, whole; the exit code is the first failure's, else 0.
import {spawn} from 'node:child_process';

const TOOLS = [
  ['tsc', ['-p', 'test/tsconfig.json', '--noEmit']],
  ['eslint', ['.']],
  ['prettier', ['--check', 'src', 'test', 'bin', 'bench', 'scripts', 'eslint.config.js', '.mocharc.cjs']],
];

function run([tool, args]) {
  return new Promise((resolve) => {
    const child = spawn('npx', ['--no-install', tool, ...args], {stdio: ['ignore', 'pipe', 'pipe']});
    let output = '';
    child.stdout.on('data', (chunk) => (output += chunk));
    child.stderr.on('data', (chunk) => (output += chunk));
    child.on('error', (error) => resolve({tool, code: 1, output: `${output}${error.message}\n`}));
    child.on('close', (code, signal) => resolve({tool, code: code ?? (signal ? 1 : 0), output}));
  });
}

const results = await Promise.all(TOOLS.map(run));
for (const {tool, code, output} of results) {
  process.stdout.write(`> ${tool}: ${code === 0 ? 'ok' : `failed (exit ${code})`}\n${output}`);
}
process.exitCode = results.find((r) => r.code !== 0)?.code ?? 0;
