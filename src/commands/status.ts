import {activatesAt, effectiveState, isLive} from '../core/decision.js';
import {untrusted} from '../core/errors.js';
import {DAY_MS} from '../core/time.js';
import {KeywardCommand} from '../cli/base.js';
import {paint} from '../cli/render.js';

/** How many of the latest blocked addresses status shows. */
const LATEST = 5;

export default class Status extends KeywardCommand {
  static summary = 'Show blocking per channel, learning progress, counts and the latest blocked addresses.';
  static description = `For each channel: whether unknown addresses are refused (active), authorized as they come (learning, API keys only) or allowed (inactive); while learning, the last new address and when blocking turns itself on. Then counts of entries, keys, seen and blocked addresses, and the latest blocked. status never writes to the store.`;
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
    const apiState = effectiveState(data, 'api', this.now);
    const activation = apiState === 'learning' ? activatesAt(api, data.settings) : null;
    const entries = [data.account, ...data.keys.map((k) => k.allow)].flat();
    const latestBlocked = [...data.blocked].sort((a, b) => (a.lastSeen < b.lastSeen ? 1 : -1)).slice(0, LATEST);
    const status = {
      api: {
        state: apiState,
        learningSince: apiState === 'learning' ? api.learningSince : null,
        lastNewAddressAt: api.lastNewAddressAt,
        activatesAt: activation?.toISOString() ?? null,
      },
      smtp: {state: effectiveState(data, 'smtp', this.now)},
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
      const lines = [`${c.bold('api ')}  ${show(apiState)}`];
      if (apiState === 'learning') {
        if (activation) {
          const left = Math.max(0, (activation.getTime() - this.now.getTime()) / DAY_MS);
          lines.push(`      last new address ${api.lastNewAddressAt ?? 'none yet'}; blocking turns on at ${activation.toISOString()} (${left.toFixed(1)} days left, window ${data.settings.learningWindowDays} days)`);
        } else {
          lines.push('      no event seen yet: learning will not turn blocking on by itself until keys are used');
        }
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
