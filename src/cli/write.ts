/** Writing to a stream with backpressure: the one helper every output path uses. */

/** Writes to a stream, waiting for it to drain when its buffer is full. */
export function write(stream: NodeJS.WritableStream, text: string | Uint8Array): Promise<void> | void {
  if (!stream.write(text)) return new Promise((resolve) => stream.once('drain', () => resolve()));
  return undefined;
}
