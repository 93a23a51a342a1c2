/** Writing to a stream with backpressure: the one helper every output path uses. */

/**
 * Writes to a stream, waiting for it to drain when its buffer is full;
 * `done` is called once the stream is done with `text` (written, or failed).
 */
export function write(stream: NodeJS.WritableStream, text: string | Uint8Array, done?: () => void): Promise<void> | void {
  if (!stream.write(text, done === undefined ? undefined : () => done())) return new Promise((resolve) => stream.once('drain', () => resolve()));
  return undefined;
}
