/**
 * The command line of a plain read, as the fast paths of `status` and `list
 * --json` take it (bin/run.js): only `--json` and `--store PATH`
 * (`--store=PATH`), each at most once, the path a word that is not empty and
 * does not start with `-`. Anything else (help, another flag, an argument,
 * `--`) is null: oclif must handle it, so that help, flag errors and their
 * exit codes stay oclif's.
 */
export function parseReadArgv(argv: readonly string[]): {store?: string; json: boolean} | null {
  let json = false;
  let store: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const word = argv[i];
    if (word === '--json' && !json) json = true;
    else if ((word === '--store' || word.startsWith('--store=')) && store === undefined) {
      const value = word === '--store' ? argv[++i] : word.slice('--store='.length);
      if (value === undefined || value.length === 0 || value.startsWith('-')) return null;
      store = value;
    } else return null;
  }
  return {store, json};
}
