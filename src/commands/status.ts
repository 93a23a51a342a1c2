import {statusJson, StatusJson} from '../core/reports.js';
import {KeywardCommand} from '../cli/base.js';
import {renderStatus} from '../cli/views.js';
import {readStoreSummary} from '../store/read.js';

export default class Status extends KeywardCommand {
  static summary = 'Show blocking per channel, learning progress, counts and the latest blocked addresses.';
  static description = `The store read (its path), then for each channel: whether unknown addresses are refused (active), authorized as they come (learning, API keys only) or allowed (inactive); while learning, the last new address, how many quiet days of traffic were observed and from when an event turns blocking on (time alone never does: it waits for traffic). Then counts of entries, keys, seen and blocked addresses, and the latest blocked. status never writes to the store.`;
  static examples = ['<%= config.bin %> status', '<%= config.bin %> status --json', '<%= config.bin %> status --json | jq -r .api.activatesAt'];

  async run(): Promise<StatusJson> {
    await this.parse(Status);
    // Not this.readStore(): a store keyward wrote has its account list counted, not parsed (see readStoreSummary).
    const {data, account} = await readStoreSummary(this.storeFile);
    const status = statusJson(data, this.storeFile, this.now, account ?? undefined);
    await this.printHuman(() => renderStatus(status, data, this.now));
    return status;
  }
}
