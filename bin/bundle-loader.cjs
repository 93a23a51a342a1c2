// Loads dist/keyward.cjs (the bundle bin/run.js runs oclif's commands from) and
// the fast paths' bundles (dist/COMMAND-fast.cjs) the way require() would,
// with one difference: the compiled code comes from the V8 code cache the
// build writes beside each (dist/keyward.cjs.cache, dist/check-fast.cjs.cache,
// ...), because compiling the 600 kB bundle was some 25 ms of every command's
// start (docs/performance.md, "Issue 15, round 2: start-up"), and compiling a
// fast path's 150 kB some 4 ms of a check's 15 over `--version` (round 8).
// The cache is used only when its stamp (the bundle's length and CRC-32, the
// code's CRC-32) says it is the bundle's as it is now, and whole; a bundle
// without such a cache is require()d. V8 refuses a cache made by another Node
// or with other flags: the bundle is then compiled from its text.
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

/**
 * The text of the bundle `file` (a regular file, else an error), and the
 * compiled code of the cache beside it when that was made from the bundle as
 * it is now, and is whole (else undefined).
 */
function readBundle(file, useCache = true) {
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
  return {source, cachedData};
}

/** The bundle `file` of text `source` compiled, from `cachedData` when given. */
function compile(file, source, cachedData) {
  return new vm.Script(Module.wrap(source.toString('utf8')), {filename: file, cachedData});
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

/**
 * The exports of the bundle `file` (an absolute path): what require(file)
 * would give. Without a cache of its own (none, stale, damaged: a build that
 * stopped half way leaves a bundle whose import()s were not made calls of
 * keywardImport yet) it is require()d, where its import()s work either way.
 */
function loadBundle(file) {
  const loaded = Module._cache[file];
  if (loaded) return loaded.exports;
  const {source, cachedData} = readBundle(file);
  return cachedData === undefined ? require(file) : evaluate(compile(file, source, cachedData), file);
}

/** The bundle, beside bin/ in dist/. */
const BUNDLE = path.join(__dirname, '..', 'dist', 'keyward.cjs');

/** The commands bin/run.js answers from a fast path's bundle (its `fast`), in the order the build runs them. */
const FAST_PATHS = ['authorize', 'check', 'status', 'list'];
const fastPathFile = (command) => path.join(__dirname, '..', 'dist', `${command}-fast.cjs`);

/**
 * The exports of the fast path's bundle of `command` (dist/COMMAND-fast.cjs),
 * compiled from its code cache when that is the bundle's; throws as require()
 * would for a bundle that cannot be loaded (ENOENT when the build made none).
 */
exports.loadFastPath = (command) => complete(loadBundle(fastPathFile(command)), 'runFast');

/**
 * `bundle` when it exports `name` as a function; else it was cut short where
 * its code still parses (between two statements: found when a test's cut at
 * the middle of the file fell there), and is said as a damaged one is.
 */
function complete(bundle, name) {
  if (typeof bundle?.[name] !== 'function') throw new Error(`it ends before it exports ${name}: cut short`);
  return bundle;
}

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
  // keyward has no plugins a user installs: a package.json in its data folder (oclif's place for them) is not read.
  return {root, pjson, userPlugins: false};
}

/**
 * oclif's runner and handle (and Exit), and the options to run `argv` with, all
 * from the bundle; null when the build made no bundle (tsc alone), or when
 * the bundle cannot be loaded: `damaged(file, error)` is told then (bin/run.js says it).
 */
exports.oclifFromBundle = (argv, damaged) => {
  let bundle;
  try {
    bundle = complete(loadBundle(BUNDLE), 'oclif');
  } catch (error) {
    // A damaged install (a bundle cut short, edited, not a file): said once, and run without it, through
    // the commands tsc built (dist/commands), never a stack trace or an exit code that means something else.
    if (error?.code !== 'ENOENT') damaged?.(BUNDLE, error);
    return null;
  }
  return {...bundle.oclif(), options: options(bundle, argv)};
};

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
  makeImportsCalls(file);
  const {source} = readBundle(file, false);
  const script = compile(file, source);
  const bundle = evaluate(script, file);
  for (const name of Object.keys(bundle.COMMANDS)) void bundle.COMMANDS[name];
  for (const name of Object.values(bundle.HOOKS)) void bundle[name];
  await warm(bundle);
  writeCache(file, source, script);
  await finishFastPaths();
};

/** The function the bundles' import()s are made calls of, added at each bundle's end by the build. */
const IMPORT_FOOTER = 'function keywardImport(specifier) { return module.keywardImport ? module.keywardImport(specifier) : import(specifier); }';

/**
 * Makes the import()s of the bundle `file` calls of keywardImport (code
 * compiled by vm.Script cannot import()), adding the function at its end
 * (once); throws for an import( left.
 */
