import {existsSync} from 'node:fs';
import * as Args from '@oclif/core/args';
import * as Flags from '@oclif/core/flags';
import {learn, learnJson, LearnSettings} from '../core/learning.js';
import {MAX_SETTING_DAYS} from '../core/model.js';
import {parseWholeDays} from '../core/time.js';
import {BROADEST} from '../core/entry-parse.js';
import {InputError} from '../core/errors.js';
import {compilePattern, DEFAULT_KEY_FIELD, LOG_FORMATS, parseFieldFlag} from '../core/log-formats.js';
import {KeywardCommand} from '../cli/base.js';
import {dryRunFlag, quietFlag} from '../cli/flags.js';
import {argumentsInOrder, ReadingOptions, readEvents} from '../cli/input.js';
import {checkNotifyCommand, notifyBlocked} from '../cli/notify.js';
import {now} from '../cli/clock.js';
import {DEFAULT_COMMIT_EVERY, followAndLearn, parseCommitEvery} from '../cli/follow.js';
import {learnSummary} from '../cli/views.js';

export default class Learn extends KeywardCommand {
  static summary = "Apply a log of key uses: learn API callers' networks, block refused addresses.";
  static description = `Reads the logs operators have (--format, auto by default: detected from the first lines and reported on stderr): keyward's own lines \`KEY ADDRESS [TIME]\` (# comments) and {"key","ip","at"} objects; JSON lines of a gateway (ndjson, fields named with --field key=PATH, ip=PATH, at=PATH, status=PATH); combined access logs with the key appended as a quoted field (--key-field N); Postfix smtpd SASL logins (SMTP key uses: an API key's name there is skipped); or --pattern with named groups key, ip and at (and status). A key field holds a key's name or secret, bare or as \`Bearer SECRET\`; a request the gateway refused (HTTP status 401 or 403) is no use of its key: never learned, and blocked-listed only when blocking is active and keyward refuses its address; times are ISO 8601 with Z or an offset, 30/Nov/2026:10:00:00 +0000, syslog's Nov 30 10:00:00 (no year: the latest before now, in this machine's zone) or Unix seconds; ports are taken off addresses (1.2.3.4:5678, [2001:db8::1]:443). A log of which no line can be read is exit 2 naming its first lines. Events come from files or - (stdin; read only when - is given), applied in time order; an event without a time happens now (the summary counts them; --strict refuses them), and one dated more than 5 minutes after now is a bad line. While API keys are learning, a caller no account entry covers has its /24 (IPv4) or /64 (IPv6) authorized; API blocking turns itself on only when an event dated at or after the end of the learning window (30 days after learning began or the last new address, whichever is later) is applied: traffic observed for the whole window without a new address. A replayed old log, or a log that stops, never turns it on. While a channel is active, refused addresses go on the blocked list, each reported with the ways out. Bad lines and unknown keys are counted and reported; --strict makes them fatal with nothing written.`;
  static examples = [
    '<%= config.bin %> learn access.log',
    '<%= config.bin %> learn /var/log/nginx/api.json --field key=http_x_api_key --field ip=remote_addr --field at=time_iso8601',
    '<%= config.bin %> learn /var/log/mail.log --format postfix',
    '$ zcat api-*.log.gz | <%= config.bin %> learn - --json',
    '<%= config.bin %> learn events.ndjson --notify-command "mail -s keyward ops@example.com"',
    '<%= config.bin %> learn --window 45d --dry-run events.log',
    '$ tail -F /var/log/api/access.log | <%= config.bin %> learn - --follow  # runs until stopped (Ctrl-C commits and exits 0)',
    '<%= config.bin %> learn /var/log/api/access.log --follow --commit-every 10s --notify-command /usr/local/bin/page-oncall  # runs until stopped',
  ];
  static usage = [
    'learn (FILE... | -) [--dry-run] [--strict] [--window 30d] [--prefix-v4 BITS] [--prefix-v6 BITS] [--retention 90d] [--notify-command CMD] [--format auto|keyward|ndjson|combined|postfix|regex] [--field NAME=PATH...] [--key-field N] [--pattern RE] [-q] [--json] [--store PATH]',
    'learn (FILE | -) --follow [--commit-every TIME] [--window 30d] [--prefix-v4 BITS] [--prefix-v6 BITS] [--retention 90d] [--notify-command CMD] [--format auto|keyward|ndjson|combined|postfix|regex] [--field NAME=PATH...] [--key-field N] [--pattern RE] [-q] [--json] [--store PATH]',
  ];
  static strict = false;
  static args = {file: Args.string({description: 'event files; - reads stdin', ignoreStdin: true})};
  static flags = {
    'dry-run': dryRunFlag,
    strict: Flags.boolean({description: 'a bad line, an unknown key or an event without a time is an error, and nothing is written'}),
    window: Flags.string({
      description: `learning window: days of observed traffic without a new address before API blocking turns on (1 to ${MAX_SETTING_DAYS} days, e.g. 30d, 6w); kept in the store`,
    }),
    'prefix-v4': Flags.integer({description: 'prefix length learning authorizes for IPv4 callers; kept in the store', min: BROADEST[4], max: 32}),
    'prefix-v6': Flags.integer({description: 'prefix length learning authorizes for IPv6 callers; kept in the store', min: BROADEST[6], max: 128}),
    retention: Flags.string({description: `how long seen addresses are remembered (1 to ${MAX_SETTING_DAYS} days, e.g. 90d); kept in the store`}),
    'notify-command': Flags.string({description: 'run CMD once per newly blocked address, with a JSON payload on its stdin'}),
    follow: Flags.boolean({
      description:
        'keep reading one input that does not end (- or a FILE followed through rotation and truncation, as tail -F does; read from its start) and commit every --commit-every; SIGINT/SIGTERM commit what was read and exit 0',
      exclusive: ['dry-run', 'strict'],
    }),
    'commit-every': Flags.string({
      description: `with --follow: how often what was read is committed (50ms to 60m, e.g. 500ms, 5s, 1m) [default: ${DEFAULT_COMMIT_EVERY}]`,
      dependsOn: ['follow'],
    }),
    format: Flags.string({
      description: 'how the log is written: auto (detected from its first lines and reported), keyward, ndjson, combined, postfix or regex',
      options: ['auto', ...LOG_FORMATS],
      default: 'auto',
    }),
    field: Flags.string({
      description: 'ndjson: where a field is, NAME=PATH for key, ip, at and status (dotted paths reach nested objects: --field ip=request.remote_ip)',
      multiple: true,
    }),
    'key-field': Flags.integer({description: `combined: the quoted field that holds the key, counted from 1 ("$request"); ${DEFAULT_KEY_FIELD} by default`, min: 1, max: 64}),
    pattern: Flags.string({description: 'regex: a regular expression with the named groups key and ip, and optionally at and status'}),
    quiet: quietFlag,
  };

