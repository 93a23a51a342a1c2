/** keyward's exit codes (SPEC "Exit codes"): the one place they are defined. */
import {ErrorKind} from '../core/errors.js';

export const EXIT = {
  ok: 0,
  /** check: at least one address denied, or differing from --expect. */
  denied: 1,
  /** sync --dry-run: the store differs from the file (like `git diff --exit-code`). */
  pending: 1,
  usage: 2,
  store: 3,
  safety: 4,
  /** A defect in keyward itself: never one of the contract's codes. */
  internal: 70,
} as const;

export function exitCodeOf(kind: ErrorKind): number {
  switch (kind) {
    case 'usage':
      return EXIT.usage;
    case 'store':
      return EXIT.store;
    case 'safety':
      return EXIT.safety;
  }
}
