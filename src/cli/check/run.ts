/**
 * `check`, run: the one runner behind both the oclif command
 * (src/commands/check.ts) and bin/run.js's fast path, which answers a plain
 * `keyward check ...` without loading oclif, lowdb, the lock or chalk. The
 * fast path takes only command lines whose meaning is certain
 * (`parseCheckArgv`); anything else goes to oclif, so that help, flag errors
 * and their exit codes stay oclif's.
 */
import {fstatSync} from 'node:fs';
import type {Readable} from 'node:stream';
import {Policy, Verdict} from '../../core/decision.js';
import {InputError} from '../../core/errors.js';
import {readIndexCache} from '../../store/index-cache.js';
import {now} from '../clock.js';
import {EXIT} from '../exit-codes.js';
import {palette, reportFailure, tell} from '../messages.js';
import {dataDir, storeFileOf} from '../store-path.js';
import {DescriptorInput, writeDecisions} from './decisions.js';
import {count as counted, grouped} from '../../core/count.js';

/** The values of --print. */
export const PRINTED_DECISIONS = ['allowed', 'denied'] as const;
export type PrintedDecisions = (typeof PRINTED_DECISIONS)[number];

export interface CheckRequest {
  /** KEY: a key's name or secret. */
  key: string;
  /** The addresses given after KEY, `-` among them when given. */
  addresses: string[];
  /** --store, when given. */
  store?: string;
  json: boolean;
  ndjson: boolean;
  expect?: Verdict;
  /** --print: only the addresses with this decision, each as given, one a line (a filter, like grepcidr). */
  print?: PrintedDecisions;
  /** The data directory, where the default store is (oclif's config.dataDir). */
  dataDir: () => string;
}

/**
 * Decides and prints; sets the exit code for denials. Throws KeywardErrors
 * (bad address, unknown key, unreadable store) for the caller to report.
 */
export async function runCheck(request: CheckRequest): Promise<void> {
  const storeFile = storeFileOf(request.store, request.dataDir);
  const at = now();
  const {addresses, json, ndjson, print} = request;
  if (print !== undefined && (json || ndjson)) throw new InputError('--print cannot be used with --json or --ndjson', '--print writes addresses, one a line');
  // Stdin only for `-`, never because it is a pipe: in `while read ip; do keyward check bot $ip; done`
  // an empty $ip must not swallow the loop's remaining lines.
  const fromStdin = addresses.includes('-');
  if (addresses.length === 0) {
    throw new InputError('no address given', 'give addresses as arguments, or - to read them from stdin');
  }
  // Decisions come in the order of the input: arguments before `-` are decided first, then the stream;
  // an argument after `-` could only come out of order.
  if (fromStdin && addresses.indexOf('-') < addresses.length - 1) {
    throw new InputError(
      '- (stdin) must come last: addresses after it would be decided before the stream',
      'put them before -, or on stdin: (cat; echo ADDRESS) | keyward check KEY -',
    );
  }
  // The index cache beside a large store, when it is the store's; else the store itself.
  const cached = readIndexCache(storeFile, at);
  // The JSON reader (and the schema) is loaded only when it is needed.
  const policy = cached ? new Policy(cached.data, at, cached.account) : new Policy(await (await import('../../store/read.js')).readStore(storeFile), at);
  const wanted: Verdict = request.expect ?? 'allow';
  const {count, misses} = await writeDecisions({
    policy: policy.forKey(policy.findCheckKey(request.key, addresses)),
    addresses: addresses.flatMap((text, i) => (text === '-' ? [] : [{text, where: `argument ${i + 2}`}])),
    stream: fromStdin ? stdinInput() : null,
    out: process.stdout,
    format: print ? 'print' : ndjson ? 'ndjson' : json ? 'json' : 'human',
    wanted,
    printed: print === 'denied' ? 'deny' : 'allow',
    colour: await palette(process.stdout),
    accountTexts: cached ? {index: cached.account, bytes: cached.entryBytes, offsets: cached.entryOffsets} : null,
  });
  // An empty stdin (a CI job's /dev/null, an unset $IP) must not pass as "every address allowed".
  if (count === 0) throw new InputError('no address given: stdin had none', 'give addresses as arguments, or one a line on stdin');
  if (misses > 0) {
    // (A filter's output and exit code say it all: nothing more on stderr.)
    if (!json && !ndjson && !print) {
      await tell(`${grouped(misses)} of ${counted(count, 'address', 'addresses')} ${request.expect ? `did not get "${wanted}"` : 'denied'}`, 'warn');
    }
    process.exitCode = EXIT.denied;
  }
}

