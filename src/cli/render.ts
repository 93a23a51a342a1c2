/**
 * Human output: colour that disappears under NO_COLOR or off a terminal, and
 * tables — aligned columns on a terminal, tab-separated values in a pipe
 * (docs/contract.md "Output shapes"). chalk is loaded only when a command
 * renders.
 */
import type {ChalkInstance} from 'chalk';

/** Whether colour suits `stream`: never under NO_COLOR, always under FORCE_COLOR, else on a terminal that is not TERM=dumb. */
export function colourWanted(stream: NodeJS.WriteStream): boolean {
  if (process.env.NO_COLOR !== undefined && process.env.NO_COLOR !== '') return false;
  const force = process.env.FORCE_COLOR;
  if (force !== undefined) return force !== '0' && force !== 'false';
  return Boolean(stream.isTTY) && process.env.TERM !== 'dumb';
}

/** chalk at level 0 (no colour): every style gives its text back as chalk would. */
function plainStyle(...text: unknown[]): string {
  return text.length === 1 ? `${text[0]}` : text.join(' ');
}

const MODEL_STYLES = new Set(['rgb', 'hex', 'ansi256', 'bgRgb', 'bgHex', 'bgAnsi256']);

export const plain: ChalkInstance = new Proxy(plainStyle, {
  get: (_target, name) => {
    // Not a promise: `await` must not take it for one.
    if (typeof name !== 'string' || name === 'then') return undefined;
    if (name === 'level') return 0;
    if (name === 'visible') return () => '';
    return MODEL_STYLES.has(name) ? () => plain : plain;
  },
}) as unknown as ChalkInstance;

/** A chalk for `stream`; when colour is not wanted, plain text without loading chalk (a start-up cost, docs/performance.md). */
export async function paint(stream: NodeJS.WriteStream = process.stdout): Promise<ChalkInstance> {
  if (!colourWanted(stream)) return plain;
  const {Chalk} = await import('chalk');
  return new Chalk({level: 1});
}

