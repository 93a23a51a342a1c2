/** Errors raised by keyward's core and store: values with a kind and a message a person can act on. */
import {hintOf} from './secret.js';

/**
 * What went wrong, in the terms the exit codes use. The CLI maps each kind to
 * its exit code in one place (src/cli/exit-codes.ts); the core never exits.
 */
export type ErrorKind = 'usage' | 'store' | 'safety';

export class KeywardError extends Error {
  /** The input the failure is about, as given (the first bad one of several): `input` of --json's error object. */
  input?: string;
  /** Its line number, when it was read from a file or stdin: `line` of --json's error object. */
  line?: number;
  /** Machine output that goes with the failure, as more members of --json's error object (sync's refused plan). */
  extra?: Record<string, unknown>;

  constructor(
    readonly kind: ErrorKind,
    message: string,
    /** A next step for the operator, printed after the message. */
    readonly hint?: string,
  ) {
    super(message);
    this.name = 'KeywardError';
  }
}

/** How many bad inputs of one list a refusal names, one by one; the rest are counted. */
export const BAD_INPUTS_SHOWN = 20;

/**
 * Several bad inputs of one list (a file, stdin, the arguments), refused
 * together: each one's own error (up to BAD_INPUTS_SHOWN, in input order)
 * and how many there were in all. Nothing was written.
 */
export class BadInputs extends KeywardError {
  constructor(
    /** The errors of the first bad inputs, each naming where it was. */
    readonly errors: readonly KeywardError[],
    /** How many inputs were bad in all. */
    readonly total: number,
    noun = 'entries',
  ) {
    super('usage', `${total.toLocaleString('en-US')} bad ${noun}; nothing was written`);
    this.name = 'BadInputs';
    this.input = errors[0]?.input;
    this.line = errors[0]?.line;
  }

  /** How many bad inputs are counted but not shown. */
  get more(): number {
    return this.total - this.errors.length;
  }
}

/** The line number in `where` ("line 12", "line 12 of list.txt"), or undefined ("argument 2"). */
export function lineOf(where: string): number | undefined {
  const match = /^line (\d+)\b/.exec(where);
  return match ? Number(match[1]) : undefined;
}

/** Bad input: an address, an entry, a line, a flag value, an unknown key. */
export class InputError extends KeywardError {
  constructor(message: string, hint?: string) {
    super('usage', message, hint);
    this.name = 'InputError';
  }
}

/** An address or range refused by the grammar; `input` is the text as given. */
export class AddressError extends InputError {
  constructor(
    readonly input: string,
    readonly reason: string,
    hint?: string,
  ) {
    super(`${show(input)} ${reason}`, hint);
    this.name = 'AddressError';
  }
}

/** `error` (an InputError about `input`) said with where the input was, and carrying the input and its line for --json. */
export function locatedInputError(error: InputError, input: {text: string; where: string}): InputError {
  const located = new InputError(`${input.where}: ${error.message}`, error.hint);
  located.input = input.text;
  located.line = lineOf(input.where);
  return located;
}

/** `error`, about the one input `input` (an entry as the list holds it): its error object's `input`. */
export function aboutInput(error: InputError, input: string): InputError {
  error.input = input;
  return error;
}

/** The action would weaken protection and needs --force or a confirmation. */
export class SafetyError extends KeywardError {
  constructor(message: string, hint?: string) {
    super('safety', message, hint);
    this.name = 'SafetyError';
  }
}

const SHOWN_INPUT_LIMIT = 80;

const EXCERPT_LIMIT = 16;

/**
 * Characters JSON.stringify leaves raw that a terminal would act on or hide:
 * DEL and C1 controls (U+009B is an 8-bit CSI), bidi overrides that reorder
 * what is shown (U+202E), zero-width and other invisible format characters.
 */
const UNSAFE = /[\u007f-\u009f\u00ad\u061c\u180e\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff\ufff9-\ufffb]/g;

