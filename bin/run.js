#!/usr/bin/env node
// keyward's only entry point: runs the built commands in dist/.
// `--version` is answered without loading oclif: it is what scripts call to
// probe the tool, and oclif's start-up costs more than the answer.
if (process.argv.length === 3 && process.argv[2] === '--version') {
  const {readFileSync} = await import('node:fs');
  const {version} = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
  process.stdout.write(`keyward/${version} ${process.platform}-${process.arch} node-${process.version}\n`);
} else {
  const {execute} = await import('@oclif/core');
  await execute({dir: import.meta.url});
}
