import {StatusJson} from '../core/reports.js';
import {KeywardCommand} from '../cli/base.js';
import {statusReport} from '../cli/status/run.js';

export default class Status extends KeywardCommand {
  static summary = 'Show blocking per channel, learning progress, counts and the latest blocked addresses.';
  static description = `The store read (its path), then for each channel: whether unknown addresses are refused (active), authorized as they come (learning, API keys only) or allowed (inactive); while learning, the last new address, how many quiet days of traffic were observed and from when an event turns blocking on (time alone never does: it waits for traffic). Then counts of entries, keys, seen and blocked addresses, and the latest blocked. status never writes to the store.`;
  static examples = ['<%= config.bin %> status', '<%= config.bin %> status --json', '<%= config.bin %> status --json | jq -r .api.activatesAt'];

  async run(): Promise<StatusJson> {
    await this.parse(Status);
    // The same report as bin/run.js's fast path gives (src/cli/status/run.ts).
    const {status, human} = await statusReport(this.storeFile, this.now);
    await this.printHuman(human);
    return status;
  }
}