/** Colour codes (SGR): they take no room on the screen. */
const SGR = /\u001b\[[0-9;]*m/g;

/** Columns a line of text takes on the screen (colour codes excluded). */
export function visibleLength(line: string): number {
  return line.replace(SGR, '').length;
}

/** How a cell is coloured on a terminal (never in a pipe). */
export type Tone = 'red' | 'green' | 'yellow' | 'dim';

/** A value in a pipe: null is an empty field, booleans are true/false. */
export type FieldValue = string | number | boolean | null;

/**
 * One column of a table. In a pipe it is a TSV field named after the --json
 * field it holds; on a terminal a column headed `head`, whose text wraps at
 * spaces (never inside a word: an address, a key name, a date) and breaks at
 * `\n`. NBSP (U+00A0) joins words that must stay on one line ("in 3 d").
 */
export interface Column<R> {
  /** The heading on a terminal ("added (UTC)"); a column with only `field` is for pipes only. */
  head?: string;
  /** The TSV header (the --json field: "addedAt"); a column with only `head` is for terminals only. */
  field?: string;
  /** The value in a pipe. */
  value?: (row: R) => FieldValue;
  /** The text on a terminal; default: the value as text. */
  text?: (row: R) => string | null;
  tone?: (row: R) => Tone | undefined;
}

/** Between two columns on a terminal. */
const GAP = '  ';

/** Words on a terminal are split at spaces only; NBSP holds words together and is shown as a space. */
const NBSP = /\u00a0/g;

/** The width to fit on a terminal: $COLUMNS when set (as `ls` reads it), else the terminal's, else 80. */
export function terminalWidth(stream: NodeJS.WriteStream = process.stdout): number {
  const given = Number(process.env.COLUMNS);
  if (Number.isInteger(given) && given > 0) return given;
  return stream.columns > 0 ? stream.columns : 80;
}

/** Whether `stream` gets the terminal form of a table (else TSV). */
export function isTerminal(stream: NodeJS.WriteStream = process.stdout): boolean {
  return Boolean(stream.isTTY);
}

/**
 * A table as text (without a final newline) for `stream` (stdout unless
 * given): on a terminal aligned columns fitted to its width, `empty` when
 * there is no row; in a pipe TSV with a header line, one row a line (just the
 * header when there is no row). Control characters never reach either: cells
 * hold escaped text (untrusted()), and a TSV field's tab, newline or carriage
 * return is written \t, \n, \r.
 */
export async function table<R>(columns: readonly Column<R>[], rows: readonly R[], options: {stream?: NodeJS.WriteStream; empty: string}): Promise<string> {
  const stream = options.stream ?? process.stdout;
  if (!isTerminal(stream)) return tsv(columns, rows);
  if (rows.length === 0) return options.empty;
  const colour = await paint(stream);
  return terminalTable(columns, rows, terminalWidth(stream), colour);
}

/** Rows as TSV: a header of field names, then one line a row. */
export function tsv<R>(columns: readonly Column<R>[], rows: readonly R[]): string {
  const fields = columns.filter((c) => c.field !== undefined);
  const values = fields.map((c) => c.value!);
  const n = values.length;
  const lines = new Array<string>(rows.length + 1);
  lines[0] = fields.map((c) => c.field).join('\t');
  // One array of fields joined a row at a time: a third of the time of concatenating (100,000 rows).
  const line = new Array<string>(n);
  for (let i = 0; i < rows.length; i++) {
    const row = rows[i];
    for (let j = 0; j < n; j++) line[j] = tsvField(values[j](row));
    lines[i + 1] = line.join('\t');
  }
  return lines.join('\n');
}

const TSV_BREAKS = /[\t\n\r]/;
const TSV_ESCAPES: Record<string, string> = {'\t': '\\t', '\n': '\\n', '\r': '\\r'};

function tsvField(value: FieldValue): string {
  if (value === null) return '';
  if (typeof value !== 'string') return String(value);
  // Cells hold escaped text already; this keeps the one-row-a-line promise whatever a column gives.
  return value.length > 0 && TSV_BREAKS.test(value) ? value.replace(/[\t\n\r]/g, (c) => TSV_ESCAPES[c]) : value;
}

/**
 * Aligned columns, two spaces apart, one line a row unless a cell must wrap:
 * columns that fit keep their width; otherwise the widest gives way first,
 * down to its longest word, never below. When the longest words of all
 * columns do not fit side by side, each row is printed as a record, a line
 * per field (never a word cut, never a line wider than `width`). A column
 * empty in every row is left out.
 */
export function terminalTable<R>(columns: readonly Column<R>[], rows: readonly R[], width: number, colour?: ChalkInstance): string {
  const shown = columns.filter((c) => c.head !== undefined);
  const texts = shown.map((c) => rows.map((r) => cellText(c, r)));
  const kept = shown.map((_, i) => i).filter((i) => texts[i].some((t) => t.length > 0));
  const cols = kept.map((i) => shown[i]);
  const cells = kept.map((i) => texts[i]);
  const natural = cols.map((c) => longestLine(c.head!));
  const floor = cols.map((c) => longestWord(c.head!));
  cells.forEach((column, i) => {
    for (const text of column) {
      if (text.length === 0) continue;
      natural[i] = Math.max(natural[i], longestLine(text));
      floor[i] = Math.max(floor[i], longestWord(text));
    }
  });
  // When even the longest words do not fit side by side, each row becomes a record (a line per
  // field), so that no word is cut and no line runs wider than the terminal (which would fold it).
  const gap = GAP;
  const available = width - gap.length * (cols.length - 1);
  if (floor.reduce((total, w) => total + w, 0) > available) return recordTable(cols, cells, rows, width, colour);
  const widths = fitWidths(natural, floor, available);
  const tint = (text: string, tone: Tone | undefined) => (colour === undefined || tone === undefined ? text : colour[tone](text));
  const out: string[] = [];
  const head = cols.map((c, i) => wrap(c.head!, widths[i]));
  out.push(...joinRow(head, widths, gap, (t) => (colour === undefined ? t : colour.bold(t))));
  for (let r = 0; r < rows.length; r++) {
    const wrapped = cells.map((column, i) => wrap(column[r], widths[i]));
    const tones = cols.map((c) => c.tone?.(rows[r]));
    out.push(...joinRow(wrapped, widths, gap, (t, i) => tint(t, tones[i])));
  }
  return out.join('\n');
}

/**
 * The rows of a table too wide for the terminal, one record each: a line per
 * non-empty field (`head  value`, the value wrapped at spaces beside its
 * heading), a blank line between records.
 */
function recordTable<R>(cols: readonly Column<R>[], cells: readonly string[][], rows: readonly R[], width: number, colour?: ChalkInstance): string {
  const headWidth = Math.max(...cols.map((c) => longestLine(c.head!.replace(/\n/g, ' '))));
  const valueWidth = Math.max(1, width - headWidth - GAP.length);
  const out: string[] = [];
  for (let r = 0; r < rows.length; r++) {
    if (r > 0) out.push('');
    cols.forEach((c, i) => {
      const text = cells[i][r];
      if (text.length === 0) return;
      const tone = c.tone?.(rows[r]);
      const head = c.head!.replace(/\n/g, ' ');
      wrap(text, valueWidth).forEach((piece, l) => {
        const value = piece.replace(NBSP, ' ');
        const styled = colour === undefined || tone === undefined ? value : colour[tone](value);
        const label = l === 0 ? (colour === undefined ? head : colour.bold(head)) + ' '.repeat(headWidth - head.length) : ' '.repeat(headWidth);
        out.push(`${label}${GAP}${styled}`.trimEnd());
      });
    });
  }
  return out.join('\n');
}

function cellText<R>(c: Column<R>, row: R): string {
  const text = c.text ? c.text(row) : c.value ? c.value(row) : null;
  return text === null ? '' : String(text);
}

/** The lines of one table row: its cells side by side, padded to their widths, coloured, without trailing spaces. */
function joinRow(cells: string[][], widths: number[], gap: string, style: (text: string, column: number) => string): string[] {
  const height = Math.max(1, ...cells.map((c) => c.length));
  const lines: string[] = [];
  for (let l = 0; l < height; l++) {
    let line = '';
    for (let i = 0; i < cells.length; i++) {
      const piece = cells[i][l] ?? '';
      if (piece.length > 0) line += style(piece.replace(NBSP, ' '), i);
      if (i < cells.length - 1) line += ' '.repeat(Math.max(0, widths[i] - piece.length)) + gap;
    }
    lines.push(line.trimEnd());
  }
  return lines;
}

function longestLine(text: string): number {
  let most = 0;
  for (const line of text.split('\n')) most = Math.max(most, line.length);
  return most;
}

function longestWord(text: string): number {
  let most = 0;
  for (const word of text.split(/[ \n]/)) most = Math.max(most, word.length);
  return most;
}

/**
 * Column widths for `available` columns of text: the natural widths when they
 * fit; else the widest column gives one at a time, never below its floor (its
 * longest word). The sum may stay above `available` when the floors do.
 */
export function fitWidths(natural: readonly number[], floor: readonly number[], available: number): number[] {
  const widths = [...natural];
  let excess = widths.reduce((sum, w) => sum + w, 0) - available;
  while (excess > 0) {
    let widest = -1;
    for (let i = 0; i < widths.length; i++) {
      if (widths[i] > floor[i] && (widest < 0 || widths[i] > widths[widest])) widest = i;
    }
    if (widest < 0) break;
    widths[widest]--;
    excess--;
  }
  return widths;
}

/** `text` in lines of at most `width` columns, broken at spaces and at `\n`; a word longer than `width` keeps its own line whole. */
export function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  for (const line of text.split('\n')) {
    let current = '';
    for (const word of line.split(' ')) {
      if (word.length === 0) continue;
      if (current.length === 0) current = word;
      else if (current.length + 1 + word.length <= width) current += ` ${word}`;
      else {
        lines.push(current);
        current = word;
      }
    }
    lines.push(current);
  }
  return lines;
}

