/**
 * `keyward serve`'s flags read into values: where it listens, which proxies
 * it trusts to name the client's address, which header carries the key.
 */
import {Family, formatIPv4, formatIPv6, scanAddress} from '../../core/address.js';
import {parseEntry} from '../../core/entry-parse.js';
import {aboutInput, AddressError, holdsSecret, InputError, KeywardError, show} from '../../core/errors.js';
import {CompiledIndex} from '../../core/prefix-index.js';

export const DEFAULT_LISTEN = '127.0.0.1:8431';
export const DEFAULT_KEY_HEADER = 'X-Api-Key';

export interface Listen {
  /** An IP address literal, canonical (IPv6 without brackets). */
  host: string;
  port: number;
  family: Family;
  loopback: boolean;
}

/** `--listen HOST:PORT` (`[IPV6]:PORT` for IPv6); port 0 takes any free port. Host names are refused. */
export function parseListen(text: string): Listen {
  const m = /^(?:\[([^\]]*)\]|([^:[\]]*)):(\d{1,5})$/.exec(text);
  const how = 'give ADDRESS:PORT, e.g. 127.0.0.1:8431, [::1]:8431 or 0.0.0.0:8431';
  if (m === null) throw new InputError(`--listen ${show(text)} is not ADDRESS:PORT`, how);
  const port = Number(m[3]);
  if (port > 65_535 || (m[3].length > 1 && m[3].startsWith('0'))) throw new InputError(`--listen ${show(text)}: the port must be 0 to 65535`, how);
  const given = m[1] ?? m[2];
  const words = new Uint32Array(4);
  let family: Family;
  try {
    family = scanAddress(given, words);
  } catch (error) {
    // The address grammar's own words for the mistake (a zone index, a host name, a short form), and its fix when it has one.
    if (error instanceof InputError) throw aboutInput(new InputError(`--listen ${show(text)}: ${error.message}`, error.hint ?? how), given);
    throw error;
  }
  if (family === 6 && m[1] === undefined) throw new InputError(`--listen ${show(text)}: write an IPv6 address in brackets`, how);
  if (family === 4 && m[1] !== undefined) throw new InputError(`--listen ${show(text)}: brackets are for IPv6 addresses`, how);
  const host = family === 4 ? formatIPv4(words[0]) : formatIPv6(words);
  const loopback = family === 4 ? words[0] >>> 24 === 127 : host === '::1' || (host.startsWith('::ffff:127.') && words[2] === 0xffff);
  return {host, port, family, loopback};
}

/** The ranges of --trust-proxy: a connection from one of them may name the client's address in a header. */
export class TrustedProxies {
  private constructor(
    private readonly index: CompiledIndex | null,
    readonly entries: string[],
  ) {}

  static parse(texts: readonly string[]): TrustedProxies {
    const entries = texts.flatMap((t) => t.split(',')).map((t) => t.trim());
    const broad = (text: string) =>
      new InputError(`--trust-proxy ${show(text)} is broader than /8 (IPv4) or /16 (IPv6): any client there could name any address`, 'name the proxies themselves');
    const canonical = entries.map((text) => {
      try {
        return parseEntry(text).toString();
      } catch (error) {
        if (error instanceof KeywardError && error.kind === 'safety') throw broad(text);
        // (serve has no --normalize: a range with host bits set is written as its network; one both broad and with host bits is broad.)
        if (error instanceof AddressError && error.reason.startsWith('has host bits set')) {
          const network = parseEntry(text, {normalize: true, force: true}).toString();
          if (parseEntry(network, {force: true}).bits < (network.includes(':') ? 16 : 8)) throw broad(text);
          throw new InputError(`--trust-proxy: ${error.message}`, `write ${network}`);
        }
        // (An entry's hint about labels, `ADDRESS # label`, means nothing for a flag.)
        const hint = error instanceof KeywardError && error.hint?.includes('#') ? "give the proxies' addresses or ranges: --trust-proxy 10.0.0.5,10.0.1.0/24" : undefined;
        if (error instanceof KeywardError) throw new InputError(`--trust-proxy: ${error.message}`, hint ?? error.hint);
        throw error;
      }
    });
    return new TrustedProxies(canonical.length === 0 ? null : CompiledIndex.fromTexts(canonical), canonical);
  }

  /** Whether the address (scanned, unmapped) is a trusted proxy. */
  has(family: Family, words: Uint32Array): boolean {
    return this.index !== null && this.index.has(family, words);
  }

  get none(): boolean {
    return this.index === null;
  }
}

const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,100}$/;

/** --key-header NAME: an HTTP header name, as Node gives it (lower case). */
export function parseKeyHeader(text: string): string {
  if (holdsSecret(text))
    throw new InputError(`--key-header ${show(text)} looks like a key's secret, not a header's name`, 'give the name of the header that holds the key, e.g. X-Api-Key');
  if (!TOKEN.test(text)) throw new InputError(`--key-header ${show(text)} is not an HTTP header name`, 'e.g. X-Api-Key, Authorization');
  // (The headers that name the client's address, or the request's host: never a key.)
  if (['x-real-ip', 'x-forwarded-for', 'host'].includes(text.toLowerCase())) {
    throw new InputError(`--key-header ${show(text)} names the client's address or the request's host, not a key`, 'e.g. X-Api-Key, Authorization');
  }
  return text.toLowerCase();
}
