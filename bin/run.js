#!/usr/bin/env node
// keyward's only entry point: runs the built commands in dist/.
// Five answers skip oclif, whose start-up costs more than the answer:
// `--version`, which scripts call to probe the tool, a plain
// `check KEY ADDRESS...`, a plain `status`, a plain `authorize ENTRY...` and
// `list --json` (dist/check-fast.cjs, dist/status-fast.cjs,
// dist/authorize-fast.cjs and dist/list-fast.cjs run them with the oclif
// commands' own runners, and hand anything they are not sure of back to oclif).
// KEYWARD_NO_FAST_PATH=1 sends them through oclif too; so does DEBUG,
// which turns on oclif's own debug output.
const argv = globalFlagsAfter(process.argv.slice(2));
settleEnvironment(process.env);
// Output that cannot be written (a full disk) is said and exits 3 at once: never a stack trace,
// and never exit 1, which `check` uses for "denied". A reader that went away (EPIPE) is left to
// the commands, which stop quietly. Messages on stderr are best effort: a broken stderr stops nothing.
// A change already committed to the store (src/store/store.ts records it) stays so, and is said.
process.stdout.on('error', (error) => {
  if (error?.code === 'EPIPE') return;
  const committed = globalThis[Symbol.for('keyward.committed')];
  const said = committed ? `; the change to the store ${committed} was committed before it (see keyward history)` : '';
  process.stderr.write(`keyward: cannot write the output (${error?.code ?? error}); what was printed may be incomplete${said}\n  store error (exit 3)\n`);
  process.exit(3);
});
process.stderr.on('error', () => {});
// An error that escaped every handler (a promise of oclif's that nothing awaits, a throw in a callback) is said
// as every failure is, once, and ends the run: never Node's stack trace and exit 1, `check`'s "denied".
// (Unless a failure is being said already: one cause, one message.)
let failing = false;
for (const event of ['uncaughtException', 'unhandledRejection']) process.on(event, sayEscaped);
const {fileURLToPath, pathToFileURL} = process.getBuiltinModule('node:url');
// This file's real place, links resolved: every file keyward loads is found from it. (Through a link,
// as npm link and npm install -g make, import.meta.url is the link's place under --preserve-symlinks-main.)
const here = pathToFileURL(process.getBuiltinModule('node:fs').realpathSync.native(fileURLToPath(import.meta.url)));
/** The URL of `relative` (to this file), as a string import() takes. */
const at = (relative) => new URL(relative, here).href;
// require() of oclif's CommonJS files is cheaper than import() of them (docs/performance.md).
const requireHere = process.getBuiltinModule('node:module').createRequire(here);
// oclif's debug output (DEBUG=*) prints the command line as given, a key secret in it too: on stderr it is
// said by its hint (a1b2…9f0e), as in every message.
if (process.env.DEBUG) {
  const {maskSecrets} = await import(at('../dist/core/errors.js'));
  const write = process.stderr.write.bind(process.stderr);
  process.stderr.write = (chunk, ...rest) => write(typeof chunk === 'string' ? maskSecrets(chunk) : chunk, ...rest);
}
/** oclif's handler of an exit code, once oclif is loaded. */
let handleExit = null;
/** bin/bundle-loader.cjs once looked for (see bundleLoader; null: none, or damaged); undefined before. */
let loader;
// (`list` only with --json: a plain list, its table, is oclif's, and need not load the fast path's bundle to be told so.
// The build warms the same commands' bundles: FAST_PATHS in bin/bundle-loader.cjs.)
const fast =
  (argv[0] === 'check' || argv[0] === 'status' || argv[0] === 'authorize' || (argv[0] === 'list' && argv.includes('--json'))) &&
  !process.env.KEYWARD_NO_FAST_PATH &&
  !process.env.DEBUG;
