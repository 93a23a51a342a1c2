/**
 * `keyward serve` as the tests run it: a subprocess of the built bin/run.js on
 * a workspace's store, listening on a free loopback port (--listen
 * 127.0.0.1:0; the address is read from its "listening on" line), and plain
 * HTTP requests to it. Every wait is on a condition, with generous limits.
 */
import {ChildProcess, spawn} from 'node:child_process';
import http from 'node:http';
import {expect} from 'chai';
import {BIN, environment, Workspace} from './harness.js';

export const WAIT_MS = 20_000;

export interface Served {
  child: ChildProcess;
  url: string;
  host: string;
  port: number;
  stderr(): string;
  stdout(): string;
  exited: Promise<{code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string}>;
}

/**
 * Starts `keyward serve ARGS` (on 127.0.0.1:0 unless --listen is given);
 * resolves once it listens. With --key-names unless `names` is false: most
 * tests name their keys in the header (`names: false` serves as deployed by
 * default, secrets only).
 */
export async function serve(
  ws: Workspace,
  args: string[] = [],
  options: {env?: Record<string, string>; now?: string; command?: string[]; names?: boolean} = {},
): Promise<Served> {
  const listen = args.includes('--listen') ? [] : ['--listen', '127.0.0.1:0'];
  const names = options.names === false || args.includes('--key-names') ? [] : ['--key-names'];
  const [command, ...prefix] = options.command ?? [process.execPath];
  const child = spawn(command, [...prefix, BIN, 'serve', ...listen, ...names, ...args], {
    cwd: ws.dir,
    env: environment(ws.store, {now: options.now, env: options.env}),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (t: string) => (stdout += t));
  child.stderr!.setEncoding('utf8').on('data', (t: string) => (stderr += t));
  const exited = new Promise<{code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string}>((resolve) =>
    child.on('close', (code, signal) => resolve({code, signal, stdout, stderr})),
  );
  const killer = setTimeout(() => child.kill('SIGKILL'), 120_000);
  void exited.then(() => clearTimeout(killer));
  let ended = false;
  void exited.then(() => (ended = true));
  const m = await waitFor(
    'serve to listen',
    () => {
      if (ended) throw new Error(`serve exited before listening\n--- stderr ---\n${stderr}`);
      return /listening on http:\/\/(\[[^\]]+\]|[\d.]+):(\d+)/.exec(stderr);
    },
    WAIT_MS,
    () => stderr,
  );
  const host = m[1].replace(/^\[|\]$/g, '');
  return {child, url: `http://${m[1]}:${m[2]}`, host, port: Number(m[2]), stderr: () => stderr, stdout: () => stdout, exited};
}

/** Waits until `condition` holds (polled; a throw counts as not yet, unless it says serve exited), or fails naming `what`. */
export async function waitFor<T>(what: string, condition: () => T | null | undefined | false, timeoutMs = WAIT_MS, log?: () => string): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    let value: T | null | undefined | false = null;
    try {
      value = condition();
    } catch (error) {
      if ((error as Error).message.includes('serve exited')) throw error;
    }
    if (value) return value;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}${log ? `\n--- serve stderr ---\n${log()}` : ''}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/** Waits until an async `condition` holds. */
export async function waitForAsync<T>(what: string, condition: () => Promise<T | null | undefined | false>, timeoutMs = WAIT_MS, log?: () => string): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const value = await condition().catch(() => null);
    if (value) return value;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}${log ? `\n--- serve stderr ---\n${log()}` : ''}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

export interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
  json(): any;
}

/** One HTTP request; `headers` as given (several values of a name as an array). */
export function request(
  base: string,
  path = '/auth',
  headers: Record<string, string | string[]> = {},
  options: {method?: string; agent?: http.Agent; timeoutMs?: number} = {},
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = http.request(`${base}${path}`, {method: options.method ?? 'GET', headers, agent: options.agent ?? false, timeout: options.timeoutMs ?? 10_000}, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (t: string) => (body += t));
      res.on('end', () =>
        resolve({
          status: res.statusCode!,
          headers: res.headers,
          body,
          json() {
            return JSON.parse(body);
          },
        }),
      );
    });
    req.on('timeout', () => req.destroy(new Error(`no answer within ${options.timeoutMs ?? 10_000} ms`)));
    req.on('error', reject);
    req.end();
  });
}

export async function stop(s: Served, signal: NodeJS.Signals = 'SIGTERM') {
  s.child.kill(signal);
  const done = await s.exited;
  expect(done.code, `exit ${done.code} (${done.signal})\n--- stderr ---\n${done.stderr}`).to.equal(0);
  return done;
}
