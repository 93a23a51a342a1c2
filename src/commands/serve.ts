import {Flags} from '@oclif/core';
import {KeywardCommand} from '../cli/base.js';
import {checkNotifyCommand} from '../cli/notify.js';
import {DEFAULT_COMMIT_EVERY, parseCommitEvery} from '../cli/follow.js';
import {DEFAULT_KEY_HEADER, DEFAULT_LISTEN, parseKeyHeader, parseListen, TrustedProxies} from '../cli/serve/options.js';
import {MAX_COMMIT_MS, runServe} from '../cli/serve/service.js';

export default class Serve extends KeywardCommand {
  static summary = 'Answer forward-auth requests from a gateway: allow (204) or deny (403) each key and address, learning and blocking as learn --follow does.';
  static description = `An HTTP/1.1 service for nginx auth_request, Traefik ForwardAuth, Caddy forward_auth, HAProxy and Envoy ext_authz (HTTP); recipes in docs/serve.md. Each request is decided as \`keyward check\` decides: the key from --key-header (its secret, bare or as \`Bearer SECRET\`, matched by hash and never logged; a key's name only with --key-names, behind a gateway that checked the secret: a name is no credential), the address from the connection, or from X-Real-IP or X-Forwarded-For when the connection comes from a --trust-proxy range. The answer is 204 (allow) or 403 (deny) with the headers Keyward-Decision, Keyward-Reason, Keyward-Key, Keyward-Address and Keyward-Matched, and check's JSON object as the body with Accept: application/json (an allow is then 200); a request without a key or with a bad address is 400. GET /healthz says whether the store is read and committed (ok or degraded) and GET /metrics gives Prometheus metrics. The store is read again when another process changes it; a store that cannot be read is never used: the last good one goes on answering, and /healthz and stderr say so. Every decision is an event, committed every --commit-every under the store's lock as learn --follow commits: while API keys are learning their callers' networks are learned; while a channel is active refused addresses go on the blocked list and --notify-command runs. SIGTERM or SIGINT stops taking connections, finishes the requests in flight, commits and exits 0. Listens on loopback unless --listen says otherwise; request bodies are never read; headers are limited to 8 KiB and must arrive within 5 s.`;
  static examples = [
    '<%= config.bin %> serve  # runs until stopped',
    '<%= config.bin %> serve --listen 127.0.0.1:8431 --key-header X-Api-Key --notify-command /usr/local/bin/page-oncall  # runs until stopped',
    '<%= config.bin %> serve --listen 10.0.0.5:8431 --trust-proxy 10.0.0.0/24 --key-header Authorization  # runs until stopped',
  ];
  static flags = {
    listen: Flags.string({description: `ADDRESS:PORT to listen on ([IPV6]:PORT; port 0: any free port) [default: ${DEFAULT_LISTEN}]`}),
    'key-header': Flags.string({description: `the request header that holds the key: its secret, or Bearer SECRET [default: ${DEFAULT_KEY_HEADER}]`}),
    'key-names': Flags.boolean({
      description:
        "also take a key's name in --key-header: only behind a gateway that checks the secret itself and passes the name on (a name is no credential: anyone who knows it can send it)",
    }),
    'trust-proxy': Flags.string({
      description: 'a proxy (address or CIDR) whose X-Real-IP or X-Forwarded-For names the client; repeat or separate with commas. Without it the headers are ignored',
      multiple: true,
    }),
    'commit-every': Flags.string({description: `how often decision events are committed to the store (50ms to 60s, e.g. 500ms, 5s) [default: ${DEFAULT_COMMIT_EVERY}]`}),
    'notify-command': Flags.string({description: 'run CMD once per newly blocked address, with a JSON payload on its stdin'}),
    'max-connections': Flags.integer({description: 'connections held at once; more are refused [default: 4096]', min: 1, max: 1_000_000}),
  };

  async run() {
    const {flags} = await this.parse(Serve);
    const listen = parseListen(flags.listen ?? DEFAULT_LISTEN);
    const keyHeader = parseKeyHeader(flags['key-header'] ?? DEFAULT_KEY_HEADER);
    const trusted = TrustedProxies.parse(flags['trust-proxy'] ?? []);
    checkNotifyCommand(flags['notify-command']);
    const commitEveryMs = parseCommitEvery(flags['commit-every'] ?? DEFAULT_COMMIT_EVERY, MAX_COMMIT_MS, '60s', 'serve holds its events in memory until they are committed');
    return runServe({
      storeFile: this.storeFile,
      listen,
      listenText: flags.listen ?? DEFAULT_LISTEN,
      keyHeaderText: flags['key-header'] ?? DEFAULT_KEY_HEADER,
      keyHeader,
      keyNames: flags['key-names'],
      trusted,
      commitEveryMs,
      notifyCommand: flags['notify-command'],
      maxConnections: flags['max-connections'] ?? 4096,
      flagsGiven: Object.entries(flags)
        .filter(([, value]) => value !== undefined && !(Array.isArray(value) && value.length === 0))
        .map(([name]) => name)
        .sort(),
      tell: (message, tone) => this.tell(message, tone),
    });
  }
}