/**
 * Stdin as check reads it: a file or a pipe straight from its descriptor
 * (process.stdin, once made, would read it through another thread and set
 * a pipe non-blocking), anything else (a terminal, a socket) as a stream.
 */
function stdinInput(): Readable | DescriptorInput {
  if (process.platform !== 'win32') {
    let folder = false;
    try {
      const stats = fstatSync(0);
      if (stats.isFile() || stats.isFIFO()) return {fd: 0, pipe: !stats.isFile(), stream: () => process.stdin};
      // (Read as empty by Node: "stdin had none", where the operator meant a file in that folder.)
      if (stats.isDirectory()) folder = true;
    } catch {
      // (An unusual stdin: read as a stream, which reports its own errors.)
    }
    if (folder) throw new InputError('stdin is a folder, not a file or a pipe', 'give a file: keyward check KEY - < FILE');
  }
  return process.stdin;
}

/**
 * The request of a `check` command line (the words after `check`), or null
 * when oclif must handle it: help, an unknown or repeated flag, a flag
 * without its value, `--json` with `--ndjson`, `--print` with either, an
 * --expect value other than allow or deny, a --print value other than allowed
 * or denied, no KEY, `--`, an empty word or any other word starting
 * with `-` (but `-` itself). Flags may come anywhere, as oclif allows.
 */
export function parseCheckArgv(argv: readonly string[]): Omit<CheckRequest, 'dataDir'> | null {
  const positional: string[] = [];
  const seen = new Set<string>();
  let store: string | undefined;
  let expect: Verdict | undefined;
  let print: PrintedDecisions | undefined;
  for (let i = 0; i < argv.length; i++) {
    const word = argv[i];
    if (word === '-') {
      positional.push(word);
      continue;
    }
    if (word.length === 0 || word === '--') return null;
    if (!word.startsWith('--')) {
      if (word.startsWith('-')) return null;
      positional.push(word);
      continue;
    }
    const eq = word.indexOf('=');
    const name = word.slice(2, eq < 0 ? undefined : eq);
    if (seen.has(name)) return null;
    seen.add(name);
    if (name === 'json' || name === 'ndjson') {
      if (eq >= 0) return null;
      continue;
    }
    if (name !== 'store' && name !== 'expect' && name !== 'print') return null;
    let value: string | undefined;
    if (eq >= 0) value = word.slice(eq + 1);
    else value = argv[++i];
    if (value === undefined || value.length === 0 || value.startsWith('-')) return null;
    if (name === 'store') store = value;
    else if (name === 'print') {
      if (value === 'allowed' || value === 'denied') print = value;
      else return null;
    } else if (value === 'allow' || value === 'deny') expect = value;
    else return null;
  }
  if (positional.length === 0 || (seen.has('json') && seen.has('ndjson'))) return null;
  if (print !== undefined && (seen.has('json') || seen.has('ndjson'))) return null;
  return {key: positional[0], addresses: positional.slice(1), store, json: seen.has('json'), ndjson: seen.has('ndjson'), expect, print};
}

/**
 * A reader that went away (`| head`) is not an error, and there is no one
 * left to answer: stop with the exit code so far, rather than wait for the
 * output to drain, which it never will (Node would exit 13 for the unsettled
 * wait). For `check` on both paths.
 */
export function stopWhenReaderGoes(): void {
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EPIPE') throw error;
    process.exit(process.exitCode ?? 0);
  });
}

/**
 * bin/run.js's fast path: runs `check` for `argv` (the words after `check`)
 * and returns true, or returns false, having done nothing, when oclif must
 * run it. Errors are reported as the oclif command reports them.
 */
export async function runFast(argv: readonly string[]): Promise<boolean> {
  const request = parseCheckArgv(argv);
  if (request === null) return false;
  stopWhenReaderGoes();
  try {
    await runCheck({...request, dataDir: () => dataDir()});
  } catch (error) {
    await reportFailure(error, {json: request.json});
  }
  return true;
}
