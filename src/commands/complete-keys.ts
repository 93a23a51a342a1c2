import {KeywardCommand} from '../cli/base.js';
import {visible} from '../core/errors.js';

/**
 * For shell completion (src/hooks/completion-values.ts): the names of the
 * keys in the store, one a line, active ones first. Silent and exit 0 when
 * there is no store or it cannot be read: a completion must never print an
 * error into the line being typed.
 */
export default class CompleteKeys extends KeywardCommand {
  static hidden = true;
  static summary = 'Print the key names of the store, one a line (for shell completion).';

  async run(): Promise<void> {
    await this.parse(CompleteKeys);
    try {
      const data = await this.readStore();
      const names = [...data.keys].sort((a, b) => Number(a.status !== 'active') - Number(b.status !== 'active') || a.name.localeCompare(b.name)).map((k) => visible(k.name));
      if (names.length > 0) process.stdout.write(`${names.join('\n')}\n`);
    } catch {
      // No store, or one that cannot be read: no names to offer.
    }
  }
}
