/** Text every export format shares: free text made safe for one line, CSV fields, comment and line joins. */

/**
 * Characters that would end a comment or a line (C0 controls, CR, LF, DEL,
 * C1, U+2028/9) or make text read differently from what it is (bidi
 * overrides, zero-width and other invisible format characters).
 */
const UNSAFE_TEXT = /[\u0000-\u001f\u007f-\u009f\u00ad\u061c\u180e\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff\ufff9-\ufffb]+/g;

/** What JSON.stringify leaves raw of UNSAFE_TEXT (it escapes C0 controls itself). */
export const JSON_RAW = /[\u007f-\u009f\u00ad\u061c\u180e\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff\ufff9-\ufffb]/g;

/**
 * JSON text with the characters of JSON_RAW written as `\uXXXX`: the same
 * value to every reader, and no C1 control or bidi override reaches a
 * terminal that shows `--json` (SPEC: control characters escaped on every
 * command).
 */
export function jsonSafe(text: string): string {
  return text.replace(JSON_RAW, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** The first bytes in UTF-8 of every character of JSON_RAW: 0x7f, and those that start 2 and 3 byte sequences of them. */
const RAW_LEADS = [0x7f, 0xc2, 0xd8, 0xe1, 0xe2, 0xef];

/**
 * Whether UTF-8 `bytes` hold a character of JSON_RAW: found by its first
 * byte (memchr speed), and only there decoded. A store's text without one
 * (nearly every store) is copied into `--json` as it is.
 */
export function holdsJsonRaw(bytes: Uint8Array): boolean {
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (const lead of RAW_LEADS) {
    for (let i = buffer.indexOf(lead); i >= 0; i = buffer.indexOf(lead, i + 1)) {
      JSON_RAW.lastIndex = 0;
      if (JSON_RAW.test(buffer.toString('utf8', i, Math.min(buffer.length, i + 3)).charAt(0))) return true;
    }
  }
  return false;
}

/** Free text (a label) made safe for one line of a file: unsafe characters become a space, spaces collapsed, trimmed. */
export function flattenText(text: string): string {
  return text.replace(UNSAFE_TEXT, ' ').replace(/ {2,}/g, ' ').trim();
}

/** A row's label as a comment holds it: flattened, or '' for none. */
export function labelText(label: string | null): string {
  return label === null ? '' : flattenText(label);
}

/**
 * The most UTF-8 bytes of a label a gateway's comment holds: `ipset restore`
 * reads a line in 1,024-byte pieces (what follows is read as a command of its
 * own) and nginx refuses a word, a comment too, of 4,096 bytes or more.
 */
export const COMMENT_LABEL_BYTES = 480;

/** A row's label as a gateway format's comment holds it: labelText, cut to COMMENT_LABEL_BYTES (at a character) and ended by `…` when cut. */
export function commentText(label: string | null): string {
  const text = labelText(label);
  if (Buffer.byteLength(text) <= COMMENT_LABEL_BYTES) return text;
  let bytes = 0;
  let cut = '';
  for (const c of text) {
    bytes += Buffer.byteLength(c);
    if (bytes > COMMENT_LABEL_BYTES - 3) break;
    cut += c;
  }
  return `${cut.trimEnd()}…`;
}

/** A CSV field (RFC 4180): quoted when it holds a comma, a quote or edge spaces; free text flattened first. */
export function csvField(value: string | null): string {
  if (value === null) return '';
  const text = flattenText(value);
  return /[",]|^ | $/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** Header lines as `#` comments. */
export const comments = (header: readonly string[]) => header.map((line) => `# ${line}`);

/** Lines joined, each ended by a newline ('' for none). */
export const lines = (list: readonly string[]) => (list.length === 0 ? '' : `${list.join('\n')}\n`);
