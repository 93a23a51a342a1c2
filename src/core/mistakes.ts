/**
 * The common mistakes people make where an address or range is wanted (a
 * host name, a port, a list, a label without "#", a zone, a range written
 * a-b), recognised from the text so that a refusal names the mistake rather
 * than the character the grammar stopped at. Only ever called on the refusal
 * path (address.ts `refusal`): the scanner itself stays as fast as it was.
 */
import {NOT_ACCEPTED, scanAddressBytes, scanFault, scanPrefixBytes, ScannedPrefix, writeIPv4Bytes, writeIPv6Text} from './address-bytes.js';
import {compareWords, coverRange, widthOf} from './words.js';
import type {Family} from './words.js';

/** A mistake recognised: the reason (after the quoted input; none keeps the grammar's own) and the fix. */
export interface Mistake {
  reason?: string;
  hint: string;
}

/** How many CIDR ranges of an a-b range's cover the hint names. */
const COVER_SHOWN = 8;

/** How many entries of a comma- or space-separated list the hint repeats. */
const LIST_SHOWN = 4;

/** A host name: dot-separated labels of letters, digits and "-" (RFC 1123), optionally ending in ".". */
const HOST_NAME = /^(?=.{1,253}\.?$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*\.?$/i;

/** `[ADDRESS]` or `[ADDRESS]:PORT`, as URLs and many logs write IPv6. */
const BRACKETED = /^\[([^\]]*)\](?::(\d{1,5}))?$/;

/** `ADDRESS:PORT` with a dotted IPv4 address (an IPv6 address has colons of its own). */
const IPV4_PORT = /^([0-9.]+(?:\/\d+)?):(\d{1,5})$/;

const URL_FORM = /^[a-z][a-z0-9+.-]*:\/\/\[?([^\]/:]*(?:::?[^\]/]*)?)\]?(?::\d+)?(?:\/.*)?$/i;

/**
 * The common mistake `text` is, or null. `text` has already been refused by
 * the grammar; this scans parts of it again, so scanFault is saved and put
 * back for the generic message. `labels`: whether the input is an entry,
 * which may have a label after "#"; a bare address (`check`) has none.
 */
export function commonMistake(text: string, labels = true): Mistake | null {
  const saved = {...scanFault};
  try {
    return recognise(text, labels);
  } finally {
    Object.assign(scanFault, saved);
  }
}

function recognise(text: string, labels: boolean): Mistake | null {
  const trimmed = text.trim();
  // A comma-separated list: `10.0.0.0/8,10.1.0.0/16`.
  if (trimmed.includes(',')) {
    const parts = trimmed
      .split(',')
      .map((p) => p.trim())
      .filter((p) => p.length > 0);
    if (parts.length > 1 && parts.some((p) => entryOf(p) !== null)) {
      return {reason: 'is a comma-separated list: give one entry per argument or line', hint: `give them apart: ${listed(parts)}`};
    }
  }
  // A range written a-b, with or without spaces around the "-".
  const dash = /^(\S+)\s*-\s*(\S+)$/.exec(trimmed);
  if (dash) {
    const range = rangeCover(dash[1], dash[2]);
    if (range !== null) return range;
  }
  // Words separated by spaces: a list, or an entry and a label without "#".
  const words = trimmed.split(/\s+/);
  if (words.length > 1 && entryOf(words[0]) !== null) {
    if (words.every((w) => entryOf(w) !== null)) {
      return {reason: 'is several entries separated by spaces: give one entry per argument or line', hint: `give them apart: ${listed(words)}`};
    }
    const label = trimmed.slice(words[0].length).trim();
    // A bare address has nothing after it: a label or a comment is text too many.
    if (!labels && /^[a-z#]/i.test(label)) {
      return {reason: 'has text after the address: give one address an argument or line, nothing after it', hint: `give the address alone: ${words[0]}`};
    }
    // A word after the entry is a label; `10.0.0.0 /8` or `2001:db8:: 1` is a space inside, the grammar's reason.
    if (/^[a-z]/i.test(label))
      return {
        reason: 'has text after the entry: labels go after "#"',
        hint: `write \`${words[0]} # ${shortLabel(label)}\`, or pass --label`,
      };
  }
  // A port: `10.20.30.1:443`, `[2001:db8::1]:443`; brackets alone: `[2001:db8::1]`.
  const v4port = IPV4_PORT.exec(trimmed);
  if (v4port && entryOf(v4port[1]) !== null) {
    return {reason: `has a port (:${v4port[2]}): an entry is an address or range, without a port`, hint: `drop the port: ${v4port[1]}`};
  }
  const bracketed = BRACKETED.exec(trimmed);
  if (bracketed && entryOf(bracketed[1]) !== null) {
    if (bracketed[2] !== undefined) {
      return {reason: `has a port (:${bracketed[2]}): an entry is an address or range, without a port or brackets`, hint: `drop the port and the brackets: ${bracketed[1]}`};
    }
    return {reason: 'is in brackets: an entry is written without them', hint: `drop the brackets: ${bracketed[1]}`};
  }
  // A URL: `https://203.0.113.7/`.
  const url = URL_FORM.exec(trimmed);
  if (url && entryOf(url[1]) !== null) {
    return {reason: 'is a URL: an entry is an address or range', hint: `give the address alone: ${url[1]}`};
  }
  // A zone index: `fe80::1%eth0` (the grammar says so too; the fix is named here).
  const percent = trimmed.indexOf('%');
  if (percent > 0 && trimmed.includes(':')) {
    const slash = trimmed.indexOf('/', percent);
    const fixed = trimmed.slice(0, percent) + (slash < 0 ? '' : trimmed.slice(slash));
    if (entryOf(fixed) !== null) return {hint: `zones name a local interface; drop it: ${fixed}`};
  }
  // A host name: `example.com`, `localhost`, `web-api`.
  if (HOST_NAME.test(trimmed) && isNameLike(trimmed)) {
    const name = trimmed.length > 64 ? `${trimmed.slice(0, 64)}…` : trimmed;
    if (trimmed.includes('.')) {
      return {reason: 'is a host name: host names are not accepted, give its addresses', hint: `look them up (dig +short ${name}) and give each address`};
    }
    return {
      reason: 'is a name, not an IP address: host names are not accepted, give its addresses',
      hint: labels ? `a label goes after "#": \`ADDRESS # ${name}\`` : `give an IP address (a host's: dig +short ${name})`,
    };
  }
  return null;
}

/**
 * Whether a text of host-name characters reads as a name rather than a
 * broken address: it starts with a letter, or its last label is two or more
 * letters (`3com.com`). `10.0.0.a` and `1.2.3` are left to the grammar.
 */
function isNameLike(text: string): boolean {
  const labels = text.replace(/\.$/, '').split('.');
  return /^[a-z]/i.test(text) || /^[a-z]{2,}$/i.test(labels[labels.length - 1]);
}

/** Scratch for the scans of parts. */
const bytes = new Uint8Array(256);
const scanned: ScannedPrefix = {family: 4, bits: 0, words: new Uint32Array(4)};

function bytesOf(text: string): Uint8Array | null {
  if (text.length > bytes.length) return null;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    bytes[i] = c > 0xff ? 0xff : c;
  }
  return bytes;
}