// `keyward keys --json` (flags but no command of the topic): oclif would print the topic's help on stdout with exit 0.
const topicWithFlagsOnly = argv[0] === 'keys' && argv.length > 1 && argv.slice(1).every((word) => word.startsWith('-') && word !== '-h' && word !== '--help');
if (argv.length === 1 && argv[0] === '--version') {
  const {readFileSync} = await import('node:fs');
  const {version} = JSON.parse(readFileSync(fileURLToPath(at('../package.json')), 'utf8'));
  process.stdout.write(`keyward/${version} ${process.platform}-${process.arch} node-${process.version}\n`);
} else if (argv[0] === 'check' && helpAmongAddresses(argv.slice(1))) {
  // `check KEY "$ip"` with $ip set to -h would print help and exit 0, "every address allowed", in a CI gate.
  const {jsonAsked, sayFailure} = await import(at('../dist/cli/messages.js'));
  const failure = {exit: 2, message: '-h/--help given with KEY and addresses: no address was checked', details: ['for help, give keyward check --help alone']};
  await sayFailure(failure, {json: jsonAsked(argv) || argv.includes('--ndjson')});
} else if (topicWithFlagsOnly) {
  const {jsonAsked, sayFailure} = await import(at('../dist/cli/messages.js'));
  const failure = {exit: 2, message: 'keys needs a command: create, list, rotate or revoke', details: ['see `keyward keys --help`']};
  await sayFailure(failure, {json: jsonAsked(argv)});
} else if (!fast || !(await runFastPath(argv[0], argv.slice(1)))) {
  try {
    // (Inside: oclif's start can fail too, with no home folder to find, and is said in keyward's style.)
    shellForOclif(process.env);
    const {run, handle, options} = oclif();
    handleExit = handle;
    await run(argv, options);
    await flush();
    // (A command that printed a new secret ends here, its signal handlers still in place: see src/cli/keys-view.ts.)
    // (In a worker thread, as the tests run it in-process, there are no signals to keep, and process.exit is the test's.)
    if (globalThis[Symbol.for('keyward.exit-when-done')] && (await import('node:worker_threads')).isMainThread) process.exit();
  } catch (error) {
    // An exit code (this.exit) is oclif's to carry out. Any other error that reached here (from a hook,
    // from help) is said in keyward's one style, like every failure: masked, escaped, the error object
    // on stdout under --json.
    if (failing) {
      // (Already said, by sayEscaped, which ends the run.)
    } else if (error?.oclif?.exit !== undefined && error.constructor?.name === 'ExitError' && handleExit) {
      await handleExit(error);
    } else {
      failing = true;
      const {jsonAsked, oclifFailure, reportFailure, sayFailure} = await import(at('../dist/cli/messages.js'));
      const json = jsonAsked(argv);
      if (error?.oclif?.exit !== undefined) await sayFailure(oclifFailure(error), {json});
      else await reportFailure(error, {json});
    }
  }
}

/**
 * Waits until stdout has taken what was written, as oclif's flush does, and
 * also ends when stdout breaks (its reader went away: `| head`), where oclif's
 * would wait for a drain that never comes (Node exits 13 then).
 */
async function flush() {
  // (Nothing held: no write at all. /dev/full refuses even an empty write, which made a usage error exit 3.)
  if (process.stdout.destroyed || process.stdout.writableLength === 0 || process.stdout.write('')) return;
  await new Promise((resolve) => {
    for (const event of ['drain', 'error', 'close']) process.stdout.once(event, resolve);
  });
}

/** Says `error`, which escaped every handler (see above), as failureOf classes it (a defect: exit 70), and exits. */
async function sayEscaped(error) {
  if (failing) return;
  failing = true;
  process.exitCode = 70;
  try {
    const {jsonAsked, reportFailure} = await import(at('../dist/cli/messages.js'));
    await reportFailure(error, {json: jsonAsked(argv)});
  } catch {
    process.stderr.write('keyward: internal error\n  internal error in keyward: please report it (exit 70)\n');
  }
  process.exit();
}

/**
 * oclif's runner, and the options to run it with: from dist/keyward.cjs when
 * the build made it (bin/bundle-loader.cjs), with the commands and hooks in it.
 */
function oclif() {
  const fromBundle = bundleLoader()?.oclifFromBundle(argv, damaged);
  if (fromBundle) return fromBundle;
  // A build without the bundle (tsc alone): oclif's parts from their own entry points ('@oclif/core'
  // itself loads all of oclif: docs/performance.md), the commands from dist/commands as .oclifrc says.
  return {
    run: requireHere('@oclif/core/run').run,
    handle: requireHere('@oclif/core/handle').handle,
    // (No plugins a user installs, as bundle-loader.cjs says.)
    options: {root: fileURLToPath(at('..')), userPlugins: false},
  };
}

/**
 * dist/COMMAND-fast.cjs (check, status, authorize, list): src/cli/COMMAND/run.ts and the
 * modules it needs bundled into one CommonJS file by the build (`npm run
 * bundle`, esbuild), because resolving and loading two dozen small modules
 * was a large part of a check's start-up, and loading the bundle as an ES
 * module (require() can, since Node 20.19) is slower than as CommonJS
 * (docs/performance.md). The packages it leaves out (chalk, loaded only for
 * colour) are ES modules it require()s.
 */
function fastPath(command) {
  const file = `../dist/${command}-fast.cjs`;
  try {
    // From its code cache (bin/bundle-loader.cjs), as keyward.cjs is; a copy of bin/run.js alone require()s it.
    const loader = bundleLoader();
    return loader ? loader.loadFastPath(command) : requireHere(file);
  } catch (error) {
    // A build without the bundle (tsc alone) still answers, through oclif; so does a damaged one, said once.
    if (error?.code !== 'MODULE_NOT_FOUND' && error?.code !== 'ENOENT') damaged(fileURLToPath(at(file)), error);
    return {runFast: async () => false};
  }
}

/**
 * Runs the fast path of `command` for `words` (see fastPath); true when it
 * answered, false when oclif must. A fast path says its own failures; an
 * error that still escapes it (a bundle damaged so that it loads but does
 * not run) is said as every failure is, an internal error (exit 70), never
 * a stack trace or exit 1 (`check`'s "denied"). oclif is not tried then:
 * what the fast path did before it failed is not known.
 */
