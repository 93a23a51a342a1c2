/**
 * `status`, run: the one runner behind both the oclif command
 * (src/commands/status.ts) and bin/run.js's fast path, which answers a plain
 * `keyward status [--json] [--store PATH]` without loading oclif (bundled
 * into dist/status-fast.cjs, as check's runner is into dist/check-fast.cjs).
 * Any other command line goes to oclif, so that help, flag errors and their
 * exit codes stay oclif's.
 */
import {statusJson, StatusJson} from '../../core/reports.js';
import {readStoreSummary} from '../../store/read.js';
import {now} from '../clock.js';
import {jsonText, reportFailure} from '../messages.js';
import {nameStoreInWaysOut} from '../notify.js';
import {parseReadArgv} from '../plain-argv.js';
import {dataDir, storeFileOf} from '../store-path.js';
import {renderStatus} from '../views.js';
import {write} from '../write.js';

/** The report of the store at `storeFile` at `at`, and its human rendering. */
export async function statusReport(storeFile: string, at: Date): Promise<{status: StatusJson; human: () => Promise<string>}> {
  // Not the whole store: a store keyward wrote has its account list counted, not parsed (see readStoreSummary).
  const {data, account} = await readStoreSummary(storeFile);
  const status = statusJson(data, storeFile, at, account ?? undefined);
  return {status, human: () => renderStatus(status, data, at)};
}

/**
 * bin/run.js's fast path: runs `status` for `argv` (the words after
 * `status`) and returns true, or returns false, having done nothing, when
 * oclif must run it (see parseReadArgv). Output and failures as the oclif command gives them.
 */
export async function runFast(argv: readonly string[]): Promise<boolean> {
  const request = parseReadArgv(argv);
  if (request === null) return false;
  try {
    const storeFile = storeFileOf(request.store, () => dataDir());
    nameStoreInWaysOut(request.store);
    const {status, human} = await statusReport(storeFile, now());
    const text = request.json ? jsonText(status) : await human();
    // (As the command's printHuman: an empty rendering prints nothing.)
    if (request.json || text.length > 0) await write(process.stdout, request.json ? text : `${text}\n`);
  } catch (error) {
    await reportFailure(error, {json: request.json});
  }
  return true;
}