/** `text` scanned as an address or range, or null (the grammar refuses it). */
function entryOf(text: string): ScannedPrefix | null {
  const b = bytesOf(text);
  if (b === null || text.length === 0) return null;
  return scanPrefixBytes(b, 0, text.length, scanned) ? scanned : null;
}

/** `text` scanned as one address into `out`, or null. */
function addressOf(text: string, out: Uint32Array): Family | null {
  const b = bytesOf(text);
  if (b === null || text.length === 0) return null;
  const family = scanAddressBytes(b, 0, text.length, out);
  return family === NOT_ACCEPTED ? null : family;
}

/** A few items of a list, space-separated, and how many there are in all when more. */
function listed(items: readonly string[]): string {
  const shown = items.slice(0, LIST_SHOWN).map((p) => (p.length > 45 ? `${p.slice(0, 45)}…` : p));
  return shown.join(' ') + (items.length > LIST_SHOWN ? ` … (${items.length} in all)` : '');
}

/** A label as the hint repeats it: printable ASCII only, cut short (the input itself is quoted, escaped, by the message). */
function shortLabel(label: string): string {
  const printable = /^[\x20-\x7e]*$/.test(label) ? label : 'LABEL';
  return printable.length > 24 ? `${printable.slice(0, 24)}…` : printable;
}

const textOut = new Uint8Array(64);
const textView = new DataView(textOut.buffer);

function formatWords(family: Family, words: ArrayLike<number>): string {
  const end = family === 4 ? writeIPv4Bytes(words[0], textOut, 0) : writeIPv6Text(words, textOut, textView, 0, 0);
  let s = '';
  for (let i = 0; i < end; i++) s += String.fromCharCode(textOut[i]);
  return s;
}

/**
 * `A-B` with A and B addresses of one family: the CIDR ranges that cover
 * exactly [A, B] (the fewest), named in the hint; null when it is not one.
 */
function rangeCover(firstText: string, lastText: string): Mistake | null {
  const first = new Uint32Array(4);
  const last = new Uint32Array(4);
  const family = addressOf(firstText, first);
  if (family === null || addressOf(lastText, last) !== family) return null;
  const width = widthOf(family);
  if (compareWords(first, 0, last, 0, width) > 0) {
    return {reason: 'is a range written a-b, and its start is after its end', hint: 'give it as CIDR ranges, first address first'};
  }
  const cover = coverOf(family, first, last);
  const shown = cover.slice(0, COVER_SHOWN).join(', ') + (cover.length > COVER_SHOWN ? ', …' : '');
  const noun = cover.length === 1 ? 'range' : 'ranges';
  return {
    reason: 'is a range written a-b: entries are addresses or CIDR ranges',
    hint: `the same addresses as CIDR: ${shown} (${cover.length} ${noun})`,
  };
}

/** The fewest CIDR ranges whose union is [first, last], as text. */
function coverOf(family: Family, first: Uint32Array, last: Uint32Array): string[] {
  const width = widthOf(family);
  const result: string[] = [];
  coverRange(first, last, width, (network, bits) => {
    const address = formatWords(family, network);
    result.push(bits === width * 32 ? address : `${address}/${bits}`);
  });
  return result;
}
