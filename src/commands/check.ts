import * as Args from '@oclif/core/args';
import * as Flags from '@oclif/core/flags';
import {KeywardCommand} from '../cli/base.js';
import {PRINTED_DECISIONS, runCheck, stopWhenReaderGoes} from '../cli/check/run.js';
import {argumentsInOrder} from '../cli/input.js';

export default class Check extends KeywardCommand {
  static summary = 'Decide whether KEY may be used from each ADDRESS.';
  static description = `KEY is a key's name or its secret (never printed). Addresses come as arguments, or one a line from stdin with - (stdin is read only when - is given). Exit 0 when every address is allowed (or matches --expect), 1 when any is not, 2 for a bad address or an unknown key. --print allowed|denied makes check a filter: it prints only the addresses with that decision, each as given (a line without its blanks), one a line, and nothing else; the exit code stays the same, and a bad line still stops it with exit 2 after the lines before it. check never writes to the store.`;
  static examples = [
    '<%= config.bin %> check billing 203.0.113.7',
    '<%= config.bin %> check billing 203.0.113.7 198.51.100.9 --json  # exit 1 when any address is denied',
    '$ cat addresses.txt | <%= config.bin %> check billing - --ndjson > decisions.ndjson',
    '<%= config.bin %> check billing 192.0.2.66 --expect deny',
    '$ cat addresses.txt | <%= config.bin %> check billing - --print allowed > allowed.txt',
  ];
  static usage = [
    'check KEY ADDRESS... [--expect allow|deny] [--json | --ndjson | --print allowed|denied] [--store PATH]',
    'check KEY - [--expect allow|deny] [--json | --ndjson | --print allowed|denied] [--store PATH]',
  ];
  // ignoreStdin: oclif would read piped stdin into a missing argument as one string; stdin is streamed by line, and only for -.
  static args = {
    key: Args.string({description: 'key name or secret', required: true, ignoreStdin: true}),
    // multiple, not strict = false: the help then shows KEY as one argument and ADDRESS... as many.
    address: Args.string({description: 'addresses to check; - reads stdin', ignoreStdin: true, multiple: true}),
  };
  static flags = {
    ndjson: Flags.boolean({description: 'one JSON object a line (for streams)', exclusive: ['json']}),
    expect: Flags.option({options: ['allow', 'deny'] as const, description: 'the decision every address must get'})(),
    print: Flags.option({
      options: PRINTED_DECISIONS,
      description: 'print only the addresses with this decision, as given, one a line (a filter, like grepcidr; not with --json or --ndjson); the exit code is unchanged',
    })(),
  };

  async run(): Promise<void> {
    const {args, flags, raw} = await this.parse(Check);
    stopWhenReaderGoes();
    // The same runner as bin/run.js's fast path (src/cli/check/run.ts), so both print the same.
    await runCheck({
      key: args.key,
      // In the order given, repeats included, as the fast path reads them.
      addresses: argumentsInOrder(raw).slice(1),
      store: flags.store,
      json: Boolean(flags.json),
      ndjson: Boolean(flags.ndjson),
      expect: flags.expect,
      print: flags.print,
      dataDir: () => this.config.dataDir,
    });
  }
}
