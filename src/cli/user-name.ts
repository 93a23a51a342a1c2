/**
 * Who ran a command, as the store's history records it: for every writing
 * command (recorded.ts) and for serve's commits.
 */
import os from 'node:os';

/** The login name, else $USER, else "unknown". */
export function userName(): string {
  try {
    const name = os.userInfo().username;
    if (name) return name;
  } catch {
    // No passwd entry for this uid (containers): fall back to the environment.
  }
  return process.env.USER || 'unknown';
}