/** Escapes text for a message: JSON escapes, plus \uXXXX for every character in UNSAFE. */
function escape(text: string): string {
  return JSON.stringify(text)
    .slice(1, -1)
    .replace(UNSAFE, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/**
 * A piece of an input quoted inside a reason (an octet, a group, a zone, a
 * prefix length): escaped like `show` and cut short, so that a reason never
 * repeats a long or invisible part of the input in full.
 */
export function excerpt(fragment: string): string {
  // Masked before it is cut: the first 16 digits of a secret are too much of it. A run of hex digits is cut at 10 (a
  // 32-bit number whole): it may be the start of a piece of a secret that is not known as one (an octet cut from a
  // piece that goes on with letters).
  const masked = maskSecrets(fragment);
  // A run of 16 digits or more is a piece of a secret as likely as anything: its length alone (found by an outside tester).
  if (masked.length >= PART_DIGITS && HEX_DIGITS_ONLY.test(masked)) return partHint(masked.length);
  const limit = HEX_DIGITS_ONLY.test(masked) ? EXCERPT_DIGITS : EXCERPT_LIMIT;
  const cut = masked.length > limit ? masked.slice(0, limit) : masked;
  return escape(cut) + (masked.length > limit ? '…' : '');
}

const HEX_DIGITS_ONLY = /^[0-9a-f]+$/i;
const EXCERPT_DIGITS = 10;

/**
 * A run of 32 or more hex digits, in any case: the shape of a key secret
 * (with whatever surrounds it: spaces, quotes, a comma, `Bearer `), wherever
 * it stands in an input. Longer runs are masked (a stray hex digit typed
 * next to a secret) and shorter ones down to 32 (a secret with a few digits
 * lost in a paste is still most of one); no address or name has such a run.
 * A secret broken by whitespace or an invisible character (a paste wrapped
 * over two lines, a tab, a zero-width joiner) is still one: pieces of at
 * least 4 hex digits with only such characters between them count together.
 */
const SECRET_DIGITS = 32;
/**
 * What may break a secret: whitespace, control characters (C0, DEL, C1),
 * invisible and format characters (joiners, bidi controls, variation
 * selectors, Hangul and Braille blanks, tag characters), and the escapes
 * keyward writes for them in a message (`\t`, `\n`, `\r`, `\u001b`): a
 * message may hold a secret's pieces already escaped.
 */
const BREAK =
  '(?:[\\s\\x00-\\x1f\\x7f-\\x9f\\u00ad\\u034f\\u061c\\u115f\\u1160\\u17b4\\u17b5\\u180e\\u200b-\\u200f\\u202a-\\u202e\\u2060-\\u206f\\u2800\\u3164\\ufe00-\\ufe0f\\ufeff\\uffa0\\ufff9-\\ufffb]|\\udb40[\\udc00-\\udc7f]|\\\\[tnr]|\\\\u[0-9a-fA-F]{4})';
// (The class holds combining characters on purpose, each alone: the grapheme joiner and the variation selectors.)
// Punctuation joins pieces too, each of 5 digits or more after it: `-`, `:`, `.`, `/`, `_`, `,`, `;`, `|`, `+`, one
// or several, with breaks among them (found by outside testers: `8-8-8-8-8`, `10:30`, then `10:10::10:10` and `..`
// spellings were shown whole). No address group, UUID group or octet is that long.
const JOIN = '[-:./_,;|+]';
// eslint-disable-next-line no-misleading-character-class
const HEX_RUN = new RegExp(`(?<![0-9a-f])[0-9a-f]{4,}(?:${BREAK}+[0-9a-f]{4,}|(?:${BREAK}|${JOIN})+[0-9a-f]{5,})*(?![0-9a-f])`, 'gi');
// eslint-disable-next-line no-misleading-character-class
const BREAKS = new RegExp(`${BREAK}|${JOIN}`, 'gi');

/** The hex digits of a run (see HEX_RUN), or null when they are too few to be a secret. */

function secretIn(run: string): string | null {
  // (The breaks' own hex digits, as in `\u200b`, are not the secret's.)
  const digits = run.length >= SECRET_DIGITS ? run.replace(BREAKS, '') : '';
  return digits.length >= SECRET_DIGITS ? digits : null;
}

/**
 * How a secret-shaped run is shown: a keyward secret (40 digits) by its hint,
 * the key's own (`a1b2…9f0e`, shown by `keys list` anyway); any other length
 * (a secret cut short, or pieces of two joined: found by an outside tester)
 * by its length alone, as its own hint would show digits no key's does.
 */
function runHint(digits: string): string {
  return digits.length === WHOLE_SECRET_DIGITS ? hintOf(digits.toLowerCase()) : partHint(digits.length);
}

/** Whether `text` holds a secret-shaped run (see HEX_RUN). */
export function holdsSecret(text: string): boolean {
  for (const [run] of text.matchAll(HEX_RUN)) if (secretIn(run) !== null) return true;
  return false;
}

/**
 * The pieces (lower case) of secrets broken across separate texts, each to
 * its secret's hint: arguments (`keyward authorize ${S:0:20} ${S:20}`) or the
 * fields of a line, which a message names one at a time. Null until the
 * arguments are read, on the first maskSecrets.
 */
let pieces: Map<string, string> | null = null;
/** The command line `pieces` were remembered for (see knownPieces). */
let piecesOf: string[] | null = null;
const PIECE = /^[0-9a-f]{4,}$/i;
/** The shortest piece remembered: shorter hex runs (`2001`, `dead`) are common in other text. */
const MIN_PIECE = 8;

/**
 * The pieces remembered so far, the command line's first: its arguments
 * joined as the shell split them (a secret split over two of them is one).
 * (An argument of 16 to 31 hex digits alone is a message's to mask: see
 * maskInMessage.)
 */
function knownPieces(): Map<string, string> {
  // (Made anew for another command line: a test harness runs many commands in one process, each with its own argv.)
  if (pieces === null || piecesOf !== process.argv) {
    pieces = new Map();
    piecesOf = process.argv;
    rememberSecretPieces(process.argv.slice(2).join(' '));
  }
  return pieces;
}

/** Remembers the pieces of every secret-shaped run in `text` that a break cuts, so that maskSecrets shows each alone by the secret's hint. */
export function rememberSecretPieces(text: string): void {
  const known = knownPieces();
  for (const [run] of text.matchAll(HEX_RUN)) {
    const digits = secretIn(run);
    if (digits === null) continue;
    const parts = run.split(BREAKS).filter((part) => PIECE.test(part));
    // Only a secret made by joining pieces, and only pieces long enough not to be other text: a whole secret
    // beside an address (`SECRET 2001:db8::1`) must not make every later `2001` its hint.
    if (parts.some((part) => part.length >= SECRET_DIGITS)) continue;
    const hint = runHint(digits);
    for (const part of parts) if (part.length >= MIN_PIECE) known.set(part.toLowerCase(), hint);
  }
}

/** Every secret-shaped run in `text` replaced by its hint (a1b2…9f0e), in lower case as `keys list` shows hints; a remembered piece of one too. */
export function maskSecrets(text: string): string {
  const known = knownPieces();
  return text.replace(HEX_RUN, (run) => {
    const digits = secretIn(run);
    if (digits !== null) return runHint(digits);
    if (known.size === 0) return run;
    return run.replace(/[0-9a-f]{4,}/gi, (piece) => known.get(piece.toLowerCase()) ?? piece);
  });
}

/** Whether `code` is a hex digit's (0-9, a-f, A-F). */
const isHexCode = (code: number) => (code >= 0x30 && code <= 0x39) || ((code | 0x20) >= 0x61 && (code | 0x20) <= 0x66);

/** The hex digits `text` ends with, up to `limit` (how many there are, when fewer). */
function hexDigitsAtEnd(text: string, limit: number): number {
  let n = 0;
  while (n < limit && n < text.length && isHexCode(text.charCodeAt(text.length - 1 - n))) n++;
  return n;
}

/** The hex pieces (and breaks between them) a line ends with, the first at the line's start or after a blank (not `…:abcd`). */
// eslint-disable-next-line no-misleading-character-class
const PIECES_AT_END = new RegExp(`(?<=^|\\s)[0-9a-f]{4,}(?:${BREAK}+[0-9a-f]{4,})*$`, 'i');
/** The digits of a key secret as keyward makes them (see secret.ts). */
const WHOLE_SECRET_DIGITS = 40;
// eslint-disable-next-line no-misleading-character-class
const PIECES_ONLY = new RegExp(`^[0-9a-f]{4,}(?:${BREAK}+[0-9a-f]{4,})*$`, 'i');
/** The most of a wrapped run carried from line to line: a secret wrapped a few digits a line is still far shorter. */
const WRAPPED_LIMIT = 512;

/**
 * Follows a secret wrapped over lines that are read one at a time (a paste
 * into `authorize -` that a terminal or an editor broke): `run` is what the
 * lines before left (see the return), `line` the next line, trimmed.
 * Remembers the pieces of a secret that the end of the lines before and the
 * start of this one make together (see rememberSecretPieces), so that a
 * message naming one line's piece shows it by the secret's hint; returns
 * what this line leaves for the next: the hex pieces it ends with, after the
 * run when the line is nothing else (a secret wrapped over three lines or
 * more). Cheap for the lines of an address list: a line that ends with fewer
 * than 4 hex digits leaves nothing, and only a run is matched.
 */
export function wrappedSecretRun(run: string, line: string): string {
  if (run !== '' && line.length >= 4 && isHexCode(line.charCodeAt(0))) rememberSecretPieces(`${run}\n${line}`);
  if (hexDigitsAtEnd(line, 4) < 4) return '';
  const only = line.length < WRAPPED_LIMIT && PIECES_ONLY.test(line);
  if (only) rememberLoneLine(line);
  const left =
    run !== '' && only && run.length + line.length < WRAPPED_LIMIT
      ? `${run}\n${line}`
      : (PIECES_AT_END.exec(line.length > WRAPPED_LIMIT ? line.slice(-WRAPPED_LIMIT) : line)?.[0] ?? '');
  // Read in order, pieces that come to a whole secret (40 digits: 32 are one already, and are remembered so, until the
  // rest comes) are one, masked where they stand: only the pieces after the last are left.
  const parts = left.split(BREAKS).filter((part) => part.length > 0);
  let digits = 0;
  let first = 0;
  for (let i = 0; i < parts.length; i++) {
    digits += parts[i].length;
    if (digits >= WHOLE_SECRET_DIGITS) {
      digits = 0;
      first = i + 1;
    }
  }
  return parts.slice(first).join(' ');
}

/** The fewest hex digits of a line made of nothing else that is taken for part of a secret (see rememberLoneLine). */
const PART_DIGITS = 16;

/**
 * A line made of nothing but hex pieces (see wrappedSecretRun), 16 digits or
 * more and too few to be a secret, remembered as one's part (shown by its
 * length: partHint) until the rest of the secret comes, if it ever does: `check -`
 * stops at the first bad line, and hex lines before a wrapped secret may
 * take its first pieces into a run of their own. No address, entry or name
 * is such a line.
 */
function rememberLoneLine(line: string): void {
  const digits = line.replace(BREAKS, '');
  if (digits.length < PART_DIGITS || digits.length >= SECRET_DIGITS) return;
  const known = knownPieces();
  const hint = partHint(digits.length);
  for (const part of line.split(BREAKS)) if (part.length >= MIN_PIECE && !known.has(part.toLowerCase())) known.set(part.toLowerCase(), hint);
}

/**
 * How a run of hex digits that may be part of a secret, not tied to the
 * whole of one, is shown: by its length alone. Its own hint would show 4
 * or 8 of the secret's digits that the key's hint does not (found by an
 * outside tester: the second piece of a secret wrapped in a log line).
 */
function partHint(digits: number): string {
  return `…${digits} hex digits…`;
}

/** A run of 16 to 31 hex digits standing alone (see maskInMessage). */
const LONG_HEX = /(?<![0-9a-f])[0-9a-f]{16,31}(?![0-9a-f])/gi;

/**
 * A message for a person (stderr, an error object): masked as maskSecrets
 * masks, and every run of 16 to 31 hex digits left standing alone shown by
 * its length alone (see partHint). A piece of a secret may come with a quote, a comma or a
 * field around it, or split in a way no rule joins again; no message needs
 * 16 hex digits of an input in a row (an address has at most 4 a group).
 * Tables and machine output (labels, names) are left to maskSecrets.
 */
export function maskInMessage(text: string): string {
  return maskSecrets(text).replace(LONG_HEX, (run) => partHint(run.length));
}

/** `message` about line `line`, a secret's pieces the line breaks shown by its hint (see rememberSecretPieces). */
export function maskAlong(message: string, line: string): string {
  rememberSecretPieces(line);
  return maskSecrets(message);
}

/** C0 controls (ESC, BEL, CR, NUL…) and the characters in UNSAFE. */
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u00ad\u061c\u180e\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff\ufff9-\ufffb]/g;

const NAMED: Record<string, string> = {'\n': '\\n', '\r': '\\r', '\t': '\\t'};

/**
 * Untrusted text (a label, a key name, a file name, a log field) for human
 * output: every control or invisible character escaped (\u001b, \n), so
 * that it cannot move the cursor, retitle the window or hide itself, and a
 * secret in it shown by its hint. Printable text, quotes and backslashes
 * are left as they are: a label reads as it was written.
 */
export function untrusted(text: string): string {
  return maskSecrets(text).replace(CONTROL, (c) => NAMED[c] ?? `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

const VISIBLE_LIMIT = 64;

/**
 * Text from outside shown without quotes (a key field of a log line in a
 * report): escaped like `show`, a secret by its hint, cut short.
 */
export function visible(text: string): string {
  const redacted = maskSecrets(text);
  const cut = redacted.length > VISIBLE_LIMIT ? redacted.slice(0, VISIBLE_LIMIT) : redacted;
  return escape(cut) + (redacted.length > VISIBLE_LIMIT ? '…' : '');
}

/**
 * Quote an input for a message so that control characters, NUL bytes and
 * very long strings are visible and bounded, and a key secret in it (a log
 * line with its columns swapped) is shown only by its hint.
 */
export function show(input: string): string {
  const text = maskSecrets(input);
  const cut = text.length > SHOWN_INPUT_LIMIT ? text.slice(0, SHOWN_INPUT_LIMIT) : text;
  const escaped = escape(cut);
  // Said of the input as given: a long hex run masked to its hint is still a long input.
  const more = text.length > SHOWN_INPUT_LIMIT ? `… (${input.length} characters)` : input.length > SHOWN_INPUT_LIMIT ? ` (${input.length} characters)` : '';
  return `\`${escaped}\`${more}`;
}
