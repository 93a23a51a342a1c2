/**
 * Where the store is: `--store`, else $KEYWARD_STORE, else store.json in the
 * data directory. The data directory is oclif's `config.dataDir`, computed
 * here the way @oclif/core computes it (config.ts `dir('data')`), so that
 * check's fast path, which does not load oclif, finds the same file; a test
 * holds the two to agreement.
 */
import os from 'node:os';
import path from 'node:path';

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
  const home = env.HOME || (windows && windowsHome()) || os.homedir() || os.tmpdir();
  const base = env.XDG_DATA_HOME || (windows && env.LOCALAPPDATA) || path.join(home, '.local/share');
  return path.join(base, windows ? DIRNAME.replace('/', '\\') : DIRNAME);
}

/** The store file: `flag` (--store), else $KEYWARD_STORE, else store.json in the data directory. */
export function storeFileOf(flag: string | undefined, dataDirectory: () => string): string {
  const fromEnv = process.env.KEYWARD_STORE;
  return path.resolve(flag ?? (fromEnv ? fromEnv : path.join(dataDirectory(), 'store.json')));
}

/** Whether the operator named the store (`--store` or $KEYWARD_STORE): keyward then creates no folder for it. */
export function storePathGiven(flag: string | undefined): boolean {
  return flag !== undefined || Boolean(process.env.KEYWARD_STORE);
}
