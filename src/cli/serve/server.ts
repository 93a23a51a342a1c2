/**
 * The HTTP side of `keyward serve`: a forward-auth decision per request, and
 * /healthz and /metrics. Node's own http server with keep-alive; no request
 * body is ever read; headers are bounded, and slow or idle clients are timed
 * out (see SERVER_LIMITS). Every answer is built from one store snapshot.
 *
 * A request's answer:
 *   204 (allow) / 403 (deny): headers Keyward-Decision, Keyward-Reason,
 *     Keyward-Key (the key's name, never its secret), Keyward-Address and,
 *     when entries matched, Keyward-Matched (comma separated). With
 *     `Accept: application/json` the body is check's JSON object
 *     ({key, ip, decision, reason, matched}) and an allow is 200.
 *   400: no key, a bad address, a proxy header that cannot be read
 *     (Keyward-Error names why; JSON {error: {status, message}} when asked).
 */
import http, {IncomingMessage, ServerResponse} from 'node:http';
import type {Socket} from 'node:net';
import {Family, formatIPv4, formatIPv6, isNoClient, scanDecisionAddress} from '../../core/address.js';
import {decideWords, Decision, KeyPolicy} from '../../core/decision.js';
import {show} from '../../core/errors.js';
import {KeyRecord} from '../../core/model.js';
import {Metrics} from './metrics.js';
import {TrustedProxies} from './options.js';
import {keyOf, StoreView} from './store-view.js';

/** The server's bounds: headers, time to send them and the whole request, keep-alive, connections. */
export const SERVER_LIMITS = {
  /** Bytes of request line and headers; more is 431. */
  maxHeaderSize: 8192,
  /** Header lines; as many or more is 431 (Node keeps this many and drops the rest without a word: a proxy's X-Real-IP among them). */
  maxHeadersCount: 100,
  /** A client must have sent its headers within this (slowloris). */
  headersTimeoutMs: 5000,
  requestTimeoutMs: 10_000,
  /** Longer than the keep-alive of the proxies in front (nginx's upstream default: 60 s), so that they close first. */
  keepAliveTimeoutMs: 75_000,
  /** How often timeouts are enforced. */
  checkEveryMs: 1000,
};

export interface ServeOptions {
  view: StoreView;
  metrics: Metrics;
  keyHeader: string;
  /** serve --key-names: a key's name in the key header names it (else only its secret does). */
  keyNames: boolean;
  trusted: TrustedProxies;
  /** The time of a decision, in ms (KEYWARD_NOW fixes it). */
  nowMs: () => number;
  /** A decision event: learned and committed by the commit loop. */
  event: (key: KeyRecord, family: Family, words: Uint32Array, atMs: number) => void;
  maxConnections: number;
  /** The body of /healthz: the store's health and the commits'. */
  health: () => {status: string};
}

const JSON_TYPE = 'application/json';
const words = new Uint32Array(4);
const peerWords = new Uint32Array(4);

class BadRequest extends Error {
  constructor(
    readonly why: string,
    message: string,
    readonly status = 400,
  ) {
    super(message);
  }
}

/**
 * A header's value as the client wrote it: Node gives header bytes as latin1
 * characters, so UTF-8 (a zero-width joiner inside a pasted secret) would
 * reach a message as three other characters, and escape the masking of a
 * secret broken by it.
 */
function asWritten(value: string): string {
  return /[^\x00-\x7f]/.test(value) ? Buffer.from(value, 'latin1').toString('utf8') : value;
}

/** The address of the client: the connection's, or a trusted proxy's X-Real-IP / X-Forwarded-For. Scanned into `words`. */
export function clientAddress(req: IncomingMessage, trusted: TrustedProxies): {text: string; family: Family} {
  const remote = req.socket.remoteAddress;
  if (remote === undefined) throw new BadRequest('no-address', 'the connection has no address');
  // A link-local peer's address carries its interface (`fe80::1%eth0`), from the kernel, not the client: the address is what is decided.
  const zone = remote.indexOf('%');
  const peer = zone < 0 ? remote : remote.slice(0, zone);
  if (trusted.none) return {text: peer, family: scan(peer, words, 'connection')};
  const peerFamily = scan(peer, peerWords, 'connection');
  if (!trusted.has(peerFamily, peerWords)) return {text: peer, family: scan(peer, words, 'connection')};
  const real = req.headers['x-real-ip'];
  if (typeof real === 'string') {
    const text = real.trim();
    return {text, family: scan(text, words, 'X-Real-IP')};
  }
  const forwarded = req.headers['x-forwarded-for'];
  if (typeof forwarded === 'string') {
    // The rightmost address that is not a trusted proxy: what the last trusted hop saw. Anything left of it the client wrote.
    const hops = forwarded.split(',');
    for (let i = hops.length - 1; i >= 0; i--) {
      const text = hops[i].trim();
      const family = scan(text, words, 'X-Forwarded-For');
      if (i === 0 || !trusted.has(family, words)) return {text, family};
    }
  }
  // A trusted proxy that names no client is misconfigured: deciding for the proxy's own address would let
  // every client through as one (and learn the proxy's network).
  throw new BadRequest('no-address', `the request comes from a --trust-proxy address but has neither X-Real-IP nor X-Forwarded-For`);
}

