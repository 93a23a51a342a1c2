/**
 * The account list's records found in the text keyward writes, without
 * parsing it: for a reader that copies the values' JSON texts as they are
 * (`list --json` of a store keyward provably wrote, issue 15). The layout is
 * the one the writer gives a record (schema.ts `record` and `withSwitches`,
 * stringified with an indent of 2); anything else is refused, and the
 * caller reads the store the usual way.
 */

import {ADDED_AT, DENY, DISABLED, ENTRY, EXPIRES_AT, GROUP, LABEL, SOURCE, SPANS} from '../core/render/list-json.js';

const LF = 0x0a;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;

/** What a value may be: a JSON string, or either a string or null. */
const STRING = 0;
const STRING_OR_NULL = 1;

/** The member lines of a record, in the order written: the bytes before the value, where it goes, what it may be, and whether it may be left out. */
const MEMBERS: {prefix: Uint8Array; at: number; kind: number; optional: boolean}[] = [
  {name: 'entry', at: ENTRY, kind: STRING, optional: false},
  {name: 'source', at: SOURCE, kind: STRING, optional: false},
  {name: 'label', at: LABEL, kind: STRING_OR_NULL, optional: false},
  {name: 'group', at: GROUP, kind: STRING, optional: true},
  {name: 'addedAt', at: ADDED_AT, kind: STRING, optional: false},
  {name: 'expiresAt', at: EXPIRES_AT, kind: STRING_OR_NULL, optional: false},
].map(({name, at, kind, optional}) => ({prefix: Buffer.from(`      "${name}": `, 'latin1'), at, kind, optional}));

/** The switches' lines, whole (each only ever has this one value when there). */
const DENY_LINE = Buffer.from('      "effect": "deny"', 'latin1');
const DISABLED_LINE = Buffer.from('      "enabled": false', 'latin1');
const OPEN_LINE = Buffer.from('    {', 'latin1');
const CLOSE_LINE = Buffer.from('    }', 'latin1');
const NULL = Buffer.from('null', 'latin1');
const LIST_END = Buffer.from('  ]', 'latin1');

/** Whether bytes[at, end) is `expected`. */
function isAt(bytes: Uint8Array, at: number, end: number, expected: Uint8Array): boolean {
  if (end - at !== expected.length) return false;
  for (let i = 0; i < expected.length; i++) if (bytes[at + i] !== expected[i]) return false;
  return true;
}

/** Whether bytes[at, end) starts with `prefix`. */
function startsWith(bytes: Uint8Array, at: number, end: number, prefix: Uint8Array): boolean {
  if (end - at < prefix.length) return false;
  for (let i = 0; i < prefix.length; i++) if (bytes[at + i] !== prefix[i]) return false;
  return true;
}

/** Whether bytes[at, end) is a JSON string as JSON.stringify ends one: quoted, its closing quote not escaped. */
function isString(bytes: Uint8Array, at: number, end: number): boolean {
  if (end - at < 2 || bytes[at] !== QUOTE || bytes[end - 1] !== QUOTE) return false;
  let slashes = 0;
  for (let i = end - 2; i > at && bytes[i] === BACKSLASH; i--) slashes++;
  return slashes % 2 === 0;
}

/** What AccountRecords.next found. */
export const RECORD = 1;
export const END = 0;
export const NOT_LAID_OUT = -1;

/**
 * The records of the account list whose text is `bytes` (from its `[` to its
 * `]`), one at a time: `next` finds where the next record's values stand
 * (`spans`) and its switches (`flags`: DENY, DISABLED). A text not laid out
 * as keyward writes it is found out only where it departs from the layout:
 * a caller that must not act on part of a list goes through it once first.
 */
export class AccountRecords {
  readonly spans = new Int32Array(SPANS);
  flags = 0;
  /** Where the next record's first line starts; -1 once the end (or a fault) was found. */
  private at: number;

  /** Whether the text departed from the layout. */
  private fault: boolean;

  constructor(private readonly bytes: Uint8Array) {
    const empty = bytes.length === 2 && bytes[0] === 0x5b && bytes[1] === 0x5d;
    this.at = empty ? -1 : 2;
    this.fault = !empty && (bytes.length < 2 || bytes[0] !== 0x5b || bytes[1] !== LF);
  }

  /** RECORD (spans and flags are the next record's), END, or NOT_LAID_OUT. */
  next(): number {
    if (this.fault) return NOT_LAID_OUT;
    if (this.at < 0) return END;
    const found = this.record();
    if (found === NOT_LAID_OUT) this.fault = true;
    return found;
  }

  /** Reads the record whose `    {` line starts at `this.at`. */
  private record(): number {
    const bytes = this.bytes;
    const spans = this.spans;
    let at = this.at;
    let end = lineEnd(bytes, at);
    if (!isAt(bytes, at, end, OPEN_LINE)) return NOT_LAID_OUT;
    spans[GROUP] = -1;
    spans[GROUP + 1] = -1;
    let flags = 0;
    let member = 0;
    // Whether the member line before ended in a comma (each but the last does).
    let comma = true;
    for (;;) {
      at = end + 1;
      end = lineEnd(bytes, at);
      if (startsWith(bytes, at, end, CLOSE_LINE)) break;
      if (!comma) return NOT_LAID_OUT;
      comma = end > at && bytes[end - 1] === COMMA;
      const last = comma ? end - 1 : end;
      while (member < MEMBERS.length && MEMBERS[member].optional && !startsWith(bytes, at, last, MEMBERS[member].prefix)) member++;
      if (member < MEMBERS.length) {
        const {prefix, at: where, kind} = MEMBERS[member];
        if (!startsWith(bytes, at, last, prefix)) return NOT_LAID_OUT;
        const start = at + prefix.length;
        if (!isString(bytes, start, last) && !(kind === STRING_OR_NULL && isAt(bytes, start, last, NULL))) return NOT_LAID_OUT;
        spans[where] = start;
        spans[where + 1] = last;
        member++;
      } else if (flags === 0 && isAt(bytes, at, last, DENY_LINE)) flags = DENY;
      else if ((flags & DISABLED) === 0 && isAt(bytes, at, last, DISABLED_LINE)) flags |= DISABLED;
      else return NOT_LAID_OUT;
    }
    // The record's close: `    },` before the next record, `    }` before the list's end (`  ]`, the text's last line).
    if (comma || member < MEMBERS.length) return NOT_LAID_OUT;
    const more = end - at === CLOSE_LINE.length + 1 && bytes[end - 1] === COMMA;
    if (!more && end - at !== CLOSE_LINE.length) return NOT_LAID_OUT;
    this.flags = flags;
    if (more) {
      this.at = end + 1;
      return RECORD;
    }
    at = end + 1;
    end = lineEnd(bytes, at);
    if (end !== bytes.length || !isAt(bytes, at, end, LIST_END)) return NOT_LAID_OUT;
    this.at = -1;
    return RECORD;
  }
}

/** Where the line starting at `at` ends: its line feed, or the text's end. */
function lineEnd(bytes: Uint8Array, at: number): number {
  let end = at;
  while (end < bytes.length && bytes[end] !== LF) end++;
  return end;
}
