/**
 * `list --json`, run: the JSON listing behind both the oclif command
 * (src/commands/list.ts) and bin/run.js's fast path, which answers a plain
 * `keyward list --json [--store PATH]` without loading oclif (bundled into
 * dist/list-fast.cjs, as status's runner is into dist/status-fast.cjs):
 * oclif's start-up was a sixth of a 100,000-entry listing (issue 15). Any
 * other command line goes to oclif, so that help, flag errors, filters, the
 * table and their exit codes stay oclif's.
 */
import {ListScope, listScopes} from '../../core/reports.js';
import {listJsonChunks} from '../../core/render/list-json.js';
import {readStore} from '../../store/read.js';
import {now} from '../clock.js';
import {reportFailure} from '../messages.js';
import {nameStoreInWaysOut} from '../notify.js';
import {parseReadArgv} from '../plain-argv.js';
import {dataDir, storeFileOf} from '../store-path.js';
import {write} from '../write.js';

/**
 * Prints the JSON array of the scopes' records on stdout as it is made, a
 * slice of the records at a time: the text logJson would print for listJson(scopes).
 */
export async function printListJson(scopes: readonly ListScope[]): Promise<void> {
  for (const chunk of listJsonChunks(scopes)) await write(process.stdout, chunk);
}

/**
 * bin/run.js's fast path: runs `list` for `argv` (the words after `list`)
 * and returns true when they are `--json` with at most `--store PATH` (see
 * parseReadArgv), or returns false, having done nothing, when oclif must run
 * it. Output and failures as the oclif command gives them.
 */
export async function runFast(argv: readonly string[]): Promise<boolean> {
  const request = parseReadArgv(argv);
  if (request === null || !request.json) return false;
  try {
    const storeFile = storeFileOf(request.store, () => dataDir());
    nameStoreInWaysOut(request.store);
    // The clock is read as every command reads it (a bad KEYWARD_NOW is refused), though the listing does not use it.
    now();
    await printListJson(listScopes(await readStore(storeFile)));
  } catch (error) {
    await reportFailure(error, {json: true});
  }
  return true;
}