function scan(text: string, into: Uint32Array, where: string): Family {
  try {
    return scanDecisionAddress(text, into);
  } catch {
    throw new BadRequest('bad-address', `the address in ${where} is not an IP address: ${show(asWritten(text))}`);
  }
}

function wantsJson(req: IncomingMessage): boolean {
  const accept = req.headers.accept;
  // (Media types are case-insensitive: APPLICATION/JSON is JSON.)
  return accept !== undefined && accept.toLowerCase().includes(JSON_TYPE);
}

/** Header values are ASCII: an entry or key name never holds anything else, but a name is checked anyway. */
const headerSafe = (text: string) => (/^[\x20-\x7e]*$/.test(text) ? text : encodeURIComponent(text));

export function createServer(options: ServeOptions): {server: http.Server; stopping: () => void} {
  const {view, metrics, keyHeader, keyNames, trusted, nowMs, event} = options;
  let closing = false;

  const decide = (req: IncomingMessage, res: ServerResponse, started: number) => {
    const snapshot = view.current;
    // Headers beyond the count Node keeps were dropped unseen: one of them may be what decides.
    if (req.rawHeaders.length >= 2 * SERVER_LIMITS.maxHeadersCount) {
      throw new BadRequest('headers-too-large', `more than ${SERVER_LIMITS.maxHeadersCount - 1} header lines`, 431);
    }
    // Node keeps the first Authorization of several (and joins others): an application behind the gateway may read another.
    if (repeated(req.rawHeaders, keyHeader)) throw new BadRequest('no-key', `the ${keyHeader} header is given more than once: which key is meant?`);
    const value = req.headers[keyHeader];
    if (typeof value !== 'string' || value.trim() === '' || /^bearer\s*$/i.test(value.trim())) {
      throw new BadRequest('no-key', typeof value === 'string' ? `no key: the ${keyHeader} header is empty` : `no key: the request has no ${keyHeader} header`);
    }
    const {text, family} = clientAddress(req, trusted);
    const key = keyOf(snapshot, value, keyNames);
    const ip = family === 6 ? formatIPv6(words) : text.includes(':') ? formatIPv4(words[0]) : text;
    let decision: Decision;
    if (key === undefined) {
      decision = {key: '', ip, decision: 'deny', reason: 'unknown-key' as Decision['reason'], matched: []};
    } else {
      const at = nowMs();
      const base = snapshot.policy.forKey(key);
      const policy: KeyPolicy = base.nowMs === at ? base : {...base, nowMs: at};
      decision = decideWords(policy, ip, family, words);
      // An address that is no client's (a proxy's placeholder 0.0.0.0, ::1, multicast) is decided, never learned,
      // seen or blocked, as learn reads it from a log: its network (::/64 holds every ::a.b.c.d) is never learned.
      if (!isNoClient(family, words)) event(key, family, words, at);
    }
    const allow = decision.decision === 'allow';
    const headers: string[] = ['Keyward-Decision', decision.decision, 'Keyward-Reason', decision.reason, 'Keyward-Address', ip, 'Cache-Control', 'no-store'];
    if (key !== undefined) headers.push('Keyward-Key', headerSafe(key.name));
    if (decision.matched.length > 0) headers.push('Keyward-Matched', matchedHeader(decision.matched));
    if (closing) headers.push('Connection', 'close');
    if (wantsJson(req)) {
      const body = JSON.stringify(key === undefined ? {...decision, key: null} : decision);
      headers.push('Content-Type', JSON_TYPE, 'Content-Length', String(Buffer.byteLength(body)));
      res.writeHead(allow ? 200 : 403, headers);
      res.end(body);
    } else {
      if (!allow) headers.push('Content-Length', '0');
      res.writeHead(allow ? 204 : 403, headers);
      res.end();
    }
    metrics.decided(decision.decision, decision.reason, seconds(started));
  };

  const handler = (req: IncomingMessage, res: ServerResponse) => {
    const started = performance.now();
    // No body is read: a request that announces one is answered, then its connection closed (the body is never drained).
    if (req.headers['content-length'] !== undefined ? req.headers['content-length'] !== '0' : req.headers['transfer-encoding'] !== undefined) {
      res.shouldKeepAlive = false;
      res.on('finish', () => req.socket.destroySoon());
    }
    // A write that ended before this request came (a rotation, a revoke) is in effect for it: when the store
    // file changed, the request waits for the new store (see StoreView.fresh).
    const waiting = view.fresh();
    if (waiting === null) answer(req, res, started);
    else void waiting.then(() => answer(req, res, started));
  };

  const answer = (req: IncomingMessage, res: ServerResponse, started: number) => {
    try {
      const url = req.url ?? '/';
      const pathEnd = url.indexOf('?');
      const target = pathEnd < 0 ? url : url.slice(0, pathEnd);
      // (The absolute form, http://host/healthz, names the same path: HTTP/1.1 servers take it.)
      const pathname = target.startsWith('/') ? target : target.replace(/^[a-z][a-z0-9+.-]*:\/\/[^/]*/i, '') || '/';
      if ((pathname === '/healthz' || pathname === '/metrics') && req.headers[keyHeader] === undefined) {
        const body = pathname === '/healthz' ? `${JSON.stringify(options.health())}\n` : metrics.text(Date.now());
        const type = pathname === '/healthz' ? JSON_TYPE : 'text/plain; version=0.0.4; charset=utf-8';
        res.writeHead(200, ['Content-Type', type, 'Content-Length', String(Buffer.byteLength(body)), 'Cache-Control', 'no-store']);
        res.end(req.method === 'HEAD' ? undefined : body);
        return;
      }
      decide(req, res, started);
    } catch (error) {
      if (!(error instanceof BadRequest)) throw error;
      const headers = ['Keyward-Error', error.why, 'Cache-Control', 'no-store'];
      const body = wantsJson(req) ? JSON.stringify({error: {status: error.status, message: error.message}}) : `${error.message}\n`;
      headers.push('Content-Type', wantsJson(req) ? JSON_TYPE : 'text/plain; charset=utf-8', 'Content-Length', String(Buffer.byteLength(body)));
      res.writeHead(error.status, headers);
      res.end(body);
      metrics.refusedRequest(error.why, seconds(started));
    }
  };

  const server = http.createServer(
    {
      maxHeaderSize: SERVER_LIMITS.maxHeaderSize,
      headersTimeout: SERVER_LIMITS.headersTimeoutMs,
      requestTimeout: SERVER_LIMITS.requestTimeoutMs,
      keepAliveTimeout: SERVER_LIMITS.keepAliveTimeoutMs,
      connectionsCheckingInterval: SERVER_LIMITS.checkEveryMs,
      noDelay: true,
    },
    handler,
  );
  server.maxConnections = options.maxConnections;
  server.maxHeadersCount = SERVER_LIMITS.maxHeadersCount;
  // `Expect: 100-continue` is answered, never invited to send its body (Node would say `100 Continue` first): the
  // body is never read, and the connection is closed after the answer as for any request with one (found by an outside tester).
  server.on('checkContinue', handler);
  // Any other expectation is no reason to leave the decision to Node (417 Expectation Failed): every path is a decision.
  server.on('checkExpectation', handler);
  // A malformed request (bad request line, headers too large, a timeout) is answered by Node and the connection closed.
  server.on('clientError', (error: NodeJS.ErrnoException, socket: Socket) => {
    // A client that went away is not a request.
    if (error.code === 'ECONNRESET' || error.code === 'EPIPE') {
      socket.destroy();
      return;
    }
    metrics.refusedRequest(error.code === 'HPE_HEADER_OVERFLOW' ? 'headers-too-large' : error.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 'timeout' : 'malformed', 0);
    if (!socket.writable) {
      socket.destroy();
      return;
    }
    const status =
      error.code === 'HPE_HEADER_OVERFLOW' ? '431 Request Header Fields Too Large' : error.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? '408 Request Timeout' : '400 Bad Request';
    // Closed, not half-closed: a client that never closes its side (a slowloris) must not keep its slot under --max-connections.
    socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`, () => socket.destroy());
    // (Also when the answer cannot be flushed: a client that reads nothing.)
    socket.setTimeout(1000, () => socket.destroy());
  });
  return {
    server,
    stopping: () => {
      closing = true;
    },
  };
}

const seconds = (started: number) => (performance.now() - started) / 1000;

/** Keyward-Matched's longest value: a gateway refuses a response whose headers pass its buffer (nginx: 4 KiB in all). */
export const MATCHED_HEADER_BYTES = 1024;

/** The matched entries as Keyward-Matched gives them: all that fit in MATCHED_HEADER_BYTES, then `...` when some did not (the JSON body has them all). */
function matchedHeader(matched: readonly string[]): string {
  const all = matched.join(', ');
  if (all.length <= MATCHED_HEADER_BYTES) return all;
  let text = '';
  for (const entry of matched) {
    if (text.length + entry.length + ', ...'.length + 2 > MATCHED_HEADER_BYTES) break;
    text += text === '' ? entry : `, ${entry}`;
  }
  return `${text}, ...`;
}

/** Whether the header `name` (lower case) is given more than once among the raw headers. */
function repeated(raw: readonly string[], name: string): boolean {
  let seen = 0;
  for (let i = 0; i < raw.length; i += 2) if (raw[i].length === name.length && raw[i].toLowerCase() === name && ++seen > 1) return true;
  return false;
}
