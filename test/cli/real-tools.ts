/**
 * The real gateways and firewalls the export tests load their files into
 * (nginx, haproxy, nft, ipset): finding them, running them, and a private
 * network namespace so that nothing reaches this machine's firewall.
 */
import {spawnSync} from 'node:child_process';
import {existsSync} from 'node:fs';
import path from 'node:path';

/** The path of a system tool, or null. */
export function findTool(name: string): string | null {
  for (const dir of [...(process.env.PATH ?? '').split(':'), '/usr/sbin', '/sbin']) {
    const file = path.join(dir, name);
    if (dir !== '' && existsSync(file)) return file;
  }
  return null;
}

/** Runs a tool; its exit code and everything it printed. */
export function runTool(command: string, args: string[]): {code: number | null; out: string} {
  const r = spawnSync(command, args, {encoding: 'utf8', timeout: 30_000});
  return {code: r.status, out: `${r.stdout ?? ''}${r.stderr ?? ''}${r.error ? r.error.message : ''}`};
}

/** Skips a test that needs a tool this machine lacks, saying which. */
export function skipBecause(context: Mocha.Context, why: string): never {
  console.log(`      (skipped: ${why})`);
  context.skip();
}

/** Runs a shell script in a private network namespace, or null when that is not permitted. */
export function inPrivateNetns(script: string, ...args: string[]): {code: number | null; out: string} | null {
  const unshare = findTool('unshare');
  if (unshare === null || runTool(unshare, ['--net', 'true']).code !== 0) return null;
  return runTool(unshare, ['--net', 'sh', '-c', script, 'sh', ...args]);
}
