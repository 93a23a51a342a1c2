/**
 * --quiet (src/cli/flags.ts quietFlag): set once a run by the base command's
 * init, read by what prints a summary or progress. Errors, warnings that need
 * action and a new key's secret never look at it.
 */
let quiet = false;

export function setQuiet(on: boolean): void {
  quiet = on;
}

/** Whether --quiet was given to this run. */
export function isQuiet(): boolean {
  return quiet;
}