/** A stored ISO time as a terminal shows it: `2026-11-30 17:41` (UTC, minutes; the heading says UTC), or null. */
export function shortTime(iso: string | null): string | null {
  if (iso === null) return null;
  const t = new Date(iso);
  if (Number.isNaN(t.getTime())) return iso;
  // A space: on a narrow terminal the time may go under its date.
  return `${t.toISOString().slice(0, 10)} ${t.toISOString().slice(11, 16)}`;
}

const MINUTE_MS = 60_000;
const HOUR_MS = 60 * MINUTE_MS;
const DAY_MS = 24 * HOUR_MS;

/**
 * How far `iso` is from `now`, as a terminal shows an expiry: `in 3 d`,
 * `in 5 h`, `in 12 min`, or `expired 3 d ago`. Rounded to the nearest unit:
 * days from 2 days on, hours from 2 hours on, else minutes (at least 1).
 */
export function expiresIn(iso: string, now: Date): string {
  const ms = Date.parse(iso) - now.getTime();
  const span = Math.abs(ms);
  const amount =
    span >= 2 * DAY_MS
      ? `${Math.round(span / DAY_MS)}\u00a0d`
      : span >= 2 * HOUR_MS
        ? `${Math.round(span / HOUR_MS)}\u00a0h`
        : `${Math.max(1, Math.round(span / MINUTE_MS))}\u00a0min`;
  return ms > 0 ? `in\u00a0${amount}` : `expired ${amount}\u00a0ago`;
}
