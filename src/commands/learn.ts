import {Readable} from 'node:stream';
import {Args, Flags} from '@oclif/core';
import {scanDecisionAddress} from '../core/address.js';
import {InputError, untrusted} from '../core/errors.js';
import {parseEventLine} from '../core/events.js';
import {activatesAt, applyEvents, checkEventTime, EventLog, LearnOutcome, learningProgress} from '../core/learning.js';
import {MAX_SETTING_DAYS, StoreData} from '../core/model.js';
import {parseWholeDays} from '../core/time.js';
import {KeywardCommand} from '../cli/base.js';
import {dryRunFlag} from '../cli/flags.js';
import {argumentsInOrder, eachLine, openFile} from '../cli/input.js';
import {startProgress} from '../cli/progress.js';
import {notificationPayload, runNotify, waysOut} from '../cli/notify.js';
import {describeLearning} from '../cli/views.js';

/** How many bad lines and unknown keys a report shows. */
const SAMPLES = 5;

export default class Learn extends KeywardCommand {
  static summary = 'Apply a log of key uses: learn API callers\' networks, block refused addresses.';
  static description = `Events are lines \`KEY ADDRESS [ISO-8601 TIME]\` (# comments) or NDJSON objects {"key","ip","at"}, from files or - (stdin; read only when - is given), applied in time order; an event without a time happens now (the summary counts them; --strict refuses them), and one dated more than 5 minutes after now is a bad line. While API keys are learning, a caller no account entry covers has its /24 (IPv4) or /64 (IPv6) authorized; API blocking turns itself on only when an event dated at or after the end of the learning window (30 days after learning began or the last new address, whichever is later) is applied: traffic observed for the whole window without a new address. A replayed old log, or a log that stops, never turns it on. While a channel is active, refused addresses go on the blocked list, each reported with the ways out. Bad lines and unknown keys are counted and reported; --strict makes them fatal with nothing written.`;
  static examples = [
    '<%= config.bin %> learn access.log',
    'zcat api-*.log.gz | <%= config.bin %> learn - --json',
    '<%= config.bin %> learn events.ndjson --notify-command "mail -s keyward ops@example.com"',
    '<%= config.bin %> learn --window 45d --dry-run events.log',
  ];
  static strict = false;
  static args = {files: Args.string({description: 'event files; - reads stdin', ignoreStdin: true})};
  static flags = {
    'dry-run': dryRunFlag,
    strict: Flags.boolean({description: 'a bad line, an unknown key or an event without a time is an error, and nothing is written'}),
    window: Flags.string({description: `learning window: days of observed traffic without a new address before API blocking turns on (1 to ${MAX_SETTING_DAYS} days, e.g. 30d, 6w); kept in the store`}),
    'prefix-v4': Flags.integer({description: 'prefix length learning authorizes for IPv4 callers; kept in the store', min: 8, max: 32}),
    'prefix-v6': Flags.integer({description: 'prefix length learning authorizes for IPv6 callers; kept in the store', min: 16, max: 128}),
    retention: Flags.string({description: `how long seen addresses are remembered (1 to ${MAX_SETTING_DAYS} days, e.g. 90d); kept in the store`}),
    'notify-command': Flags.string({description: 'run CMD once per newly blocked address, with a JSON payload on its stdin'}),
  };

  async run(): Promise<void> {
    const {flags, raw} = await this.parse(Learn);
    const argv = argumentsInOrder(raw);
    this.setup(flags);
    const windowDays = flags.window === undefined ? undefined : parseWholeDays(flags.window, '--window', MAX_SETTING_DAYS, 'to turn API blocking on now, run keyward activate --api');
    const retentionDays = flags.retention === undefined ? undefined : parseWholeDays(flags.retention, '--retention', MAX_SETTING_DAYS);
    const {log, bad, badLines, untimed} = await this.readEvents(argv as string[], flags.strict);

    const dryRun = flags['dry-run'];
    const {outcome, data} = await this.updateStore(
      (store) => {
        if (windowDays !== undefined) store.settings.learningWindowDays = windowDays;
        if (retentionDays !== undefined) store.settings.seenRetentionDays = retentionDays;
        if (flags['prefix-v4'] !== undefined) store.settings.learnPrefixV4 = flags['prefix-v4'];
        if (flags['prefix-v6'] !== undefined) store.settings.learnPrefixV6 = flags['prefix-v6'];
        const result = applyEvents(store, log, this.now);
        if (flags.strict && result.unknownKeys.length > 0) {
          throw new InputError(`unknown key ${result.unknownKeys[0].key} (${result.unknownKeys.length} unknown in all); nothing was written`);
        }
        return {outcome: result, data: store};
      },
      {dryRun},
    );

    const failures = dryRun || !flags['notify-command'] ? [] : await this.notify(flags['notify-command'], outcome);
    const result = {
      events: outcome.events,
      learned: outcome.learned,
      blocked: outcome.blocked.map((b) => ({ip: b.ip, key: b.key})),
      unknownKeys: outcome.unknownKeys.reduce((n, u) => n + u.events, 0),
      badLines,
      untimed,
      api: {state: data.blocking.api.state, activatesAt: activatesAt(data.blocking.api, data.settings)?.toISOString() ?? null},
      dryRun,
    };
    await this.summarize(outcome, data, {bad, badLines, untimed}, failures, dryRun);
    if (this.json) await this.report(result, () => '');
  }

