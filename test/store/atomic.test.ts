/** The atomic writer's batched writes (store/atomic.ts): every byte written once, in order, however short each call writes. */
import {mkdtempSync, readFileSync, rmSync} from 'node:fs';
import type {promises as fs} from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import {expect} from 'chai';
import fc from 'fast-check';

import {writeAll, writeFileAtomic} from '../../src/store/atomic.js';

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
});
