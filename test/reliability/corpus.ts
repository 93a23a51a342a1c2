/**
 * The malformed-input corpus (corpus/malformed.txt): inputs keyward must refuse
 * as an address and as an entry, grouped by the kind of ambiguity they carry.
 */
import {readFileSync} from 'node:fs';
import {fileURLToPath} from 'node:url';

export interface CorpusInput {
  /** The group's kind, e.g. "octal-ipv4". */
  kind: string;
  /** The input text, exactly as a user or a log would give it. */
  text: string;
  /** Its line in the corpus file, for messages. */
  line: number;
}

export const CORPUS_FILE = fileURLToPath(new URL('./corpus/malformed.txt', import.meta.url));

interface Repeat {
  repeat: string;
  times: number;
  before?: string;
  after?: string;
}

/** Reads the corpus; throws on a line that is not one of its forms, so a typo cannot shrink it silently. */
export function loadCorpus(file = CORPUS_FILE): CorpusInput[] {
  const inputs: CorpusInput[] = [];
  let kind = '';
  readFileSync(file, 'utf8')
    .split('\n')
    .forEach((raw, i) => {
      const line = i + 1;
      const text = raw.trim();
      if (text.startsWith('## ')) {
        kind = text.slice(3).split(':')[0].trim();
        return;
      }
      if (text === '' || text.startsWith('#')) return;
      if (kind === '') throw new Error(`${file}:${line}: an input before the first "## kind" line`);
      const value = JSON.parse(text) as string | Repeat;
      const input = typeof value === 'string' ? value : `${value.before ?? ''}${value.repeat.repeat(value.times)}${value.after ?? ''}`;
      if (typeof input !== 'string') throw new Error(`${file}:${line}: not a JSON string or repeat object`);
      if (input.includes('\n') || input.includes('#')) throw new Error(`${file}:${line}: an input may hold neither a newline nor "#"`);
      inputs.push({kind, text: input, line});
    });
  return inputs;
}

/** The corpus grouped by kind, in file order. */
export function byKind(inputs: readonly CorpusInput[]): Map<string, CorpusInput[]> {
  const groups = new Map<string, CorpusInput[]>();
  for (const input of inputs) {
    const group = groups.get(input.kind) ?? [];
    group.push(input);
    groups.set(input.kind, group);
  }
  return groups;
}
