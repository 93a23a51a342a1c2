// Loads dist/keyward.cjs (the bundle bin/run.js runs every command but a plain
// `check` through) the way require() would, with one difference: the compiled
// code comes from the V8 code cache the build writes beside it
// (dist/keyward.cjs.cache), because compiling the 600 kB bundle was some 25 ms
// of every command's start (docs/performance.md, "Issue 15, round 2:
// start-up"). The cache is used only when its stamp (the bundle's length
// and CRC-32, the code's CRC-32) says it is the bundle's as it is now, and
// whole; V8 refuses one made by another Node or with other flags: either
// way the bundle is then compiled from its text, as require() would.
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const vm = require('node:vm');
const Module = require('node:module');

/** The length of the stamp in front of the cached code. */
const STAMP = 64;

/**
 * The stamp of the cached code `code` of the bundle whose text is `source`:
 * the text's length and CRC-32 (V8 checks only the length), and the code's
 * CRC-32 (V8 does not check cached code: a damaged cache would crash it).
 */
function stampOf(source, code) {
  const {crc32} = require('node:zlib');
  return `${source.length} ${crc32(source)} ${crc32(code)}`.padEnd(STAMP);
}

/** The largest cache read (the build's is about 2 MB): anything larger is not one. */
const MAX_CACHE_BYTES = 64 << 20;

/**
 * The bytes of `file` when it is a regular file of at most `max` bytes, opened
 * without blocking (a FIFO or a device put in its place must not hang every
 * command); an error otherwise.
 */
function readRegularFile(file, max) {
  const fd = fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
  try {
    const stat = fs.fstatSync(fd);
    if (!stat.isFile() || stat.size > max) throw Object.assign(new Error(`${file} is not a regular file of at most ${max} bytes`), {code: 'EINVAL'});
    return fs.readFileSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

/** The bundle `file` compiled, from the cache beside it when that was made from it as it is now, and is whole. */
function compile(file, useCache = true) {
  const source = readRegularFile(file, 1 << 30);
  let cachedData;
  if (useCache) {
    try {
      const data = readRegularFile(`${file}.cache`, MAX_CACHE_BYTES);
      const code = data.subarray(STAMP);
      if (data.subarray(0, STAMP).toString('latin1') === stampOf(source, code)) cachedData = code;
    } catch {
      // No cache: compiled from the text.
    }
  }
  return {source, script: new vm.Script(Module.wrap(source.toString('utf8')), {filename: file, cachedData})};
}

/** Runs the compiled bundle as the CommonJS module `file`, in require()'s cache, as require() would. */
function evaluate(script, file) {
  const module = new Module(file, null);
  module.filename = file;
  module.paths = Module._nodeModulePaths(path.dirname(file));
  // The bundle's import()s (finishBundle): code compiled by vm.Script, from a cache above all, cannot import().
  module.keywardImport = (specifier) => import(specifier);
  Module._cache[file] = module;
  try {
    script.runInThisContext().call(module.exports, module.exports, Module.createRequire(file), module, file, path.dirname(file));
  } catch (error) {
    delete Module._cache[file];
    throw error;
  }
  module.loaded = true;
  return module.exports;
}

/** The exports of the bundle `file` (an absolute path): what require(file) would give. */
function loadBundle(file) {
  return Module._cache[file]?.exports ?? evaluate(compile(file).script, file);
}

/** The bundle, beside bin/ in dist/. */
const BUNDLE = path.join(__dirname, '..', 'dist', 'keyward.cjs');

/**
 * What oclif is told to run with: the configuration of package.json and
 * .oclifrc, read as oclif reads it, with the commands ("explicit" strategy)
 * and hooks of the bundle in place of dist/commands and dist/hooks, so that
 * they share the bundle's oclif. @oclif/plugin-autocomplete (`keyward
 * autocomplete`) is left out for a command line `argv` that names one of
 * keyward's own commands and asks no help (help lists every command).
 */
function options(bundle, argv) {
  const root = path.join(__dirname, '..');
  const pjson = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));
  pjson.oclif ??= JSON.parse(fs.readFileSync(path.join(root, '.oclifrc'), 'utf8'));
  pjson.oclif.commands = {strategy: 'explicit', target: './dist/keyward.cjs', identifier: 'COMMANDS'};
  pjson.oclif.hooks = Object.fromEntries(Object.keys(pjson.oclif.hooks ?? {}).map((event) => [event, {target: './dist/keyward.cjs', identifier: bundle.HOOKS[event]}]));
  const flag = argv.findIndex((word) => word.startsWith('-'));
  const words = flag < 0 ? argv : argv.slice(0, flag);
  const ownCommand = words.some((_, i) => Object.hasOwn(bundle.COMMANDS, words.slice(0, i + 1).join(':')));
  if (ownCommand && !argv.some((word) => word === '--help' || word === '-h' || word === 'help')) delete pjson.oclif.plugins;
  return {root, pjson};
}

