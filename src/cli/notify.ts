/**
 * Notifications of newly blocked addresses: the three ways out as commands to
 * paste, and --notify-command, run once per address with a JSON payload on
 * its stdin. A failing command is reported, never fatal.
 */
import {spawn, type ChildProcessByStdio} from 'node:child_process';
import type {Readable, Writable} from 'node:stream';
import {InputError, untrusted} from '../core/errors.js';
import {BlockedRecord} from '../core/model.js';

const NOTIFY_TIMEOUT_MS = 30_000;

/** The notifications running, each its own process group (see killGroup). */
const running = new Set<ChildProcessByStdio<Writable, null, Readable>>();
/** Those killed by stopNotifications: reported as stopped, not as failed. */
const stopped = new WeakSet<object>();

/**
 * Kills a notification's process group: the shell and whatever it started
 * (a script that runs `sleep`), which would otherwise hold its pipes open
 * past the kill of the shell alone.
 */
function killGroup(child: ChildProcessByStdio<Writable, null, Readable>): void {
  try {
    if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
  } catch {
    child.kill('SIGKILL');
  }
}

/** Kills the notifications running: a stopping follower's grace time is over (see follow.ts). */
export function stopNotifications(): void {
  for (const child of running) {
    stopped.add(child);
    killGroup(child);
  }
}

/**
 * What an operator can do about a blocked address, as commands to paste,
 * for the refusal it was: let it in where it was refused (the account list,
 * the key's own list, or the deny entry that refused it), rotate the key (a
 * stolen one), and, for the account list only, turn blocking off. A key
 * list or a deny entry refuses in every blocking state: deactivating would
 * not let the address in, so it is not offered. A record from before
 * reasons were kept gets the account list's three.
 */
/** ` --store PATH` when the command was given --store: the ways out it prints must change that store, not the default one. */
let storeWords = '';

/** Names the store given on the command line (--store) in every way out printed from now on. */
export function nameStoreInWaysOut(store: string | undefined): void {
  storeWords = store === undefined ? '' : ` --store ${/^[\w@%+=:,./-]+$/.test(store) ? store : `'${store.replaceAll("'", "'\\''")}'`}`;
}

export function waysOut(b: BlockedRecord): string[] {
  return commandsOut(b).map((line) => line + storeWords);
}

function commandsOut(b: BlockedRecord): string[] {
  const rotate = `keyward keys rotate ${b.key}`;
  switch (b.reason) {
    case 'not-in-key-allowlist':
      return [`keyward authorize ${b.ip} --key ${b.key}`, rotate];
    case 'denied': {
      const by = b.deniedBy;
      const lift = by === undefined ? `keyward list --contains ${b.ip}` : `keyward revoke --deny ${by.entry}${by.scope === 'key' ? ` --key ${b.key}` : ''}`;
      return [lift, rotate];
    }
    case 'key-revoked':
      // The key is retired: its caller needs a key that is not.
      return [`keyward keys create NAME --type ${b.channel}`];
    default:
      return [`keyward authorize ${b.ip}`, rotate, `keyward deactivate --${b.channel}`];
  }
}

export function notificationPayload(b: BlockedRecord) {
  return {
    event: 'blocked',
    ip: b.ip,
    key: b.key,
    channel: b.channel,
    firstSeen: b.firstSeen,
    lastSeen: b.lastSeen,
    count: b.count,
    ...(b.reason === undefined ? {} : {reason: b.reason}),
    waysOut: waysOut(b),
  };
}

/** Refuses (InputError) an empty --notify-command: it would run nothing, and say so at every blocked address. */
export function checkNotifyCommand(command: string | undefined): void {
  if (command !== undefined && command.trim() === '') throw new InputError('--notify-command is empty: give the command to run, or leave the flag out');
}

/** Runs `command` through the shell with `payload` on stdin; resolves to an error message, or null on success. */
export function runNotify(command: string, payload: unknown): Promise<string | null> {
  return new Promise((resolve) => {
    let child: ChildProcessByStdio<Writable, null, Readable>;
    try {
      // Its own process group (detached), so that a timeout or a stop kills all it started.
      child = spawn(command, {shell: true, stdio: ['pipe', 'ignore', 'pipe'], detached: true});
    } catch (error) {
      // (Node's permission model refuses a child process at once, by a throw: reported like any command that failed.)
      const code = (error as {code?: unknown}).code;
      resolve(code === 'ERR_ACCESS_DENIED' ? "Node's permission model refused running it: start node with --allow-child-process" : String((error as Error).message));
      return;
    }
    running.add(child);
    let stderr = '';
    const timer = setTimeout(() => killGroup(child), NOTIFY_TIMEOUT_MS);
    child.stderr.on('data', (chunk: Buffer) => {
      if (stderr.length < 500) stderr += chunk.toString('utf8');
    });
    child.on('error', (error) => {
      clearTimeout(timer);
      running.delete(child);
      resolve(error.message);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      running.delete(child);
      if (code === 0) resolve(null);
      else if (stopped.has(child)) resolve('stopped: still running when the grace time of a stop was over');
      else resolve(`${signal ? `killed by ${signal}` : `exit ${code}`}${stderr.trim() ? `: ${untrusted(stderr.trim().split('\n')[0])}` : ''}`);
    });
    child.stdin.on('error', () => undefined);
    child.stdin.end(`${JSON.stringify(payload)}\n`);
  });
}

/** Runs `command` for each newly blocked address; returns the failures, "ADDRESS (KEY): why". */
export async function notifyBlocked(command: string, blocked: readonly BlockedRecord[], skip?: {when: () => boolean; skipped: number}): Promise<string[]> {
  const failures: string[] = [];
  for (const b of blocked) {
    // A follower told to stop runs no more notifications once its grace time is over (see follow.ts).
    if (skip?.when()) {
      skip.skipped++;
      continue;
    }
    const failure = await runNotify(command, notificationPayload(b));
    if (failure !== null) failures.push(`${b.ip} (${b.key}): ${failure}`);
  }
  return failures;
}
