/**
 * Where the store is: `--store`, else $KEYWARD_STORE, else store.json in the
 * data directory. The data directory is oclif's `config.dataDir`, computed
 * here the way @oclif/core computes it (config.ts `dir('data')`), so that
 * check's fast path, which does not load oclif, finds the same file; a test
 * holds the two to agreement.
 */
import os from 'node:os';
import path from 'node:path';
import {InputError, KeywardError, show} from '../core/errors.js';

/** `bin` and `dirname` in .oclifrc. */
const BIN = 'keyward';
const DIRNAME = 'keyward';

/** oclif's data directory for keyward under `env` on `platform`. */
export function dataDir(env: NodeJS.ProcessEnv = process.env, platform: NodeJS.Platform = process.platform): string {
  // scopedEnvVar('DATA_DIR'): the first of the bin's variables that is set and not empty.
  const scoped = env[`${BIN.toUpperCase()}_DATA_DIR`];
  if (scoped) return scoped;
  const windows = platform === 'win32';
  const windowsHome = () => (env.HOMEDRIVE && env.HOMEPATH && path.join(env.HOMEDRIVE, env.HOMEPATH)) || env.USERPROFILE;
  const home = env.HOME || (windows && windowsHome()) || homeFolder() || os.tmpdir();
  const base = env.XDG_DATA_HOME || (windows && env.LOCALAPPDATA) || path.join(home, '.local/share');
  return path.join(base, windows ? DIRNAME.replace('/', '\\') : DIRNAME);
}

/**
 * The store file: `flag` (--store), else $KEYWARD_STORE, else store.json in
 * the data directory. An empty --store (`--store "$STORE"` with $STORE unset)
 * is a usage error: resolved, it would name the working folder. An empty
 * $KEYWARD_STORE is as good as unset.
 */
export function storeFileOf(flag: string | undefined, dataDirectory: () => string): string {
  if (flag === '') throw new InputError('--store needs a path: it was given empty', 'give the store file, or leave --store out (KEYWARD_STORE, else the data directory)');
  const fromEnv = process.env.KEYWARD_STORE;
  const given = flag ?? (fromEnv ? fromEnv : path.join(dataDirectory(), 'store.json'));
  const file = absolute(given);
  if (file === null) {
    throw new KeywardError(
      'store',
      `cannot find the store ${show(given)}: it is relative to the working folder, which no longer exists`,
      'cd to a folder that exists, or name the store by its absolute path',
    );
  }
  return file;
}

/**
 * `given` as an absolute path, against the working folder when it is
 * relative; null when it is relative and the working folder no longer
 * exists (deleted under the shell that is in it), where Node cannot say
 * what the working folder is.
 */
export function absolute(given: string): string | null {
  if (path.isAbsolute(given)) return path.resolve(given);
  let cwd: string;
  try {
    cwd = process.cwd();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
  return path.resolve(cwd, given);
}

/** Whether the operator named the store (`--store` or $KEYWARD_STORE): keyward then creates no folder for it. */
export function storePathGiven(flag: string | undefined): boolean {
  return flag !== undefined || Boolean(process.env.KEYWARD_STORE);
}

/** The user's home folder (os.homedir), or the store error of noHome when there is none to find. */
function homeFolder(): string {
  try {
    return os.homedir();
  } catch {
    throw noHome();
  }
}

/**
 * What keyward says when the data directory cannot be found: no $HOME, and
 * no home folder for the user (a container's uid without an entry in the
 * user database), where os.homedir fails (oclif's own start fails the same
 * way: messages.ts says this then too). A store error (exit 3).
 */
export function noHome(): KeywardError {
  return new KeywardError(
    'store',
    'cannot find the data directory: $HOME is not set (or is empty) and this user has no home folder',
    // (Naming the store is not enough: oclif's own start needs the data directory, on every command it runs.)
    'set HOME to a folder this user may use\n--store and KEYWARD_STORE are not enough: only a plain check, status, authorize ENTRY... or list --json runs without it',
  );
}

/** Whether `error` is os.homedir's failure to find a home folder (see noHome). */
export function isNoHome(error: unknown): boolean {
  return (error as {code?: string; info?: {syscall?: string}} | null)?.code === 'ERR_SYSTEM_ERROR' && (error as {info?: {syscall?: string}}).info?.syscall === 'uv_os_homedir';
}
