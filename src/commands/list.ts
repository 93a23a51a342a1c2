import {Flags} from '@oclif/core';
import {aggregate} from '../core/aggregate.js';
import {isLive} from '../core/decision.js';
import {untrusted} from '../core/errors.js';
import {findKey} from '../core/keys.js';
import {EntryRecord} from '../core/model.js';
import {Prefix} from '../core/prefix.js';
import {KeywardCommand} from '../cli/base.js';
import {keyFlag} from '../cli/flags.js';
import {paint, table} from '../cli/render.js';

interface Row extends EntryRecord {
  scope: string;
}

export default class List extends KeywardCommand {
  static summary = 'Show the account list and key lists, with source, label and expiry.';
  static description = `Expired entries are shown as such; they never match. --aggregate prints instead the fewest CIDR ranges covering the same live addresses, per list.`;
  static examples = [
    '<%= config.bin %> list',
    '<%= config.bin %> list --key billing --json',
    '<%= config.bin %> list --aggregate',
  ];
  static flags = {
    key: keyFlag,
    account: Flags.boolean({description: 'only the account list', exclusive: ['key']}),
    aggregate: Flags.boolean({char: 'a', description: 'print the minimal CIDR cover of each list\'s live entries'}),
  };

  async run(): Promise<void> {
    const {flags} = await this.parse(List);
    this.setup(flags);
    const data = await this.readStore();
    const scopes: {scope: string; records: EntryRecord[]}[] = [];
    if (flags.key !== undefined) {
      const key = findKey(data.keys, flags.key);
      scopes.push({scope: key.name, records: key.allow});
    } else {
      scopes.push({scope: 'account', records: data.account});
      if (!flags.account) for (const key of data.keys) if (key.allow.length > 0) scopes.push({scope: key.name, records: key.allow});
    }

    if (flags.aggregate) {
      const rows = scopes.flatMap(({scope, records}) =>
        aggregate(records.filter((r) => isLive(r, this.now)).map((r) => Prefix.parse(r.entry))).map((p) => ({entry: p.toString(), scope})),
      );
      await this.report(rows, () => (rows.length === 0 ? 'no live entries' : rows.map((r) => (flags.key || scopes.length === 1 ? r.entry : `${r.entry}\t${untrusted(r.scope)}`)).join('\n')));
      return;
    }

    const rows: Row[] = scopes.flatMap(({scope, records}) => records.map((r) => ({...r, scope})));
    const json = rows.map((r) => ({entry: r.entry, scope: r.scope, source: r.source, label: r.label, addedAt: r.addedAt, expiresAt: r.expiresAt}));
    await this.report(json, async () => {
      if (rows.length === 0) return 'no entries (add some with `keyward authorize`)';
      const c = await paint();
      return table(
        ['entry', 'scope', 'source', 'label', 'added', 'expires'],
        rows.map((r) => [
          isLive(r, this.now) ? r.entry : c.dim(r.entry),
          // Labels and key names are untrusted (an import, a hand-edited store): shown escaped.
          untrusted(r.scope),
          r.source,
          r.label === null ? null : untrusted(r.label),
          r.addedAt,
          r.expiresAt === null ? null : isLive(r, this.now) ? r.expiresAt : c.red(`expired ${r.expiresAt}`),
        ]),
      );
    });
  }
}
