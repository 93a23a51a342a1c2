/**
 * A progress line on stderr while a large input is read: bytes against the
 * file's size when it is known, else lines and rate. Drawn only when stderr
 * is a terminal (never in a pipe, a log or a CI job), at most ten times a
 * second, not before the reading has lasted a moment, and erased at the end.
 */
import {fstatSync, statSync} from 'node:fs';
import {isQuiet} from './quiet.js';

/** Where a progress line is drawn: a terminal stream, or a fake one in tests. */
export interface ProgressStream {
  isTTY?: boolean;
  columns?: number;
  write(text: string): unknown;
}

export interface ProgressOptions {
  /** The total in bytes, when known (a regular file). */
  total?: number | null;
  stream?: ProgressStream;
  /** Milliseconds since some origin; a fake clock in tests. */
  clock?: () => number;
  /** No line is drawn before the reading has lasted this long, so short inputs never flash one. */
  delayMs?: number;
  /** The least time between two redraws. */
  intervalMs?: number;
}

/** What a reader reports as it goes. */
export interface ProgressSink {
  /** `bytes` and `lines` read so far, in all. */
  update(bytes: number, lines: number): void;
  /** Erases the line, if one was drawn. */
  done(): void;
}

/** A sink that draws nothing: what readers get when stderr is not a terminal. */
export const NO_PROGRESS: ProgressSink = {update() {}, done() {}};

export interface ProgressState {
  label: string;
  bytes: number;
  lines: number;
  total: number | null;
  elapsedMs: number;
  /** Columns available; the line is kept one shorter so that it never wraps. */
  width: number;
}

const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];

/** 1536 → "1.5 KiB". */
export function formatBytes(bytes: number): string {
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < UNITS.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${value} B` : `${value.toFixed(1)} ${UNITS[unit]}`;
}

/**
 * The progress line for a state, fitted to the width: when the total is known,
 * label, bar, percentage, bytes of total, rate and lines, dropping lines, then
 * rate, then bytes when the bar would be narrower than 10 columns; else label,
 * bytes, rate and lines. The numbers are padded and the layout depends only on
 * the label and width, so the bar keeps its size from one redraw to the next.
 */
export function renderProgress(s: ProgressState): string {
  const room = Math.max(0, s.width - 1);
  const seconds = s.elapsedMs / 1000;
  const rate = `${(seconds > 0 ? formatBytes(Math.round(s.bytes / seconds)) : '-').padStart(10)}/s`;
  const lines = `${s.lines.toLocaleString('en-US')} lines`;
  const join = (parts: string[]) => parts.join('  ');
  const fit = (text: string) => (text.length <= room ? text : room === 0 ? '' : `${text.slice(0, room - 1)}…`);
  if (s.total === null || s.total <= 0) return fit(join([s.label, formatBytes(s.bytes), rate.trimStart(), lines]));

  const fraction = Math.min(1, s.bytes / s.total);
  const percent = `${String(Math.floor(fraction * 100)).padStart(3)}%`;
  const sizes = `${formatBytes(s.bytes).padStart(10)} / ${formatBytes(s.total)}`;
  // Widths reserved for the parts that follow the bar, widest first; "lines" is given 16 columns.
  const layouts: [string[], number][] = [
    [[percent, sizes, rate, lines], percent.length + sizes.length + rate.length + 16 + 8],
    [[percent, sizes, rate], percent.length + sizes.length + rate.length + 6],
    [[percent, sizes], percent.length + sizes.length + 4],
    [[percent], percent.length + 2],
  ];
  for (const [parts, reserved] of layouts) {
    const barWidth = Math.min(30, room - s.label.length - 2 - reserved - 2);
    if (barWidth >= 10) {
      const filled = Math.round(fraction * barWidth);
      return fit(join([s.label, `[${'#'.repeat(filled)}${'-'.repeat(barWidth - filled)}]`, ...parts]));
    }
  }
  return fit(join([s.label, percent]));
}

/** A progress line on a terminal stream, redrawn in place. */
export class ProgressBar implements ProgressSink {
  private readonly stream: ProgressStream;
  private readonly clock: () => number;
  private readonly started: number;
  private readonly delayMs: number;
  private readonly intervalMs: number;
  private lastDraw = Number.NEGATIVE_INFINITY;
  private drawn = false;
  private bytes = 0;
  private lines = 0;

  constructor(
    private readonly label: string,
    private readonly options: ProgressOptions = {},
  ) {
    this.stream = options.stream ?? process.stderr;
    this.clock = options.clock ?? (() => performance.now());
    this.started = this.clock();
    this.delayMs = options.delayMs ?? 300;
    this.intervalMs = options.intervalMs ?? 100;
  }

  update(bytes: number, lines: number): void {
    this.bytes = bytes;
    this.lines = lines;
    const now = this.clock();
    if (now - this.started < this.delayMs || now - this.lastDraw < this.intervalMs) return;
    this.lastDraw = now;
    this.draw(now);
  }

  done(): void {
    // \r and erase-line: the terminal is left as it was, for the messages that follow.
    if (this.drawn) this.stream.write('\r\u001b[2K');
    this.drawn = false;
  }

  private draw(now: number): void {
    const line = renderProgress({
      label: this.label,
      bytes: this.bytes,
      lines: this.lines,
      total: this.options.total ?? null,
      elapsedMs: now - this.started,
      // A pseudo-terminal with no size reports 0 columns.
      width: this.stream.columns || 80,
    });
    this.stream.write(`\r${line}\u001b[K`);
    this.drawn = true;
  }
}

/** Whether a progress line suits `stream`: a terminal that can move its cursor. */
export function progressWanted(stream: ProgressStream = process.stderr): boolean {
  return stream.isTTY === true && process.env.TERM !== 'dumb';
}

/**
 * The size of what `source` reads, when it is a regular file: a path, a
 * stream opened on one (fs.createReadStream), or stdin redirected from one.
 */
export function sizeOf(source: string | {path?: unknown; fd?: unknown} | NodeJS.ReadableStream): number | null {
  try {
    if (typeof source === 'string') {
      const stat = statSync(source);
      return stat.isFile() ? stat.size : null;
    }
    if (source === process.stdin) {
      const stat = fstatSync(0);
      return stat.isFile() ? stat.size : null;
    }
    const {path} = source as {path?: unknown};
    if (typeof path === 'string') {
      const stat = statSync(path);
      return stat.isFile() ? stat.size : null;
    }
  } catch {
    // An unreadable source has no size to show; reading it reports the error.
  }
  return null;
}

/**
 * A progress line for reading `source` on stderr, or NO_PROGRESS when stderr
 * is not a terminal. The one call a command needs:
 * `eachLine(stream, onLine, {progress: startProgress('sync allowlist.txt', stream)})`.
 */
export function startProgress(label: string, source?: Parameters<typeof sizeOf>[0], options: ProgressOptions = {}): ProgressSink {
  const stream = options.stream ?? process.stderr;
  if (isQuiet() || !progressWanted(stream)) return NO_PROGRESS;
  return new ProgressBar(label, {total: source === undefined ? null : sizeOf(source), ...options, stream});
}
