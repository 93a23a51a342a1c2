/** The atomic writer's batched writes (store/atomic.ts): every byte written once, in order, however short each call writes. */
import {mkdtempSync, readFileSync, rmSync} from 'node:fs';
import type {promises as fs} from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import {expect} from 'chai';
import fc from 'fast-check';

import {withoutTemporaryNames, writeAll, writeFileAtomic} from '../../src/store/atomic.js';

describe('store/atomic: writes in batches', () => {
  it('writeAll writes every part whole and in order when each call writes only some of it', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.uint8Array({maxLength: 40}), {minLength: 1, maxLength: 12}), fc.integer({min: 1, max: 30}), async (parts, most) => {
        const out: number[] = [];
        const handle = {
          writev: async (buffers: Uint8Array[]) => {
            let written = 0;
            for (const b of buffers) for (const byte of b) if (written < most && ++written) out.push(byte);
            return {bytesWritten: written, buffers};
          },
        } as unknown as fs.FileHandle;
        const length = parts.reduce((sum, p) => sum + p.length, 0);
        await writeAll(handle, parts.slice(), length);
        expect(Buffer.from(out).equals(Buffer.concat(parts))).to.equal(true);
      }),
    );
  });

  it('writeFileAtomic writes pieces made as they are asked for, strings and bytes, as one text', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'keyward-atomic-'));
    try {
      const file = path.join(dir, 'out');
      const pieces = ['a', 'é', Buffer.from('bc'), '', 'x'.repeat(3 << 20), 'z'];
      await writeFileAtomic(
        file,
        (async function* () {
          yield* pieces;
        })(),
      );
      expect(readFileSync(file, 'utf8')).to.equal(`aébc${'x'.repeat(3 << 20)}z`);
    } finally {
      rmSync(dir, {recursive: true, force: true});
    }
  });

  it('writeFileAtomic writes every piece once and in order through its reused block, whatever their sizes and characters', async () => {
    // Pieces around the block's limits (a text is encoded into the block when three bytes a unit fit what is left of it,
    // alone past a quarter of it), of one-, two-, three- and four-byte characters, between pieces of bytes.
    const unit = fc.constantFrom('a', '\n', 'é', '€', '😀', '\ud800');
    const text = fc.oneof(
      {weight: 2, arbitrary: fc.string({unit, maxLength: 40})},
      // Held in the block until a megabyte is (pieces under 64 KiB), then larger ones, some too large for the room left.
      {weight: 8, arbitrary: fc.tuple(unit, fc.integer({min: 8_000, max: 21_000})).map(([u, n]) => u.repeat(Math.ceil(n / u.length)))},
      {weight: 2, arbitrary: fc.tuple(unit, fc.integer({min: 1, max: 600_000})).map(([u, n]) => u.repeat(Math.ceil(n / u.length)))},
    );
    const piece = fc.oneof({weight: 5, arbitrary: text}, {weight: 1, arbitrary: fc.integer({min: 0, max: 300_000}).map((n) => Buffer.alloc(n, 0x62))});
    const dir = mkdtempSync(path.join(os.tmpdir(), 'keyward-atomic-'));
    try {
      const file = path.join(dir, 'out');
      await fc.assert(
        fc.asyncProperty(fc.array(piece, {minLength: 10, maxLength: 120}), async (pieces) => {
          await writeFileAtomic(
            file,
            (async function* () {
              yield* pieces;
            })(),
          );
          const expected = Buffer.concat(pieces.map((p) => (typeof p === 'string' ? Buffer.from(p, 'utf8') : p)));
          expect(readFileSync(file).equals(expected)).to.equal(true);
        }),
        {numRuns: 40},
      );
    } finally {
      rmSync(dir, {recursive: true, force: true});
    }
  });
});

describe('store/atomic: the names of its temporary files', () => {
  it('withoutTemporaryNames makes two failures of one write read the same (serve says a failure once), and leaves other text alone', () => {
    // A writer's temporary file is `.NAME.PID.MS.tmp` beside NAME: each commit's failure names another.
    const failure = (pid: number, ms: number) => `EPERM: operation not permitted, rename '/srv/kw/.store.json.${pid}.${ms}.tmp' -> '/srv/kw/store.json'`;
    expect(failure(123, 1764000000000)).not.to.equal(failure(456, 1764000000009));
    expect(withoutTemporaryNames(failure(123, 1764000000000))).to.equal(withoutTemporaryNames(failure(456, 1764000000009)));
    for (const other of ['ENOSPC: no space left on device, write', "EACCES: permission denied, open '/srv/kw/store.json'", 'cannot write /srv/kw/v1.2.tmp.json']) {
      expect(withoutTemporaryNames(other)).to.equal(other);
    }
  });
});
