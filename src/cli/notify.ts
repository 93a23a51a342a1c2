/**
 * Notifications of newly blocked addresses: the three ways out as commands to
 * paste, and --notify-command, run once per address with a JSON payload on
 * its stdin. A failing command is reported, never fatal.
 */
import {spawn} from 'node:child_process';
import {untrusted} from '../core/errors.js';
import {BlockedRecord} from '../core/model.js';

const NOTIFY_TIMEOUT_MS = 30_000;

/** What an operator can do about a blocked address, as commands to paste. */
export function waysOut(b: BlockedRecord): string[] {
  return [`keyward authorize ${b.ip}`, `keyward keys rotate ${b.key}`, `keyward deactivate --${b.channel}`];
}

export function notificationPayload(b: BlockedRecord) {
  return {event: 'blocked', ip: b.ip, key: b.key, channel: b.channel, firstSeen: b.firstSeen, lastSeen: b.lastSeen, count: b.count, waysOut: waysOut(b)};
}

/** Runs `command` through the shell with `payload` on stdin; resolves to an error message, or null on success. */
export function runNotify(command: string, payload: unknown): Promise<string | null> {
  return new Promise((resolve) => {
    const child = spawn(command, {shell: true, stdio: ['pipe', 'ignore', 'pipe']});
    let stderr = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), NOTIFY_TIMEOUT_MS);
    child.stderr.on('data', (chunk: Buffer) => {
      if (stderr.length < 500) stderr += chunk.toString('utf8');
    });
    child.on('error', (error) => {
      clearTimeout(timer);
      resolve(error.message);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve(null);
      else resolve(`${signal ? `killed by ${signal}` : `exit ${code}`}${stderr.trim() ? `: ${untrusted(stderr.trim().split('\n')[0])}` : ''}`);
    });
    child.stdin.on('error', () => undefined);
    child.stdin.end(`${JSON.stringify(payload)}\n`);
  });
}

/** Runs `command` for each newly blocked address; returns the failures, "ADDRESS (KEY): why". */
export async function notifyBlocked(command: string, blocked: readonly BlockedRecord[]): Promise<string[]> {
  const failures: string[] = [];
  for (const b of blocked) {
    const failure = await runNotify(command, notificationPayload(b));
    if (failure !== null) failures.push(`${b.ip} (${b.key}): ${failure}`);
  }
  return failures;
}
