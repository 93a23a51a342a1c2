import {Args, Flags} from '@oclif/core';
import {Policy, Verdict} from '../core/decision.js';
import {InputError} from '../core/errors.js';
import {KeywardCommand} from '../cli/base.js';
import {writeDecisions} from '../cli/check-stream.js';
import {EXIT} from '../cli/exit-codes.js';
import {stdinIsPiped} from '../cli/input.js';
import {paint} from '../cli/render.js';

export default class Check extends KeywardCommand {
  static summary = 'Decide whether KEY may be used from each ADDRESS.';
  static description = `KEY is a key's name or its secret (never printed). Addresses come as arguments, or one a line from - or piped stdin. Exit 0 when every address is allowed (or matches --expect), 1 when any is not, 2 for a bad address or an unknown key. check never writes to the store.`;
  static examples = [
    '<%= config.bin %> check billing 203.0.113.7',
    '<%= config.bin %> check billing 203.0.113.7 198.51.100.9 --json',
    'cat addresses.txt | <%= config.bin %> check billing - --ndjson > decisions.ndjson',
    '<%= config.bin %> check billing 192.0.2.66 --expect deny',
  ];
  static strict = false;
  // ignoreStdin: oclif would read piped stdin into a missing argument as one string; stdin is streamed by line below.
  static args = {
    key: Args.string({description: 'key name or secret', required: true, ignoreStdin: true}),
    addresses: Args.string({description: 'addresses to check; - reads stdin', ignoreStdin: true}),
  };
  static flags = {
    ndjson: Flags.boolean({description: 'one JSON object a line (for streams)', exclusive: ['json']}),
    expect: Flags.option({options: ['allow', 'deny'] as const, description: 'the decision every address must get'})(),
  };

  async run(): Promise<void> {
    const {args, argv, flags} = await this.parse(Check);
    this.setup(flags);
    const addresses = (argv as string[]).slice(1);
    const fromStdin = addresses.includes('-') || (addresses.length === 0 && stdinIsPiped());
    if (addresses.length === 0 && !fromStdin) {
      throw new InputError('no address given', 'give addresses as arguments, or - to read them from stdin');
    }
    const policy = new Policy(await this.readStore(), this.now);
    const wanted: Verdict = flags.expect ?? 'allow';
    const {count, misses} = await writeDecisions({
      policy: policy.forKey(policy.findKey(args.key)),
      addresses: addresses.flatMap((text, i) => (text === '-' ? [] : [{text, where: `argument ${i + 2}`}])),
      stream: fromStdin ? process.stdin : null,
      out: process.stdout,
      format: flags.ndjson ? 'ndjson' : this.json ? 'json' : 'human',
      single: this.json && !fromStdin && addresses.length === 1,
      wanted,
      colour: await paint(),
    });
    // An empty stdin (a CI job's /dev/null, an unset $IP) must not pass as "every address allowed".
    if (count === 0) throw new InputError('no address given: stdin had none', 'give addresses as arguments, or one a line on stdin');
    if (misses > 0) {
      if (!this.json && !flags.ndjson) {
        await this.tell(`${misses} of ${count} ${count === 1 ? 'address' : 'addresses'} ${flags.expect ? `did not get "${wanted}"` : 'denied'}`, 'warn');
      }
      process.exitCode = EXIT.denied;
    }
  }
}
