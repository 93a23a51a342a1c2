/**
 * Human output: colour that disappears under NO_COLOR or off a terminal, and
 * tables that fit the terminal. chalk and cli-table3 are loaded only when a
 * command renders.
 */
import type {ChalkInstance} from 'chalk';

/** Whether colour suits `stream`: never under NO_COLOR, always under FORCE_COLOR, else on a terminal. */
export function colourWanted(stream: NodeJS.WriteStream): boolean {
  if (process.env.NO_COLOR !== undefined && process.env.NO_COLOR !== '') return false;
  const force = process.env.FORCE_COLOR;
  if (force !== undefined) return force !== '0' && force !== 'false';
  return Boolean(stream.isTTY);
}

/** A chalk for `stream`, with no colour when colour is not wanted. */
export async function paint(stream: NodeJS.WriteStream = process.stdout): Promise<ChalkInstance> {
  const {Chalk} = await import('chalk');
  return new Chalk({level: colourWanted(stream) ? 1 : 0});
}

/** Rows cli-table3 is given at once (see table()). */
const CHUNK = 5000;

/** Colour codes (SGR): they take no room on the screen. */
const SGR = /\u001b\[[0-9;]*m/g;

/** Columns a line of text takes on the screen (colour codes excluded). */
export function visibleLength(line: string): number {
  return line.replace(SGR, '').length;
}

/**
 * Content widths for columns whose widest lines are `natural`, so that a
 * bordered table ("│ a │ b │": three columns of frame per column, plus one)
 * fits in `width`: the widest column gives a column at a time, down to
 * `minimum` (or its own width, if smaller), then, on a very narrow terminal,
 * down to 4. The widths are returned as they are when they fit, and at
 * their floors when even those do not.
 */
export function fitColumns(natural: readonly number[], width: number, minimum = 8): number[] {
  const widths = [...natural];
  let excess = widths.reduce((sum, w) => sum + w, 0) + 3 * widths.length + 1 - width;
  for (const floor of [minimum, Math.min(minimum, 4)]) {
    while (excess > 0) {
      let widest = -1;
      for (let i = 0; i < widths.length; i++) {
        if (widths[i] > Math.min(floor, natural[i]) && (widest < 0 || widths[i] > widths[widest])) widest = i;
      }
      if (widest < 0) break;
      widths[widest]--;
      excess--;
    }
  }
  return widths;
}

/**
 * `text` in lines of at most `width` columns: broken at spaces, a word longer
 * than a line cut where it must. A line coloured as a whole keeps its colour on
 * every piece.
 */
export function wrapCell(text: string, columns: number): string {
  const width = Math.max(1, columns);
  const out: string[] = [];
  for (const line of text.split('\n')) {
    const styled = /^((?:\u001b\[[0-9;]*m)+)(.*?)((?:\u001b\[[0-9;]*m)+)$/s.exec(line);
    // Colour inside the line (not around it) is dropped rather than cut in two.
    const [open, inner, close] = styled && !/\u001b/.test(styled[2]) ? [styled[1], styled[2], styled[3]] : ['', line.replace(SGR, ''), ''];
    const pieces: string[] = [];
    let current = '';
    for (const word of inner.split(/ +/)) {
      let rest = word;
      if (current.length > 0 && current.length + 1 + rest.length <= width) {
        current += ` ${rest}`;
        continue;
      }
      if (current.length > 0) pieces.push(current);
      while (rest.length > width) {
        // Cut after a separator (2001:db8: | aaaa, 2026-01-01T | 00:00) or before a prefix length
        // (10.0.0.0 | /8) when one falls in the second half.
        const head = rest.slice(0, width);
        const at = Math.max(head.lastIndexOf('/'), ...[':', '-', 'T', ',', '.'].map((sep) => head.lastIndexOf(sep) + 1));
        const cut = at > width / 2 ? at : width;
        pieces.push(rest.slice(0, cut));
        rest = rest.slice(cut);
      }
      current = rest;
    }
    pieces.push(current);
    out.push(...pieces.map((p) => `${open}${p}${close}`));
  }
  return out.join('\n');
}

/**
 * A table as text for `stream` (stdout unless given). On a terminal (or with
 * `width`) it fits the width, its cells wrapped; in a pipe its lines are as
 * long as their cells, for grep.
 */
export async function table(
  head: string[],
  rows: (string | number | null)[][],
  options: {width?: number; stream?: NodeJS.WriteStream; blockRows?: number} = {},
): Promise<string> {
  const block = options.blockRows ?? CHUNK;
  const {default: Table} = await import('cli-table3');
  const stream = options.stream ?? process.stdout;
  const colour = colourWanted(stream);
  const cells = rows.map((row) => row.map((cell) => (cell === null ? '' : String(cell))));
  const width = options.width ?? (stream.isTTY ? stream.columns || undefined : undefined);
  // A loop, not Math.max(...): a list of 100,000 entries is too many arguments for one call.
  const natural = head.map(visibleLength);
  for (const row of cells) {
    row.forEach((cell, i) => {
      for (const line of cell.split('\n')) natural[i] = Math.max(natural[i] ?? 0, visibleLength(line));
    });
  }
  const widths = width === undefined ? natural : fitColumns(natural, width);
  const style = {head: colour ? ['cyan'] : [], border: colour ? ['grey'] : []};
  if (cells.length <= block && widths.every((w, i) => w === natural[i])) {
    const t = new Table({head, style, wordWrap: true});
    for (const row of cells) t.push(row);
    return t.toString();
  }
  // cli-table3 passes every row as an argument of one call: past about 100,000 rows the stack
  // overflows. Large tables are drawn in blocks of the same column widths, joined at their borders.
  const colWidths = widths.map((w) => w + 2);
  const blocks: string[] = [];
  for (let start = 0; start === 0 || start < cells.length; start += block) {
    const t = new Table({...(start === 0 ? {head: head.map((h, i) => wrapCell(h, widths[i]))} : {}), style, colWidths, wordWrap: false});
    for (const row of cells.slice(start, start + block)) t.push(row.map((cell, i) => wrapCell(cell, widths[i])));
    const lines = t.toString().split('\n');
    if (start > 0) lines[0] = lines[0].replace('┌', '├').replaceAll('┬', '┼').replace('┐', '┤');
    if (start + block < cells.length) lines.pop();
    blocks.push(lines.join('\n'));
  }
  return blocks.join('\n');
}