  async run() {
    const {flags, raw} = await this.parse(Learn);
    checkNotifyCommand(flags['notify-command']);
    const windowDays =
      flags.window === undefined ? undefined : parseWholeDays(flags.window, '--window', MAX_SETTING_DAYS, 'to turn API blocking on now, run keyward activate --api');
    const retentionDays = flags.retention === undefined ? undefined : parseWholeDays(flags.retention, '--retention', MAX_SETTING_DAYS);
    const settings = {learningWindowDays: windowDays, seenRetentionDays: retentionDays, learnPrefixV4: flags['prefix-v4'], learnPrefixV6: flags['prefix-v6']};
    const reading = readingOptions(flags);
    if (flags.follow) return this.follow(argumentsInOrder(raw), flags, settings, reading);
    const read = await readEvents(argumentsInOrder(raw), {strict: flags.strict, now: this.now, reading});
    const dryRun = flags['dry-run'];
    const {outcome, data} = await this.updateStore(
      (store, context) => ({outcome: learn(store, read.log, {settings, strict: flags.strict, now: this.now, account: context.compiledAccount(this.now)}), data: store}),
      {dryRun},
    );
    // Said with the summary, once the store took the events: a store error stays the only message.
    if (read.format !== null && read.chosenBy !== 'given') {
      await this.tell(`read as ${read.format} (${read.chosenBy === 'detected' ? `detected from ${read.chosenAt}` : `${read.chosenBy} given`})`);
    }
    const failures = dryRun || !flags['notify-command'] ? [] : await notifyBlocked(flags['notify-command'], outcome.blocked);
    for (const [message, tone] of learnSummary(outcome, data, read, failures, {dryRun, now: this.now})) await this.tell(message, tone);
    return {...learnJson(outcome, data, read, dryRun), format: read.format};
  }

