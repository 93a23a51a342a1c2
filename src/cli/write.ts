/** Writing to a stream with backpressure: the one helper every output path uses. */

/**
 * Writes to a stream, waiting for it to drain when its buffer is full;
 * `done` is called once the stream is done with `text` (written, or failed).
 * A stream that broke (its reader went away: `| head`) never drains: the wait
 * ends then too, so that the command finishes instead of waiting forever
 * (Node would exit 13 for the unsettled wait).
 */
export function write(stream: NodeJS.WritableStream, text: string | Uint8Array, done?: () => void): Promise<void> | void {
  if (stream.write(text, done === undefined ? undefined : () => done())) return undefined;
  if ((stream as {destroyed?: boolean}).destroyed) return undefined;
  return new Promise((resolve) => {
    const settle = () => {
      stream.removeListener('drain', settle);
      stream.removeListener('error', settle);
      stream.removeListener('close', settle);
      resolve();
    };
    stream.once('drain', settle);
    stream.once('error', settle);
    stream.once('close', settle);
  });
}

/**
 * Writes `text` to `stream` and resolves once the stream has taken it (for a
 * file or a full disk: written; for a pipe: handed to the kernel), or rejects
 * with the write's error (ENOSPC, EPIPE, EBADF). For output that must be known
 * delivered before anything is committed: a new key's secret.
 */
export function deliver(stream: NodeJS.WritableStream, text: string): Promise<void> {
  return new Promise((resolve, reject) => {
    let failed: Error | null = null;
    // The error is also emitted as an event, and oclif's listener on stdout throws it (all but EPIPE):
    // while this write is out, the only listener is this one.
    const others = stream.listeners('error') as ((error: Error) => void)[];
    const onError = (error: Error) => (failed ??= error);
    stream.removeAllListeners('error');
    stream.on('error', onError);
    const afterWrite = (error: Error | null) => {
      if (error) {
        // The stream is broken: its error event (emitted after this callback) and any later one are
        // this failure, already reported; oclif's listeners stay off.
        reject(error);
        return;
      }
      stream.removeListener('error', onError);
      for (const listener of others) stream.on('error', listener);
      resolve();
    };
    try {
      stream.write(text, (error?: Error | null) => afterWrite(error ?? failed));
    } catch (error) {
      afterWrite(error as Error);
    }
  });
}
