/**
 * The files `sync` reads: keyward's own exports, told apart by their content
 * (SPEC "Commands", `sync`), so that `export` → edit → `sync` round-trips.
 *
 * - json: a JSON array of objects with an `entry` (export --format json, list --json);
 * - csv: a first line `entry,…` naming columns, as export --format csv writes it;
 * - plain: anything else, one `ENTRY [# label]` a line (export's plain, or a hand-written list).
 *
 * plain says nothing of group or expiry (the stored ones stay); csv and json
 * carry label, group and expiry. Deny and disabled rows (`effect: "deny"`,
 * `enabled: false`) are refused until sync knows them: read as allows they
 * would let in what the file keeps out.
 */
import {EntryInput, splitEntryLine} from './entry-parse.js';
import {InputError, lineOf, maskSecrets, show} from './errors.js';
import {checkGroupName} from './keys.js';
import {parseTime, TIME_FORM} from './time.js';

export type SyncFileFormat = 'plain' | 'csv' | 'json';

/** An entry of a sync file: group and expiry are undefined when the file does not carry them. */
export interface SyncInput extends EntryInput {
  group?: string | null;
  expiresAt?: string | null;
  /** The file gives no label at all (a csv without a label column, a json object without `label`): the stored one stays. */
  keepLabel?: true;
}

/** A line as read: its text (trimmed) and number, from 1. */
export interface SyncLine {
  text: string;
  line: number;
}

/** The format of a file from its first line that is not blank (a `#` comment counts for plain). */
export function detectSyncFormat(lines: readonly SyncLine[]): SyncFileFormat {
  const first = lines.find((l) => l.text.length > 0);
  if (first === undefined) return 'plain';
  if (first.text.startsWith('[')) return 'json';
  if (/^entry(,[A-Za-z]+)+$/.test(first.text)) return 'csv';
  return 'plain';
}

/** The entries of a sync file, in file order, and the format they were read in. `name` is the file's name as shown, '' for stdin. */
export function parseSyncLines(lines: readonly SyncLine[], name: string): {format: SyncFileFormat; inputs: SyncInput[]} {
  const format = detectSyncFormat(lines);
  const at = (where: string) => (name ? `${where} of ${name}` : where);
  if (format === 'json') return {format, inputs: jsonInputs(lines, at)};
  if (format === 'csv') return {format, inputs: csvInputs(lines, at)};
  const inputs: SyncInput[] = [];
  for (const l of lines) {
    const parsed = splitEntryLine(l.text);
    if (parsed) inputs.push({text: parsed.text, label: parsed.label, where: at(`line ${l.line}`), source: 'import'});
  }
  return {format, inputs};
}

/** A group field: null or '' for none, else a group name. */
function groupField(value: unknown, where: string): string | null {
  if (value === null || value === undefined || value === '') return null;
  if (typeof value !== 'string') throw new InputError(`${where}: group is not a string`);
  try {
    checkGroupName(value);
  } catch (error) {
    if (error instanceof InputError) throw new InputError(`${where}: ${error.message}`);
    throw error;
  }
  return value;
}

/** An expiry field: null or '' for none, else an ISO 8601 time with an offset (written back in UTC). */
function expiryField(value: unknown, where: string): string | null {
  if (value === null || value === undefined || value === '') return null;
  const at = typeof value === 'string' ? parseTime(value) : null;
  if (at === null) throw new InputError(`${where}: expiresAt ${show(String(value))} is not ${TIME_FORM}`);
  return at.toISOString();
}

/**
 * The entry text of a row as a line of the plain export writes it (`!ENTRY`
 * for a deny entry: see splitDenyMarks), from its entry and its effect
 * (either may say deny; a row whose `!` says deny and whose effect says
 * allow is refused). Refuses a row that is neither an allow nor a deny
 * entry, or a disabled one (exports never write those).
 */
function rowText(entry: string, effect: unknown, enabled: unknown, where: string): string {
  const present = (v: unknown) => v !== undefined && v !== null && v !== '';
  if (present(effect) && effect !== 'allow' && effect !== 'deny') {
    throw new InputError(`${where}: effect ${show(String(effect))} is neither "allow" nor "deny"`, 'write "allow", "deny", or leave it out');
  }
  if (present(enabled) && enabled !== true && enabled !== 'true') {
    throw new InputError(`${where}: a disabled entry: sync reads enabled entries only`, 'leave disabled entries out of the file');
  }
  const text = entry.trim();
  const marked = text.startsWith('!');
  if (marked && effect === 'allow') {
    const error = new InputError(`${where}: ${show(text)} is a deny entry ("!") but its effect says "allow"`, 'drop the "!" to allow it, or write "deny"');
    error.input = text;
    error.line = lineOf(where);
    throw error;
  }
  return marked || effect !== 'deny' ? text : `!${text}`;
}

