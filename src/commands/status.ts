import {isLive} from '../core/decision.js';
import {untrusted} from '../core/errors.js';
import {learningProgress} from '../core/learning.js';
import {KeywardCommand} from '../cli/base.js';
import {paint} from '../cli/render.js';
import {describeLearning, quietDays} from '../cli/views.js';

/** How many of the latest blocked addresses status shows. */
const LATEST = 5;

export default class Status extends KeywardCommand {
  static summary = 'Show blocking per channel, learning progress, counts and the latest blocked addresses.';
  static description = `The store read (its path), then for each channel: whether unknown addresses are refused (active), authorized as they come (learning, API keys only) or allowed (inactive); while learning, the last new address, how many quiet days of traffic were observed and from when an event turns blocking on (time alone never does: it waits for traffic). Then counts of entries, keys, seen and blocked addresses, and the latest blocked. status never writes to the store.`;
  static examples = [
    '<%= config.bin %> status',
    '<%= config.bin %> status --json',
    '<%= config.bin %> status --json | jq -r .api.activatesAt',
  ];

  async run(): Promise<void> {
    const {flags} = await this.parse(Status);
    this.setup(flags);
    const data = await this.readStore();
    const api = data.blocking.api;
    const apiState = api.state;
    const progress = learningProgress(api, data.settings);
    const entries = [data.account, ...data.keys.map((k) => k.allow)].flat();
    const latestBlocked = [...data.blocked].sort((a, b) => (a.lastSeen < b.lastSeen ? 1 : -1)).slice(0, LATEST);
    const status = {
      // Which store was read: a mistyped --store is an error, and this says which file the answer is about.
      store: this.storeFile,
      api: {
        state: apiState,
        learningSince: apiState === 'learning' ? api.learningSince : null,
        lastNewAddressAt: api.lastNewAddressAt,
        activatesAt: progress?.activatesAt.toISOString() ?? null,
        // Quiet time observed (whole days from the window's start to the latest API event) and that latest event.
        quietDays: progress === null ? null : quietDays(progress),
        lastEventAt: progress?.lastEventAt?.toISOString() ?? null,
      },
      smtp: {state: data.blocking.smtp.state},
      counts: {
        accountEntries: data.account.length,
        learnedEntries: data.account.filter((r) => r.source === 'learned').length,
        keyEntries: entries.length - data.account.length,
        expiredEntries: entries.filter((r) => !isLive(r, this.now)).length,
        keys: data.keys.length,
        activeKeys: data.keys.filter((k) => k.status === 'active').length,
        blocked: data.blocked.length,
        seen: data.seen.length,
      },
      latestBlocked,
      settings: data.settings,
    };
    await this.report(status, async () => {
      const c = await paint();
      const show = (state: string) => (state === 'active' ? c.green.bold('active: unknown addresses are refused') : state === 'learning' ? c.cyan('learning: callers are authorized as they come') : c.yellow('inactive: every address is allowed'));
      const lines = [`${c.bold('store')} ${this.storeFile}`, `${c.bold('api ')}  ${show(apiState)}`];
      if (progress !== null) {
        lines.push(`      learning since ${api.learningSince ?? api.changedAt}; last new address ${api.lastNewAddressAt ?? 'none yet'}`);
        for (const line of describeLearning(progress, data.settings.learningWindowDays, this.now)) lines.push(`      ${line}`);
      }
      lines.push(`${c.bold('smtp')}  ${show(status.smtp.state)}`);
      const n = status.counts;
      lines.push(`entries: ${n.accountEntries} in the account list (${n.learnedEntries} learned), ${n.keyEntries} in key lists, ${n.expiredEntries} expired`);
      lines.push(`keys: ${n.keys} (${n.activeKeys} active); seen addresses: ${n.seen}; blocked: ${n.blocked}`);
      if (latestBlocked.length > 0) {
        lines.push(c.red('latest blocked:'));
        for (const b of latestBlocked) lines.push(`  ${b.ip}  key ${untrusted(b.key)} (${b.channel})  last seen ${b.lastSeen}  ×${b.count}`);
      }
      return lines.join('\n');
    });
  }
}