  /** Reads every source into a compact event log, counting (or, strict, refusing) bad lines. */
  private async readEvents(args: string[], strict: boolean): Promise<{log: EventLog; bad: string[]; badLines: number; untimed: number}> {
    const sources: {name: string; open: () => Readable}[] = args.map((a) =>
      a === '-' ? {name: 'stdin', open: () => process.stdin} : {name: untrusted(a), open: () => openFile(a)},
    );
    // Stdin only for `-`, never because it is a pipe (an empty $LOG in a script must not read the script's input).
    if (sources.length === 0) throw new InputError('no events given', 'give event files, or - to read them from stdin');
    const log = new EventLog();
    const words = new Uint32Array(4);
    const nowMs = this.now.getTime();
    const bad: string[] = [];
    let badLines = 0;
    let untimed = 0;
    for (const source of sources) {
      const where = (line: number) => (sources.length > 1 || source.name !== 'stdin' ? `line ${line} of ${source.name}` : `line ${line}`);
      const refuse = (message: string, hint?: string) => {
        if (strict) throw new InputError(`${message}; nothing was written`, hint);
        badLines++;
        if (bad.length < SAMPLES) bad.push(message);
      };
      try {
        const stream = source.open();
        await eachLine(
          stream,
          (text, line) => {
            try {
              const event = parseEventLine(text);
              if (event === null) return;
              const family = scanDecisionAddress(event.ip, words);
              let at = event.at;
              if (Number.isNaN(at)) {
                if (strict) throw new InputError('the event has no time (--strict refuses events without one: a replayed log without times would count as traffic now)');
                untimed++;
                at = nowMs;
              } else {
                checkEventTime(at, this.now);
              }
              log.add(event.key, family, words, at);
            } catch (error) {
              if (!(error instanceof InputError)) throw error;
              refuse(`${where(line)}: ${error.message}`, error.hint);
            }
          },
          {onTooLong: (line) => refuse(`${where(line)}: longer than the limit, skipped`), progress: startProgress(`reading ${source.name}`, stream)},
        );
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        if (code && !(error instanceof InputError)) throw new InputError(`cannot read ${source.name} (${code})`);
        throw error;
      }
    }
    return {log, bad, badLines, untimed};
  }

  private async notify(command: string, outcome: LearnOutcome): Promise<string[]> {
    const failures: string[] = [];
    for (const b of outcome.blocked) {
      const failure = await runNotify(command, notificationPayload(b));
      if (failure !== null) failures.push(`${b.ip} (${b.key}): ${failure}`);
    }
    return failures;
  }

  /** The human summary, on stderr: events, learned, blocked with ways out, problems, phase. */
  private async summarize(
    outcome: LearnOutcome,
    data: StoreData,
    {bad, badLines, untimed}: {bad: string[]; badLines: number; untimed: number},
    failures: string[],
    dryRun: boolean,
  ): Promise<void> {
    const would = dryRun ? ' (dry run: nothing was written)' : '';
    await this.tell(`${outcome.events} events applied, ${outcome.learned.length} entries learned, ${outcome.blocked.length} addresses newly blocked${would}`);
    if (untimed > 0) {
      await this.tell(`${untimed} ${untimed === 1 ? 'event had' : 'events had'} no time and ${untimed === 1 ? 'was' : 'were'} taken as happening now (${this.now.toISOString()}); --strict refuses such events`, 'warn');
    }
    if (outcome.activation) {
      const {at, quietSince} = outcome.activation;
      await this.tell(
        `API blocking ${dryRun ? 'would turn' : 'turned'} itself on at ${at}: traffic was observed from ${quietSince} for the whole ${data.settings.learningWindowDays}-day window with no new address`,
        'warn',
      );
    }
    for (const b of outcome.blocked.slice(0, 20)) {
      await this.tell(`blocked ${b.ip}: key ${untrusted(b.key)} (${b.channel}) was refused. Ways out:\n${waysOut(b).map((w) => `  ${untrusted(w)}`).join('\n')}`, 'warn');
    }
    if (outcome.blocked.length > 20) await this.tell(`… and ${outcome.blocked.length - 20} more newly blocked (see \`keyward blocked\`)`, 'warn');
    if (outcome.unknownKeys.length > 0) {
      const shown = outcome.unknownKeys.slice(0, SAMPLES).map((u) => `${u.key} (${u.events} events)`).join(', ');
      await this.tell(`${outcome.unknownKeys.length} unknown keys, skipped: ${shown}${outcome.unknownKeys.length > SAMPLES ? ', …' : ''}`, 'warn');
    }
    if (badLines > 0) await this.tell(`${badLines} bad lines skipped:\n${bad.map((b) => `  ${b}`).join('\n')}${badLines > bad.length ? '\n  …' : ''}`, 'warn');
    for (const f of failures) await this.tell(`--notify-command failed for ${f}`, 'warn');
    const progress = learningProgress(data.blocking.api, data.settings);
    if (progress === null) {
      await this.tell(`api: ${data.blocking.api.state}`);
    } else {
      await this.tell(`api: learning\n${describeLearning(progress, data.settings.learningWindowDays, this.now).map((l) => `  ${l}`).join('\n')}`);
    }
  }
}