/**
 * oclif's runner and handle (and Exit), and the options to run `argv` with, all
 * from the bundle; null when the build made no bundle (tsc alone).
 */
exports.oclifFromBundle = (argv) => {
  let bundle;
  try {
    bundle = loadBundle(BUNDLE);
  } catch (error) {
    // A damaged install (a bundle cut short, edited, not a file): said once, and run without it, through
    // the commands tsc built (dist/commands), never a stack trace or an exit code that means something else.
    if (error?.code !== 'ENOENT') damaged(BUNDLE, error);
    return null;
  }
  return {...bundle.oclif(), options: options(bundle, argv)};
};

/** Says on stderr that the built file `file` cannot be loaded, and that keyward goes on without it. */
function damaged(file, error) {
  const why = String(error?.message ?? error)
    .split('\n')[0]
    .replace(/[^\x20-\x7e]/g, '?')
    .slice(0, 160);
  process.stderr.write(
    `keyward: ${path.relative(path.join(__dirname, '..'), file)} cannot be loaded (${error?.name ?? 'Error'}: ${why}); going on without it\n  reinstall keyward to mend the installation\n`,
  );
}
exports.damaged = damaged;

/**
 * The build, after esbuild made the bundle: its import()s made calls of
 * keywardImport (the footer, see package.json), which imports with the
 * loader's import() (code compiled by vm.Script cannot import(); V8 keeps no
 * import callback in cached code); then its code cache written: the bundle
 * run, every command and hook in it evaluated, `keyward --help` run, and the
 * code V8 compiled meanwhile cached.
 */
exports.finishBundle = async () => {
  const file = BUNDLE;
  const text = fs.readFileSync(file, 'utf8').replaceAll('await import(', 'await keywardImport(');
  // What is left is oclif's message "import() failed to load" and the footer's import() for a bundle loaded
  // by require(): any other import( would be a call not made over.
  const left = text
    .replaceAll('"import()"', '')
    .replace(': import(specifier); }', '')
    .match(/[^\w$.]import\(.{0,40}/g);
  if (left) throw new Error(`${file}: an import() the build did not make a call of keywardImport: ${left.join(' | ')}`);
  fs.writeFileSync(file, text);
  const {source, script} = compile(file, false);
  const bundle = evaluate(script, file);
  for (const name of Object.keys(bundle.COMMANDS)) void bundle.COMMANDS[name];
  for (const name of Object.values(bundle.HOOKS)) void bundle[name];
  await warm(bundle);
  const code = script.createCachedData();
  fs.writeFileSync(`${file}.cache`, Buffer.concat([Buffer.from(stampOf(source, code), 'latin1'), code]));
};

/** Runs `keyward --help` (its output dropped), so that the code of oclif's start is compiled, and cached. */
async function warm(bundle) {
  const write = process.stdout.write;
  process.stdout.write = () => true;
  try {
    await bundle.oclif().run(['--help'], options(bundle, ['--help']));
  } finally {
    process.stdout.write = write;
  }
}