async function runFastPath(command, words) {
  const runner = fastPath(command);
  try {
    return await runner.runFast(words);
  } catch (error) {
    if (failing) return true;
    failing = true;
    const {jsonAsked, reportFailure} = await import(at('../dist/cli/messages.js'));
    await reportFailure(error, {json: jsonAsked(argv)});
    return true;
  }
}

/**
 * bin/bundle-loader.cjs, or null in a copy of bin/run.js alone, or when it
 * is damaged (said once): then every fast path's bundle is require()d and
 * oclif runs the commands tsc built (dist/commands), as without the bundles.
 * Only a regular file is loaded: a FIFO in its place must not hang every command.
 */
function bundleLoader() {
  if (loader !== undefined) return loader;
  loader = null;
  const file = fileURLToPath(at('./bundle-loader.cjs'));
  try {
    if (!process.getBuiltinModule('node:fs').statSync(file).isFile()) throw new Error('not a regular file');
    const loaded = requireHere(file);
    if (!['loadFastPath', 'oclifFromBundle'].every((name) => typeof loaded?.[name] === 'function')) throw new Error('not the loader this keyward needs');
    loader = loaded;
  } catch (error) {
    // (Only its own absence, seen by the look at the file, is no loader: a require() inside it that fails is damage.)
    if (error?.code !== 'ENOENT' || error?.syscall !== 'stat') damaged(file, error);
  }
  return loader;
}

/** Says on stderr that the built file `file` cannot be loaded, and that keyward goes on without it. */
function damaged(file, error) {
  let why;
  let name = 'Error';
  try {
    why = String(error?.message ?? error)
      .split('\n')[0]
      .replace(/[^\x20-\x7e]/g, '?')
      .slice(0, 160);
    if (typeof error?.name === 'string') name = error.name.replace(/[^\x20-\x7e]/g, '?').slice(0, 40);
  } catch {
    // (Something thrown that has no text at all.)
    why = 'an error without a message';
  }
  const shown = fileURLToPath(at('..'));
  process.stderr.write(
    `keyward: ${file.startsWith(shown) ? file.slice(shown.length) : file} cannot be loaded (${name}: ${why}); going on without it\n  reinstall keyward to mend the installation\n`,
  );
}

/**
 * The environment as keyward and oclif read it (docs/choices.md, "The
 * environment"), settled before either reads it:
 * - an empty or relative HOME is no HOME: os.homedir() takes '' (or `.`) and
 *   the store went to the working folder's or /tmp's .local/share, which
 *   other users may write; without it the user's home folder is looked up
 *   (and a user with none is told to set HOME);
 * - a relative XDG_*_HOME is ignored, as the XDG specification says (the
 *   store would be another one in every folder).
 */
function settleEnvironment(env) {
  const {isAbsolute} = process.getBuiltinModule('node:path');
  // (A relative HOME, `HOME=.`, is the working folder's too.)
  if (env.HOME !== undefined && !isAbsolute(env.HOME)) delete env.HOME;
  for (const name of ['XDG_DATA_HOME', 'XDG_CONFIG_HOME', 'XDG_CACHE_HOME']) if (env[name] !== undefined && !isAbsolute(env[name])) delete env[name];
}

/**
 * Before oclif starts (the fast paths never need it): with SHELL unset,
 * oclif asks the user database for the login shell, which fails every
 * command of a user id it has no entry for (a container's `--user 1000`):
 * SHELL is then set empty, which oclif takes as an unknown shell.
 */
function shellForOclif(env) {
  if (env.SHELL !== undefined || process.platform === 'win32') return;
  try {
    process.getBuiltinModule('node:os').userInfo();
  } catch {
    env.SHELL = '';
  }
}

/**
 * The command line with the global flags an operator may put before the
 * command (`keyward --store s.json status`, `keyward --json keys list`)
 * moved to its end (before a `--`), where oclif reads every command's flags.
 */
function globalFlagsAfter(words) {
  const moved = [];
  let i = 0;
  while (i < words.length) {
    if (words[i] === '--json') moved.push(words[i++]);
    else if (words[i].startsWith('--store=')) moved.push(words[i++]);
    else if (words[i] === '--store' && i + 1 < words.length) moved.push(words[i++], words[i++]);
    else break;
  }
  if (moved.length === 0 || i === words.length) return words;
  const rest = words.slice(i);
  const end = rest.indexOf('--');
  return end < 0 ? [...rest, ...moved] : [...rest.slice(0, end), ...moved, ...rest.slice(end)];
}

/**
 * Whether the words after `check` ask for help (`-h`, `--help`, before any
 * `--`) and also give KEY and at least one address: then it is not a request
 * for help but a word that should have been an address.
 */
function helpAmongAddresses(words) {
  let help = false;
  let positional = 0;
  for (let i = 0; i < words.length; i++) {
    const word = words[i];
    if (word === '--') break;
    if (word === '-h' || word === '--help') help = true;
    else if (word === '--store' || word === '--expect' || word === '--print') i++;
    else if (word === '-' || !word.startsWith('-')) positional++;
  }
  return help && positional >= 2;
}
