/**
 * `list --json`, run: the JSON listing behind both the oclif command
 * (src/commands/list.ts) and bin/run.js's fast path, which answers a plain
 * `keyward list --json [--store PATH]` without loading oclif (bundled into
 * dist/list-fast.cjs, as status's runner is into dist/status-fast.cjs):
 * oclif's start-up was a sixth of a 100,000-entry listing (issue 15). Any
 * other command line goes to oclif, so that help, flag errors, filters, the
 * table and their exit codes stay oclif's.
 */
import {keyScopes, ListScope, listScopes} from '../../core/reports.js';
import {listJsonChunks, RowBytes} from '../../core/render/list-json.js';
import {holdsJsonRaw} from '../../core/render/text.js';
import {KeyRecord} from '../../core/model.js';
import {AccountRecords, NOT_LAID_OUT, RECORD} from '../../store/account-text.js';
import {readStore, readStoreForListing} from '../../store/read.js';
import {now} from '../clock.js';
import {reportFailure} from '../messages.js';
import {nameStoreInWaysOut} from '../notify.js';
import {parseReadArgv} from '../plain-argv.js';
import {OutputBlocks} from '../output-blocks.js';
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
 * Prints what printListJson prints for the scopes of a store whose account
 * list's text is `accountText` and whose keys are `keys` (see
 * readStoreForListing): that list's rows written from the text's bytes.
 * Returns false, having printed nothing, when that text is not laid out as
 * keyward writes it.
 */
async function printListJsonFromText(keys: readonly KeyRecord[], accountText: Uint8Array): Promise<boolean> {
  // Once through the text first: nothing is printed of a list whose end turns out not to be as keyward writes it.
  const check = new AccountRecords(accountText);
  let found: number;
  while ((found = check.next()) === RECORD);
  // (A label with a C1 control or a bidi override is written escaped, as JSON.stringify leaves it raw: by the row writer.)
  if (found === NOT_LAID_OUT || holdsJsonRaw(accountText)) return false;
  const records = new AccountRecords(accountText);
  const rows = new RowBytes('account');
  const output = new OutputBlocks(process.stdout);
  let count = 0;
  while (records.next() === RECORD) {
    output.reserve(2 + rows.length(records.spans, records.flags));
    // `[` and a line break before the first row, a comma and a line break between rows.
    const out = output.buffer;
    out[output.at++] = count++ === 0 ? 0x5b : 0x2c;
    out[output.at++] = 0x0a;
    output.at = rows.put(out, output.at, accountText, records.spans, records.flags);
    if (output.pending !== undefined) await output.awaitWrite();
  }
  await output.flush();
  // The keys' lists, and the array's end.
  for (const chunk of listJsonChunks(keyScopes(keys), count > 0)) await write(process.stdout, chunk);
  return true;
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
    // A store keyward wrote: its account list's rows from the file's bytes, unparsed (issue 15); else as oclif's command lists.
    const listed = await readStoreForListing(storeFile);
    if (listed.accountText === null) await printListJson(listScopes(listed.data));
    else if (!(await printListJsonFromText(listed.keys, listed.accountText))) await printListJson(listScopes(await readStore(storeFile)));
  } catch (error) {
    await reportFailure(error, {json: true});
  }
  return true;
}
