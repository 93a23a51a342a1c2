/**
 * Output as bytes in blocks filled in place and written with backpressure,
 * each block kept to fill again once the output is done with it
 * (check/README.md says when that is): `check`'s decisions and `list
 * --json`'s rows written from the store file's bytes. A block filled anew
 * each time was memory touched for the first time, slow on some machines
 * (docs/performance.md).
 */
import {viewOf} from './check/outcomes.js';
import {write} from './write.js';

/** Output is written in blocks of about this many bytes (and, for check's line formats, whenever input pauses). */
export const BLOCK_BYTES = 1 << 18;

export class OutputBlocks {
  /** The block being filled, up to `at`. */
  buffer: Buffer = Buffer.allocUnsafe(BLOCK_BYTES);
  view = viewOf(this.buffer);
  at = 0;
  /** A write waiting for the output to drain, to be awaited (awaitWrite) before the next decision. */
  pending: Promise<void> | void = undefined;
  /** Blocks the output is done with, to be filled again. */
  private readonly spare: Buffer[] = [];

  constructor(private readonly out: NodeJS.WritableStream) {}

  /** Makes room for `length` more bytes, writing the block when it is full. */
  reserve(length: number): void {
    if (this.at + length <= this.buffer.length) return;
    const full = this.buffer;
    const block = full.subarray(0, this.at);
    this.buffer = length <= BLOCK_BYTES ? this.emptyBlock() : Buffer.allocUnsafe(length);
    this.view = viewOf(this.buffer);
    this.at = 0;
    if (block.length === 0) return;
    const written = this.writeBlock(full, block);
    if (written !== undefined) this.pending = this.pending === undefined ? written : Promise.all([this.pending, written]).then(() => undefined);
  }

  /** Waits for the output to drain when a write asked to. */
  async awaitWrite(): Promise<void> {
    if (this.pending !== undefined) {
      const waiting = this.pending;
      this.pending = undefined;
      await waiting;
    }
  }

  /** Writes what is in the block so far. */
  async flush(): Promise<void> {
    await this.awaitWrite();
    if (this.at === 0) return;
    const full = this.buffer;
    const block = full.subarray(0, this.at);
    this.buffer = this.emptyBlock();
    this.view = viewOf(this.buffer);
    this.at = 0;
    await this.writeBlock(full, block);
  }

  /** An empty block of BLOCK_BYTES, one the output is done with when there is one. */
  private emptyBlock(): Buffer {
    return this.spare.pop() ?? Buffer.allocUnsafe(BLOCK_BYTES);
  }

  /**
   * Writes `block`, the start of `full`, and keeps `full` to fill again once
   * the output is done with it: at once when the output holds nothing after
   * the write (a file, or a pipe that took it all), else at its callback.
   */
  private writeBlock(full: Buffer, block: Buffer): Promise<void> | void {
    if (full.length !== BLOCK_BYTES) return write(this.out, block);
    let kept = false;
    const keep = () => {
      if (!kept) this.spare.push(full);
      kept = true;
    };
    const written = write(this.out, block, keep);
    if ((this.out as {writableLength?: number}).writableLength === 0) keep();
    return written;
  }
}