  /** `--follow` (see src/cli/follow.ts): commits as it reads; "now" moves on with each commit. */
  private async follow(inputs: string[], flags: {'commit-every'?: string; 'notify-command'?: string}, settings: LearnSettings, reading: ReadingOptions) {
    if (inputs.length !== 1)
      throw new InputError(
        '--follow follows one input: a FILE or -',
        'run one keyward learn --follow per log, or merge them: tail -qF a.log b.log | keyward learn - --follow',
      );
    let storeThere = existsSync(this.storeFile);
    const {outcome, data, read, failures} = await followAndLearn({
      input: inputs[0],
      commitEveryMs: parseCommitEvery(flags['commit-every'] ?? DEFAULT_COMMIT_EVERY),
      read: (hooks) => readEvents(inputs, {strict: false, now: this.now, reading, follow: hooks}),
      commit: async (log) => {
        this.now = now();
        // The account list compiled by the last write (the index cache), not compiled again at each commit.
        // Once the store is there, a later commit never makes a new empty one: a store moved away keeps the events.
        const committed = await this.updateStore(
          (store, context) => ({
            outcome: learn(store, log, {settings, strict: false, now: this.now, account: context.compiledAccount(this.now)}),
            data: store,
          }),
          // A commit with blocking on mostly adds to the seen and blocked lists: the account list is read if learning adds to it.
          {mustExist: storeThere, deferAccount: true},
        );
        storeThere ||= existsSync(this.storeFile);
        return committed;
      },
      now,
      notifyCommand: flags['notify-command'],
      say: (message, tone) => this.tell(message, tone),
    });
    this.now = now();
    for (const [message, tone] of learnSummary(outcome, data, read, failures, {dryRun: false, now: this.now, followed: true})) await this.tell(message, tone);
    return {...learnJson(outcome, data, read, false), format: read.format};
  }
}

/** The log's format and its options from the flags; InputError for flags that do not fit together. */
function readingOptions(flags: {format: string; field?: string[]; 'key-field'?: number; pattern?: string}): ReadingOptions {
  const format = flags.format as ReadingOptions['format'];
  const fields = Object.fromEntries((flags.field ?? []).map(parseFieldFlag));
  const forFormat = (flag: string, wanted: string, given: boolean) => {
    if (given && format !== 'auto' && format !== wanted) throw new InputError(`${flag} is for --format ${wanted}, not ${format}`);
  };
  forFormat('--field', 'ndjson', flags.field !== undefined);
  forFormat('--key-field', 'combined', flags['key-field'] !== undefined);
  forFormat('--pattern', 'regex', flags.pattern !== undefined);
  const implied = [flags.field && '--field', flags['key-field'] !== undefined && '--key-field', flags.pattern !== undefined && '--pattern'].filter(Boolean);
  if (implied.length > 1) throw new InputError(`${implied.join(' and ')} are for different formats: give one`);
  return {
    format,
    fields: flags.field ? fields : undefined,
    keyField: flags['key-field'],
    pattern: flags.pattern === undefined ? undefined : compilePattern(flags.pattern),
  };
}
