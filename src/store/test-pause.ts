/**
 * Test-only pauses. With the environment variable `variable` set to a folder
 * DIR, `testPause` creates DIR/`mark` and waits (at most 30 s) for
 * DIR/resume, which it removes (a pause met again waits for a resume of its
 * own), so that a test can act in exactly that gap (replace the store a
 * writer just renamed; edit the store a reader is half way through). They
 * only delay; nothing else reads these variables.
 */
import {promises as fs} from 'node:fs';
import path from 'node:path';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export async function testPause(
  variable:
    | 'KEYWARD_TEST_PAUSE_AFTER_RENAME'
    | 'KEYWARD_TEST_PAUSE_BEFORE_WRITE'
    | 'KEYWARD_TEST_PAUSE_STATUS_READ'
    | 'KEYWARD_TEST_PAUSE_STORE_READ'
    | 'KEYWARD_TEST_PAUSE_SERVE_COMMITTED',
  mark: string,
): Promise<void> {
  const dir = process.env[variable];
  if (!dir) return;
  await fs.writeFile(path.join(dir, mark), '');
  const resume = path.join(dir, 'resume');
  for (const end = Date.now() + 30_000; Date.now() < end; await sleep(5)) {
    if (
      await fs.rm(resume).then(
        () => true,
        () => false,
      )
    )
      return;
  }
}
