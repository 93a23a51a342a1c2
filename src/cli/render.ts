/**
 * Human output: colour that disappears under NO_COLOR or off a terminal, and
 * tables. chalk and cli-table3 are loaded only when a command renders.
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

/** A table as text, sized to the terminal when there is one. */
export async function table(head: string[], rows: (string | number | null)[][]): Promise<string> {
  const {default: Table} = await import('cli-table3');
  const colour = colourWanted(process.stdout);
  const t = new Table({head, style: {head: colour ? ['cyan'] : [], border: colour ? ['grey'] : []}, wordWrap: true});
  for (const row of rows) t.push(row.map((cell) => (cell === null ? '' : String(cell))));
  return t.toString();
}
