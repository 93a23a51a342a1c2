/** Errors raised by keyward's core and store: values with a kind and a message a person can act on. */

/**
 * What went wrong, in the terms the exit codes use. The CLI maps each kind to
 * its exit code in one place (src/cli/exit-codes.ts); the core never exits.
 */
export type ErrorKind = 'usage' | 'store' | 'safety';

export class KeywardError extends Error {
  constructor(
    readonly kind: ErrorKind,
    message: string,
    /** A next step for the operator, printed after the message. */
    readonly hint?: string,
  ) {
    super(message);
    this.name = 'KeywardError';
  }
}

/** Bad input: an address, an entry, a line, a flag value, an unknown key. */
export class InputError extends KeywardError {
  constructor(message: string, hint?: string) {
    super('usage', message, hint);
    this.name = 'InputError';
  }
}

/** An address or range refused by the grammar; `input` is the text as given. */
export class AddressError extends InputError {
  constructor(
    readonly input: string,
    readonly reason: string,
    hint?: string,
  ) {
    super(`${show(input)} ${reason}`, hint);
    this.name = 'AddressError';
  }
}

/** The action would weaken protection and needs --force or a confirmation. */
export class SafetyError extends KeywardError {
  constructor(message: string, hint?: string) {
    super('safety', message, hint);
    this.name = 'SafetyError';
  }
}

const SHOWN_INPUT_LIMIT = 80;

/**
 * Quote an input for a message so that control characters, NUL bytes and
 * very long strings are visible and bounded.
 */
export function show(input: string): string {
  const cut = input.length > SHOWN_INPUT_LIMIT ? input.slice(0, SHOWN_INPUT_LIMIT) : input;
  const escaped = JSON.stringify(cut).slice(1, -1);
  const more = input.length > SHOWN_INPUT_LIMIT ? `… (${input.length} characters)` : '';
  return `\`${escaped}\`${more}`;
}