/** The fields export --format csv|json writes: a csv column or json member named otherwise is refused. */
const EXPORT_FIELDS: readonly string[] = ['entry', 'scope', 'source', 'label', 'addedAt', 'expiresAt', 'group', 'effect', 'enabled'];
const FIELDS_HINT = `sync reads the fields export writes: ${EXPORT_FIELDS.join(', ')} (scope, source and addedAt are not used)`;

function jsonInputs(lines: readonly SyncLine[], at: (where: string) => string): SyncInput[] {
  let document: unknown;
  try {
    document = JSON.parse(lines.map((l) => l.text).join('\n'));
  } catch (error) {
    throw new InputError(
      `${at('the input')} starts with "[" but is not valid JSON: ${(error as Error).message}`,
      'give a JSON array as export --format json writes it, or one entry a line',
    );
  }
  if (!Array.isArray(document)) throw new InputError(`${at('the input')} is not a JSON array`);
  return document.map((item, i) => {
    const where = at(`item ${i + 1}`);
    if (typeof item !== 'object' || item === null || Array.isArray(item)) throw new InputError(`${where} is not an object with an "entry"`);
    const o = item as Record<string, unknown>;
    if (typeof o.entry !== 'string') throw new InputError(`${where} has no "entry" string`);
    const unknown = Object.keys(o).find((name) => !EXPORT_FIELDS.includes(name));
    if (unknown !== undefined) throw new InputError(`${where}: sync reads no member ${show(unknown)}`, FIELDS_HINT);
    if (o.label !== undefined && o.label !== null && typeof o.label !== 'string') throw new InputError(`${where}: label is not a string`);
    const text = rowText(o.entry, o.effect, o.enabled, where);
    const label = typeof o.label === 'string' ? maskSecrets(o.label) : null;
    // A deny row is read as the `!ENTRY` line the plain export writes for it (see splitDenyMarks).
    const input: SyncInput = {text, label, where, source: 'import', ...(o.label === undefined ? {keepLabel: true} : {})};
    // A field the object leaves out is not said: the stored value stays.
    if ('group' in o) input.group = groupField(o.group, where);
    if ('expiresAt' in o) input.expiresAt = expiryField(o.expiresAt, where);
    return input;
  });
}

/** The fields of one CSV line (RFC 4180, no line breaks inside fields: export writes none). */
export function csvFields(line: string, where: string): string[] {
  const fields: string[] = [];
  let i = 0;
  for (;;) {
    if (line[i] === '"') {
      let value = '';
      i++;
      for (;;) {
        const quote = line.indexOf('"', i);
        if (quote < 0) throw new InputError(`${where}: a quoted field is not closed`);
        value += line.slice(i, quote);
        i = quote + 1;
        if (line[i] === '"') {
          value += '"';
          i++;
        } else {
          break;
        }
      }
      fields.push(value);
      if (i < line.length && line[i] !== ',') throw new InputError(`${where}: text after a quoted field`);
    } else {
      const comma = line.indexOf(',', i);
      fields.push(line.slice(i, comma < 0 ? line.length : comma));
      i = comma < 0 ? line.length : comma;
    }
    if (i >= line.length) return fields;
    i++; // the comma
  }
}

function csvInputs(lines: readonly SyncLine[], at: (where: string) => string): SyncInput[] {
  const rows = lines.filter((l) => l.text.length > 0);
  const columns = rows[0].text.split(',');
  const column = (name: string) => columns.indexOf(name);
  // A column named twice would have to be guessed at: which of two effects, two labels, holds?
  const twice = columns.find((name, i) => columns.indexOf(name) !== i);
  if (twice !== undefined) throw new InputError(`${at(`line ${rows[0].line}`)}: the column ${show(twice)} is named twice`, 'name each column once');
  // A misspelled column (`expires`, `Label`) would leave the stored expiry or label in force unsaid: refused.
  const unknown = columns.find((name) => !EXPORT_FIELDS.includes(name));
  if (unknown !== undefined) throw new InputError(`${at(`line ${rows[0].line}`)}: sync reads no column ${show(unknown)}`, FIELDS_HINT);
  const [label, group, expiresAt, effect, enabled] = ['label', 'group', 'expiresAt', 'effect', 'enabled'].map(column);
  return rows.slice(1).map((l) => {
    const where = at(`line ${l.line}`);
    const fields = csvFields(l.text, where);
    if (fields.length !== columns.length) throw new InputError(`${where}: ${fields.length} fields where the header names ${columns.length}`);
    const input: SyncInput = {
      text: rowText(fields[0], effect < 0 ? undefined : fields[effect], enabled < 0 ? undefined : fields[enabled], where),
      label: label < 0 ? null : maskSecrets(fields[label]) || null,
      where,
      source: 'import',
      ...(label < 0 ? {keepLabel: true} : {}),
    };
    if (group >= 0) input.group = groupField(fields[group], where);
    if (expiresAt >= 0) input.expiresAt = expiryField(fields[expiresAt], where);
    return input;
  });
}