function makeImportsCalls(file) {
  let text = fs.readFileSync(file, 'utf8').replaceAll('await import(', 'await keywardImport(');
  if (!text.includes(IMPORT_FOOTER.slice(0, 40))) text += `\n${IMPORT_FOOTER}\n`;
  // What is left is oclif's message "import() failed to load" and the footer's import() for a bundle loaded
  // by require(): any other import( would be a call not made over.
  const left = text
    .replaceAll('"import()"', '')
    .replace(': import(specifier); }', '')
    .match(/[^\w$.]import\(.{0,40}/g);
  if (left) throw new Error(`${file}: an import() the build did not make a call of keywardImport: ${left.join(' | ')}`);
  fs.writeFileSync(file, text);
}

/** Writes the code V8 compiled so far for `script` (the bundle `file`, of text `source`) as the bundle's cache, stamped. */
function writeCache(file, source, script) {
  const code = script.createCachedData();
  fs.writeFileSync(`${file}.cache`, Buffer.concat([Buffer.from(stampOf(source, code), 'latin1'), code]));
}

/**
 * The fast paths' bundles finished as keyward.cjs is: import()s made calls,
 * and a code cache each, written by a process that ran the command once on a
 * store of its own (a cache made before the run holds only the bundle's top
 * level, and saved nothing): authorize creates the store, oclif's `keys
 * create` adds a key, then check, status and list read it.
 */
async function finishFastPaths() {
  // First, so that a failure below leaves no bundle whose import()s are not calls (see loadBundle).
  for (const command of FAST_PATHS) makeImportsCalls(fastPathFile(command));
  const os = require('node:os');
  // An interrupt (Ctrl-C reaches the whole process group) ends the build after the run under way, the folder removed:
  // by default it would end this process at once and leave the folder and its store behind. (Listened for before the
  // folder exists.)
  let interrupted = null;
  const interrupt = (signal) => (interrupted = signal);
  process.on('SIGINT', interrupt).on('SIGTERM', interrupt);
  let dir = null;
  try {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'keyward-build-'));
    await warmFastPaths(dir, () => interrupted);
  } finally {
    if (dir !== null) fs.rmSync(dir, {recursive: true, force: true});
    process.off('SIGINT', interrupt).off('SIGTERM', interrupt);
  }
}

/** Runs each fast path once on a store in the throw-away folder `dir` (see finishFastPaths), so that each writes its cache. */
async function warmFastPaths(dir, interrupted) {
  const {spawnSync} = require('node:child_process');
  // None of the builder's own keyward settings (a store, a lock timeout, a test's pause, no fast path) nor DEBUG.
  const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('KEYWARD_') && name !== 'DEBUG'));
  Object.assign(env, {KEYWARD_STORE: path.join(dir, 'store.json'), KEYWARD_DATA_DIR: dir, KEYWARD_NOW: '2026-01-01T00:00:00.000Z', NO_COLOR: '1'});
  // (oclif's start, for `keys create`, needs a home folder: a build machine without one gets the throw-away folder.)
  env.HOME ||= dir;
  const run = async (args) => {
    const child = spawnSync(process.execPath, args, {env, cwd: dir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe']});
    // (A turn of the event loop, so that a signal that came meanwhile reaches `interrupt`.)
    await new Promise((resolve) => setImmediate(resolve));
    if (interrupted() !== null || child.signal !== null) throw new Error(`the build was interrupted (${interrupted() ?? child.signal})`);
    if (child.status !== 0 && child.status !== 1) throw new Error(`the build's run of ${args.slice(1).join(' ')} failed (exit ${child.status}): ${child.stderr}`);
  };
  const runs = {
    authorize: ['192.0.2.0/24', '2001:db8::/48', '--label', 'build'],
    check: ['build', '192.0.2.1', '198.51.100.7', '2001:db8::1'],
    status: [],
    list: ['--json'],
  };
  for (const command of FAST_PATHS) {
    const file = fastPathFile(command);
    if (command === 'check') await run([path.join(__dirname, 'run.js'), 'keys', 'create', 'build', '--type', 'api']);
    await run(['-e', `require(${JSON.stringify(path.join(__dirname, 'bundle-loader.cjs'))}).warmFastPath(${JSON.stringify(command)}, ${JSON.stringify(runs[command])})`]);
    if (!fs.existsSync(`${file}.cache`)) throw new Error(`the build wrote no code cache for ${file}`);
  }
}

/**
 * In the build's process for the fast path of `command`: its bundle compiled
 * and run with the words `argv` (its output dropped), then, at exit, the
 * code V8 compiled meanwhile written as the bundle's cache.
 */
exports.warmFastPath = (command, argv) => {
  const file = fastPathFile(command);
  fs.rmSync(`${file}.cache`, {force: true});
  const {source} = readBundle(file, false);
  const script = compile(file, source);
  const bundle = evaluate(script, file);
  process.on('exit', () => writeCache(file, source, script));
  process.stdout.write = () => true;
  return bundle.runFast(argv);
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
