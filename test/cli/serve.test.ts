/**
 * `keyward serve` over HTTP, as a gateway's forward-auth request reaches it:
 * decisions (the same as `keyward check`, on random addresses), headers and
 * JSON bodies, 400s, --trust-proxy, /healthz and /metrics, a store changed
 * by another process, a corrupt store, SIGTERM, learning and blocking
 * committed with --notify-command, slow clients, and a full disk during a
 * commit. Secrets never appear in anything serve prints.
 */
import {spawnSync} from 'node:child_process';
import {existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync} from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import {fileURLToPath} from 'node:url';
import {expect} from 'chai';
import {RunResult, Workspace} from './harness.js';
import {findTool} from './real-tools.js';
import {request, serve, Served, stop, waitFor, waitForAsync, WAIT_MS} from './serve-helpers.js';

/** mulberry32: the same addresses every run. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const RECORDER = fileURLToPath(new URL('../fixtures/notify-recorder.sh', import.meta.url));

function ok(result: RunResult): RunResult {
  expect(result.code, `exit ${result.code}\n--- stdout ---\n${result.stdout}\n--- stderr ---\n${result.stderr}`).to.equal(0);
  return result;
}

/** API key billing (learning), SMTP key mailer (blocking active); account 10.0.0.0/8 except 10.66.0.0/16; partner restricted to 172.16.0.0/12. */
function workspace(): {ws: Workspace; secret: string; mailerSecret: string} {
  const ws = Workspace.create();
  const secret = ok(ws.run(['keys', 'create', 'billing', '--type', 'api', '--json'])).json().secret as string;
  const mailerSecret = ok(ws.run(['keys', 'create', 'mailer', '--type', 'smtp', '--json'])).json().secret as string;
  ok(ws.run(['keys', 'create', 'partner', '--type', 'api', '--allow', '172.16.0.0/12', '--json']));
  ok(ws.run(['authorize', '10.0.0.0/8']));
  ok(ws.run(['deny', '10.66.0.0/16']));
  ok(ws.run(['activate', '--smtp', '--force']));
  return {ws, secret, mailerSecret};
}

/** Everything serve printed holds none of the secrets, in any spelling. */
function noSecrets(s: {stderr(): string; stdout(): string} | {stderr: string; stdout: string}, ...secrets: string[]) {
  const text = typeof s.stderr === 'function' ? `${(s as Served).stderr()}${(s as Served).stdout()}` : `${s.stderr}${s.stdout}`;
  for (const secret of secrets) {
    expect(text.toLowerCase()).not.to.contain(secret.toLowerCase());
    expect(text.toLowerCase()).not.to.contain(secret.slice(4, 36).toLowerCase());
  }
}

const asClient = (ip: string, key: string, extra: Record<string, string> = {}) => ({'X-Real-IP': ip, 'X-Api-Key': key, ...extra});

/** A request from 198.51.100.23 for billing (learning), and the commit that learns its /24. */
async function learnsCaller(ws: Workspace, s: Served): Promise<void> {
  expect((await request(s.url, '/auth', asClient('198.51.100.23', 'billing'))).headers['keyward-reason']).to.equal('learning');
  await waitFor(
    '198.51.100.0/24 learned',
    () => ws.storeJson().account.some((e: {entry: string; source: string}) => e.entry === '198.51.100.0/24' && e.source === 'learned'),
    WAIT_MS,
    s.stderr,
  );
}

describe('keyward serve', function () {
  this.timeout(90_000);

  it("answers 204/403 with the decision, reason, key and matched entries in headers, check's JSON object on request, and 400 for a request it cannot decide", async () => {
    const {ws, secret, mailerSecret} = workspace();
    const s = await serve(ws, ['--trust-proxy', '127.0.0.1', '--commit-every', '60s']);
    try {
      let a = await request(s.url, '/auth', asClient('10.1.2.3', 'billing'));
      expect(a.status).to.equal(204);
      expect(a.headers).to.include({
        'keyward-decision': 'allow',
        'keyward-reason': 'authorized',
        'keyward-key': 'billing',
        'keyward-address': '10.1.2.3',
        'keyward-matched': '10.0.0.0/8',
      });
      expect(a.body).to.equal('');

      a = await request(s.url, '/auth', asClient('10.66.1.1', `Bearer ${secret}`));
      expect(a.status).to.equal(403);
      expect(a.headers).to.include({'keyward-decision': 'deny', 'keyward-reason': 'denied', 'keyward-key': 'billing', 'keyward-matched': '10.66.0.0/16'});

      // The secret in any spelling names its key: upper case, spaces, Bearer.
      a = await request(s.url, '/auth', asClient('192.0.2.1', ` ${secret.toUpperCase()} `));
      expect(a.headers).to.include({'keyward-decision': 'allow', 'keyward-reason': 'learning', 'keyward-key': 'billing'});
      a = await request(s.url, '/auth', asClient('198.51.100.7', mailerSecret));
      expect(a.status).to.equal(403);
      expect(a.headers).to.include({'keyward-reason': 'not-authorized', 'keyward-key': 'mailer'});
      a = await request(s.url, '/auth', asClient('10.1.2.3', 'partner'));
      expect(a.headers).to.include({'keyward-reason': 'not-in-key-allowlist'});
      // IPv4-mapped IPv6 is the IPv4 address.
      a = await request(s.url, '/auth', asClient('::ffff:10.66.0.9', 'billing'));
      expect(a.headers).to.include({'keyward-reason': 'denied', 'keyward-address': '10.66.0.9'});

      // JSON: the object check prints, an allow as 200.
      a = await request(s.url, '/auth', asClient('10.1.2.3', secret, {Accept: 'application/json'}));
      expect(a.status).to.equal(200);
      expect(a.headers['content-type']).to.equal('application/json');
      const checked = ok(ws.run(['check', 'billing', '10.1.2.3', '--json'])).json();
      expect(a.json()).to.deep.equal(Array.isArray(checked) ? checked[0] : checked);
      a = await request(s.url, '/auth', asClient('10.66.1.1', 'billing', {Accept: 'text/html, application/json;q=0.9'}));
      expect(a.status).to.equal(403);
      expect(a.json()).to.deep.equal({key: 'billing', ip: '10.66.1.1', decision: 'deny', reason: 'denied', matched: ['10.66.0.0/16']});

      // Unknown keys are denied, a secret-shaped one never echoed.
      const stranger = 'ab'.repeat(20);
      a = await request(s.url, '/auth', asClient('10.1.2.3', stranger, {Accept: 'application/json'}));
      expect(a.status).to.equal(403);
      expect(a.json()).to.deep.include({key: null, decision: 'deny', reason: 'unknown-key'});
      expect(JSON.stringify(a.headers)).not.to.contain(stranger);

      // 400: no key, an empty key, Bearer alone, a bad address in the header of a trusted proxy; the connection stays usable.
      for (const [headers, why] of [
        [{'X-Real-IP': '10.1.2.3'}, 'no-key'],
        [asClient('10.1.2.3', '  '), 'no-key'],
        [asClient('10.1.2.3', 'Bearer '), 'no-key'],
        [asClient('010.1.2.3', 'billing'), 'bad-address'],
        [asClient('10.1.2.3, 10.1.2.4', 'billing'), 'bad-address'],
        [asClient(`${secret}`, 'billing'), 'bad-address'],
        [{'X-Api-Key': 'billing', 'X-Forwarded-For': 'example.com'}, 'bad-address'],
        // From a trusted proxy that names no client: never decided as the proxy's own address.
        [{'X-Api-Key': 'billing'}, 'no-address'],
      ] as [Record<string, string>, string][]) {
        a = await request(s.url, '/auth', {...headers, Accept: 'application/json'});
        expect(a.status, JSON.stringify(headers)).to.equal(400);
        expect(a.headers['keyward-error']).to.equal(why);
        expect(a.json().error.status).to.equal(400);
        expect(a.body).not.to.contain(secret);
      }

      // Headers beyond 8 KiB: 431, and the server goes on.
      const raw = await new Promise<string>((resolve) => {
        const socket = net.connect(s.port, '127.0.0.1', () => socket.write(`GET /auth HTTP/1.1\r\nHost: x\r\nX-Api-Key: billing\r\nX-Padding: ${'x'.repeat(10_000)}\r\n\r\n`));
        let text = '';
        socket.setEncoding('utf8').on('data', (t: string) => (text += t));
        socket.on('close', () => resolve(text));
        socket.on('error', () => undefined);
      });
      expect(raw).to.match(/^HTTP\/1\.1 431 /);
      // A request with a body is answered without reading it.
      a = await request(s.url, '/auth', asClient('10.1.2.3', 'billing', {'Content-Length': '5'}), {method: 'POST'});
      expect(a.status).to.equal(204);
      expect((await request(s.url, '/auth', asClient('10.1.2.3', 'billing'))).status).to.equal(204);

      const health = (await request(s.url, '/healthz')).json();
      expect(health).to.deep.include({status: 'ok', generation: 1, error: null});
      const metrics = (await request(s.url, '/metrics')).body;
      expect(metrics).to.match(/keyward_decisions_total\{decision="allow",reason="authorized"\} [3-9]/);
      expect(metrics).to.match(/keyward_decisions_total\{decision="deny",reason="denied"\} 3/);
      expect(metrics).to.contain('keyward_bad_requests_total{why="no-key"} 3');
      expect(metrics).to.contain('keyward_bad_requests_total{why="headers-too-large"} 1');
      expect(metrics).to.match(/keyward_decision_duration_seconds_count \d+/);
      expect(metrics).to.contain('keyward_store_generation 1');
      expect(metrics).to.match(/keyward_commit_lag_seconds [\d.]+/);
      // A request that carries the key header is a decision, whatever its path (an Envoy without path_prefix).
      a = await request(s.url, '/metrics', asClient('10.66.1.1', 'billing'));
      expect(a.status).to.equal(403);

      const done = await stop(s);
      expect(done.stdout, 'no --json: nothing on stdout').to.equal('');
      expect(done.stderr).to.match(/\d+ allowed, \d+ denied \(1 for an unknown key\), 9 bad requests/);
      noSecrets(s, secret, mailerSecret, stranger);
      // NO_COLOR (the harness sets it): no colour code in anything serve says.
      expect(done.stderr).not.to.contain('\u001b');
    } finally {
      s.child.kill('SIGKILL');
    }
  });

  it('decides as keyward check does, for random addresses, keys and headers (the check command is the oracle)', async () => {
    const {ws, secret} = workspace();
    ok(ws.run(['authorize', '2001:db8::/32', '192.0.2.0/28', '--key', 'partner']));
    ok(ws.run(['deny', '172.16.5.0/24', '--key', 'partner']));
    const s = await serve(ws, ['--trust-proxy', '127.0.0.0/8,::1', '--json', '--commit-every', '60s']);
    const random = prng(16);
    const pick = <T>(list: T[]) => list[Math.floor(random() * list.length)];
    const addresses = Array.from({length: 300}, () => {
      const r = random();
      if (r < 0.5) return `${pick([10, 172, 192, 198])}.${pick([16, 66, 0, 1, 31])}.${Math.floor(random() * 256)}.${Math.floor(random() * 256)}`;
      if (r < 0.8) return `2001:db${pick([8, 9])}::${Math.floor(random() * 65536).toString(16)}`;
      return `::ffff:10.${pick([1, 66])}.0.${Math.floor(random() * 256)}`;
    });
    try {
      for (const key of ['billing', 'mailer', 'partner']) {
        const oracle = ws.run(['check', key, '-', '--ndjson'], {input: `${addresses.join('\n')}\n`}).ndjson();
        const agent = new (await import('node:http')).Agent({keepAlive: true, maxSockets: 4});
        const answers = await Promise.all(
          addresses.map((ip, i) =>
            request(
              s.url,
              `/auth/${i}`,
              i % 2
                ? {'X-Forwarded-For': `203.0.113.9, ${ip}, 127.0.0.1`, 'X-Api-Key': key, Accept: 'application/json'}
                : asClient(ip, key === 'billing' ? `Bearer ${secret}` : key, {Accept: 'application/json'}),
              {agent},
            ),
          ),
        );
        agent.destroy();
        answers.forEach((a, i) => {
          const expected = oracle[i];
          // check reports a 4-in-6 address as written; serve names the IPv4 address it decided for.
          expect({...a.json(), ip: expected.ip}, `${key} ${addresses[i]}`).to.deep.equal(expected);
          expect(a.status).to.equal(expected.decision === 'allow' ? 200 : 403);
        });
      }
      const done = await stop(s);
      const summary = JSON.parse(done.stdout);
      expect(summary.decisions).to.deep.equal({allow: summary.decisions.allow, deny: 900 - summary.decisions.allow, badRequests: 0});
      expect(summary.events).to.equal(900);
      noSecrets(s, secret);
    } finally {
      s.child.kill('SIGKILL');
    }
  });

  it('takes the client address from the connection unless it comes from a --trust-proxy range', async () => {
    const {ws} = workspace();
    const s = await serve(ws, ['--commit-every', '60s']);
    const t = await serve(ws, ['--trust-proxy', '192.0.2.0/24', '--commit-every', '60s']);
    try {
      for (const server of [s, t]) {
        const a = await request(server.url, '/auth', asClient('10.1.2.3', 'billing', {'X-Forwarded-For': '10.1.2.3'}));
        expect(a.headers['keyward-address']).to.equal('127.0.0.1');
        expect(a.headers['keyward-reason']).to.equal('learning');
      }
      await stop(s);
      await stop(t);
    } finally {
      s.child.kill('SIGKILL');
      t.child.kill('SIGKILL');
    }
  });

  it('listens on IPv6 loopback with --listen [::1]:PORT and decides for the IPv6 client', async () => {
    const {ws} = workspace();
    ok(ws.run(['authorize', '::1']));
    const s = await serve(ws, ['--listen', '[::1]:0', '--commit-every', '60s']);
    try {
      expect(s.url).to.match(/^http:\/\/\[::1\]:\d+$/);
      const a = await request(s.url, '/auth', {'X-Api-Key': 'billing'});
      expect(a.headers).to.include({'keyward-decision': 'allow', 'keyward-reason': 'authorized', 'keyward-address': '::1', 'keyward-matched': '::1'});
      await stop(s);
    } finally {
      s.child.kill('SIGKILL');
    }
  });

  it('refuses bad flags (exit 2) and a store it cannot read (exit 3) before it listens', () => {
    const {ws} = workspace();
    for (const args of [
      ['--listen', 'localhost:8431'],
      ['--listen', '127.0.0.1'],
      ['--listen', '127.0.0.1:70000'],
      ['--listen', '::1:8431'],
      ['--listen', '[fe80::1%lo]:8431'],
      ['--trust-proxy', '0.0.0.0/0'],
      ['--trust-proxy', '10.0.0.1/8'],
      ['--trust-proxy', 'localhost'],
      ['--commit-every', '10ms'],
      ['--key-header', 'X Api Key'],
      ['--commit-every', '5m'],
      ['--key-header', 'ab'.repeat(20)],
      // An address that is not this machine's: the store is read, then listening fails.
      ['--listen', '192.0.2.1:9'],
    ]) {
      const r = ws.run(['serve', ...args], {timeoutMs: 20_000});
      expect(r.code, `${args.join(' ')}\n${r.stderr}`).to.equal(2);
      // (serve has no --normalize: the hint names the network to write.)
      if (args[1] === '10.0.0.1/8') expect(r.stderr).to.contain('write 10.0.0.0/8\n').and.not.contain('--normalize');
      // (serve's own range, not learn --follow's 60m.)
      if (args[0] === '--commit-every') expect(r.stderr).to.contain('give 50ms to 60s');
      // (A flag takes no label: no hint about `ADDRESS # label`.)
      if (args[1] === 'localhost') expect(r.stderr).to.contain("give the proxies' addresses or ranges").and.not.contain('#');
      // A listen address in the grammar's words for the mistake (a zone index is no host name; found by an outside tester).
      if (args[1] === 'localhost:8431') expect(r.stderr).to.contain('is a name, not an IP address');
      if (args[1] === '[fe80::1%lo]:8431') expect(r.stderr).to.contain('has a zone index (%lo)').and.contain('drop it: fe80::1').and.not.contain('host name');
    }
    const other = Workspace.create();
    const r = other.run(['serve', '--listen', '127.0.0.1:0']);
    expect(r.code).to.equal(3);
    expect(r.stderr).to.contain('no store at');
    other.file('store.json', '{"version": 2, broken');
    expect(other.run(['serve', '--listen', '127.0.0.1:0']).code).to.equal(3);
  });

  it('refuses a store it cannot write (exit 3) before it listens: its first commit shows it can', function () {
    const {ws} = workspace();
    // A folder no one may create files in, root included (the lock is a folder beside the store).
    const chattr = findTool('chattr');
    if (chattr === null || spawnSync(chattr, ['+i', ws.dir]).status !== 0) {
      console.log('      (skipped: chattr +i is not available on this file system or to this user)');
      this.skip();
    }
    try {
      const r = ws.run(['serve', '--listen', '127.0.0.1:0']);
      expect(r.code, r.stderr).to.equal(3);
      expect(r.stderr).to.contain('cannot lock the store');
      expect(r.stderr).not.to.contain('listening');
    } finally {
      spawnSync(chattr!, ['-i', ws.dir]);
    }
    // The store file alone immutable: the lock is taken and a commit of nothing writes nothing, yet no commit could replace it.
    spawnSync(chattr!, ['+i', ws.store]);
    try {
      const r = ws.run(['serve', '--listen', '127.0.0.1:0']);
      expect(r.code, r.stderr).to.equal(3);
      expect(r.stderr).to.contain(`cannot write the store ${ws.store} (EPERM`);
      expect(r.stderr).not.to.contain('listening');
    } finally {
      spawnSync(chattr!, ['-i', ws.store]);
    }
  });

  it('answers a request that comes after a write from the written store: a rotated secret stops working at once (found by an outside tester)', async () => {
    const {ws, secret} = workspace();
    ok(ws.run(['activate', '--api', '--force']));
    const s = await serve(ws, ['--trust-proxy', '127.0.0.1', '--commit-every', '60s']);
    try {
      let old = secret;
      for (let round = 0; round < 5; round++) {
        expect((await request(s.url, '/auth', asClient('10.1.2.3', old))).headers['keyward-reason']).to.equal('authorized');
        // The rotation written aside, then renamed over the store, as keyward's own write ends; the request follows at once.
        const next = `${ws.store}.next`;
        writeFileSync(next, readFileSync(ws.store));
        const fresh = ok(ws.run(['keys', 'rotate', 'billing', '--yes', '--json', '--store', next])).json().secret as string;
        renameSync(next, ws.store);
        const answer = await request(s.url, '/auth', asClient('10.1.2.3', old));
        expect([answer.status, answer.headers['keyward-reason']], `round ${round}`).to.deep.equal([403, 'unknown-key']);
        expect((await request(s.url, '/auth', asClient('10.1.2.3', fresh))).status).to.equal(204);
        old = fresh;
      }
    } finally {
      await stop(s);
    }
  });

  it('reloads the store when keyward authorize changes it in another process, and keeps answering from the last good store while the file is corrupt', async () => {
    const {ws} = workspace();
    ok(ws.run(['activate', '--api', '--force']));
    const s = await serve(ws, ['--trust-proxy', '127.0.0.1', '--commit-every', '60s']);
    try {
      expect((await request(s.url, '/auth', asClient('203.0.113.5', 'billing'))).status).to.equal(403);
      ok(ws.run(['authorize', '203.0.113.0/24']));
      await waitForAsync(
        'the authorization to take effect',
        async () => (await request(s.url, '/auth', asClient('203.0.113.5', 'billing'))).status === 204,
        WAIT_MS,
        s.stderr,
      );
      expect((await request(s.url, '/healthz')).json()).to.deep.include({status: 'ok', generation: 2});

      // A corrupt file put in place (renamed over the store, as an editor or a bad deploy would).
      const good = readFileSync(ws.store);
      writeFileSync(`${ws.store}.new`, '{"version": 2, "account": [');
      renameSync(`${ws.store}.new`, ws.store);
      const health = await waitForAsync(
        'healthz to say degraded',
        async () => {
          const h = (await request(s.url, '/healthz')).json();
          return h.status === 'degraded' && h;
        },
        WAIT_MS,
        () => `${s.stderr()}\n--- store ---\n${readFileSync(ws.store, 'utf8')}`,
      );
      expect(health.error).to.contain('corrupt');
      expect(health.generation).to.equal(2);
      expect(s.stderr()).to.contain('still answering from the last good store (generation 2');
      // Decisions still come from generation 2: the authorization holds, the deny too.
      expect((await request(s.url, '/auth', asClient('203.0.113.5', 'billing'))).status).to.equal(204);
      expect((await request(s.url, '/auth', asClient('10.66.0.1', 'billing'))).status).to.equal(403);
      expect((await request(s.url, '/metrics')).body)
        .to.contain('keyward_store_degraded 1')
        .and.contain('keyward_store_reload_failures_total 1\n');
      // Another file, corrupt the same way: another failure counted (each change of the file that could not be read).
      writeFileSync(`${ws.store}.new`, '{"version": 2, "account": [');
      renameSync(`${ws.store}.new`, ws.store);
      await waitForAsync(
        'the second failure to be counted',
        async () => (await request(s.url, '/metrics')).body.includes('keyward_store_reload_failures_total 2\n'),
        WAIT_MS,
        s.stderr,
      );
      // The store removed: still the last good one.
      rmSync(ws.store);
      await waitFor('the removal to be said', () => s.stderr().includes('is gone'), WAIT_MS, s.stderr);
      expect((await request(s.url, '/auth', asClient('203.0.113.5', 'billing'))).status).to.equal(204);
      // A good store back: read, healthy again.
      writeFileSync(ws.store, good);
      await waitForAsync('healthz ok again', async () => (await request(s.url, '/healthz')).json().status === 'ok', WAIT_MS, s.stderr);
      expect((await request(s.url, '/healthz')).json().generation).to.equal(3);
      await stop(s);
    } finally {
      s.child.kill('SIGKILL');
    }
  });

  it('reads a large store whose index cache cannot be used (rewritten by hand) in its worker, and answers from it', async () => {
    const {ws} = workspace();
    // Over 1 MiB: 20,000 entries, with an index cache written beside it.
    const entries = Array.from({length: 20_000}, (_, i) => `100.${64 + (i >> 12)}.${(i >> 4) & 255}.${(i & 15) * 16}/28`);
    ok(ws.run(['authorize', '-'], {input: `${entries.join('\n')}\n`}));
    ok(ws.run(['activate', '--api', '--force']));
    expect(existsSync(`${ws.store}.cache`)).to.equal(true);
    const s = await serve(ws, ['--trust-proxy', '127.0.0.1', '--commit-every', '60s']);
    try {
      expect((await request(s.url, '/auth', asClient('100.64.0.1', 'billing'))).headers['keyward-matched']).to.equal('100.64.0.0/28');
      expect((await request(s.url, '/auth', asClient('203.0.113.9', 'billing'))).status).to.equal(403);
      // The same document with one more entry, written as a person would: no cache describes it.
      const doc = ws.storeJson();
      doc.account.push({...doc.account[0], entry: '203.0.113.0/24', label: 'by hand'});
      writeFileSync(`${ws.store}.new`, JSON.stringify(doc, null, 2));
      renameSync(`${ws.store}.new`, ws.store);
      await waitForAsync(
        'the hand-written store to answer',
        async () => (await request(s.url, '/auth', asClient('203.0.113.9', 'billing'))).status === 204,
        WAIT_MS,
        s.stderr,
      );
      expect((await request(s.url, '/auth', asClient('100.64.0.1', 'billing'))).headers['keyward-matched']).to.equal('100.64.0.0/28');
      expect((await request(s.url, '/healthz')).json()).to.deep.include({status: 'ok', generation: 2});
      await stop(s);
    } finally {
      s.child.kill('SIGKILL');
    }
  });

  it("learns while API keys are learning: the caller's /24 is in the store after the next commit, beside other writers", async () => {
    const {ws} = workspace();
    const s = await serve(ws, ['--trust-proxy', '127.0.0.1', '--commit-every', '200ms']);
    try {
      await learnsCaller(ws, s);
      // The store change is read back: the caller is now authorized by the learned entry.
      await waitForAsync(
        'the learned entry to answer',
        async () => (await request(s.url, '/auth', asClient('198.51.100.99', 'billing'))).headers['keyward-reason'] === 'authorized',
      );
      // Another writer between commits is kept.
      ok(ws.run(['authorize', '192.0.2.0/24', '--label', 'office']));
      await request(s.url, '/auth', asClient('203.0.113.7', 'billing'));
      await waitFor('203.0.113.0/24 learned', () => ws.storeJson().account.some((e: {entry: string}) => e.entry === '203.0.113.0/24'), WAIT_MS, s.stderr);
      expect(ws.storeJson().account.map((e: {entry: string}) => e.entry)).to.include('192.0.2.0/24');
      const history = ok(ws.run(['history', '--json'])).json();
      expect(history.some((h: {command: string}) => h.command === 'serve')).to.equal(true);
      await stop(s);
    } finally {
      s.child.kill('SIGKILL');
    }
  });

  it('runs and commits under node flags a thread may not be given (node --max-old-space-size=512 --stack-size=900 --trace-gc keyward serve), and without code generation from strings', async () => {
    // Its commit thread was started with the process's flags: these made serve an internal error (exit 70) before it listened.
    // So did --disallow-code-generation-from-strings, at oclif's start (ejs, which help templates were rendered with).
    const {ws} = workspace();
    const s = await serve(ws, ['--trust-proxy', '127.0.0.1', '--commit-every', '200ms'], {
      command: [process.execPath, '--max-old-space-size=512', '--stack-size=900', '--trace-gc', '--disallow-code-generation-from-strings'],
    });
    try {
      // The commit thread did its work.
      await learnsCaller(ws, s);
      // (stop() holds it to exit 0.)
      await stop(s);
    } finally {
      s.child.kill('SIGKILL');
    }
  });

  it('blocks while a channel is active: the address is in keyward blocked and the notify command runs', async () => {
    const {ws, mailerSecret} = workspace();
    const out = path.join(ws.dir, 'notified.ndjson');
    const s = await serve(ws, ['--trust-proxy', '127.0.0.1', '--commit-every', '200ms', '--notify-command', `sh ${RECORDER} ${out}`]);
    try {
      const a = await request(s.url, '/auth', asClient('198.51.100.7', mailerSecret));
      expect(a.status).to.equal(403);
      await waitFor('the notification', () => existsSync(out) && readFileSync(out, 'utf8').includes('198.51.100.7'), WAIT_MS, s.stderr);
      const payload = JSON.parse(readFileSync(out, 'utf8').trim().split('\n')[0]);
      expect(payload).to.deep.include({event: 'blocked', ip: '198.51.100.7', key: 'mailer', channel: 'smtp'});
      const blocked = ok(ws.run(['blocked', '--json'])).json();
      expect(blocked.map((b: {ip: string; key: string}) => `${b.key} ${b.ip}`)).to.deep.equal(['mailer 198.51.100.7']);
      // Once: a second refusal counts, but does not notify again.
      await request(s.url, '/auth', asClient('198.51.100.7', 'mailer'));
      await waitFor('the count to rise', () => ok(ws.run(['blocked', '--json'])).json()[0].count === 2, WAIT_MS, s.stderr);
      expect(readFileSync(out, 'utf8').trim().split('\n')).to.have.length(1);
      const done = await stop(s);
      expect(done.stderr).to.contain('blocked 198.51.100.7');
      noSecrets(s, mailerSecret);
    } finally {
      s.child.kill('SIGKILL');
    }
  });

  it('on SIGTERM stops taking connections, closes idle keep-alive connections, commits what it decided and exits 0 (SIGINT too)', async () => {
    for (const signal of ['SIGTERM', 'SIGINT'] as const) {
      const {ws} = workspace();
      const s = await serve(ws, ['--trust-proxy', '127.0.0.1', '--commit-every', '60s', '--json']);
      try {
        const http = await import('node:http');
        const agent = new http.Agent({keepAlive: true});
        for (let i = 0; i < 5; i++) await request(s.url, '/auth', asClient(`198.51.${100 + i}.1`, 'billing'), {agent});
        expect(ws.storeJson().account.map((e: {entry: string}) => e.entry)).not.to.include('198.51.100.0/24');
        const started = Date.now();
        const done = await stop(s, signal);
        // The idle keep-alive connection did not hold the exit (its timeout is 75 s).
        expect(Date.now() - started).to.be.below(10_000);
        agent.destroy();
        const learned = ws
          .storeJson()
          .account.filter((e: {source: string}) => e.source === 'learned')
          .map((e: {entry: string}) => e.entry);
        expect(learned).to.deep.equal(['198.51.100.0/24', '198.51.101.0/24', '198.51.102.0/24', '198.51.103.0/24', '198.51.104.0/24']);
        const summary = JSON.parse(done.stdout);
        expect(summary).to.deep.include({events: 5, decisions: {allow: 5, deny: 0, badRequests: 0}});
        expect(summary.learned).to.have.length(5);
        await new Promise((resolve, reject) => {
          const socket = net.connect(s.port, '127.0.0.1');
          socket.on('connect', () => reject(new Error('still listening after the signal')));
          socket.on('error', resolve);
        });
      } finally {
        s.child.kill('SIGKILL');
      }
    }
  });

  it('refuses connections beyond --max-connections, and takes them again when some close', async () => {
    const {ws} = workspace();
    const s = await serve(ws, ['--max-connections', '2', '--commit-every', '60s']);
    const held: net.Socket[] = [];
    try {
      for (let i = 0; i < 2; i++) {
        const socket = net.connect(s.port, '127.0.0.1');
        socket.on('error', () => undefined);
        await new Promise((resolve) => socket.on('connect', resolve));
        held.push(socket);
      }
      await new Promise((resolve) => setTimeout(resolve, 200));
      const third = await request(s.url, '/auth', {'X-Api-Key': 'billing'}).then(
        (a) => `answered ${a.status}`,
        (error: Error) => `refused (${error.message})`,
      );
      expect(third).to.match(/^refused/);
      held.forEach((x) => x.destroy());
      await waitForAsync('a connection to be taken again', async () => (await request(s.url, '/auth', {'X-Api-Key': 'billing'})).status === 204);
      await stop(s);
    } finally {
      held.forEach((x) => x.destroy());
      s.child.kill('SIGKILL');
    }
  });

  it('closes, not half-closes, a connection that sent no headers in time: clients that never close their side cannot hold --max-connections', async () => {
    const {ws} = workspace();
    const s = await serve(ws, ['--max-connections', '3', '--commit-every', '60s']);
    const held: net.Socket[] = [];
    let closed = 0;
    try {
      for (let i = 0; i < 3; i++) {
        // allowHalfOpen: the client keeps its side open after the server's FIN, as a hostile one would.
        const socket = net.connect({port: s.port, host: '127.0.0.1', allowHalfOpen: true});
        socket.on('error', () => undefined);
        socket.on('end', () => closed++);
        socket.resume();
        await new Promise((resolve) => socket.on('connect', resolve));
        held.push(socket);
      }
      // The header timeout (5 s, checked every second) ends all three; their slots are freed while they stay open on this side.
      await waitFor('the silent connections to be ended by serve', () => closed === 3, 20_000, s.stderr);
      await waitForAsync(
        'a slot to be free for a real request',
        async () => (await request(s.url, '/auth', asClient('10.1.2.3', 'billing')).catch(() => ({status: 0}))).status === 204,
        5_000,
      );
      await stop(s);
    } finally {
      held.forEach((x) => x.destroy());
      s.child.kill('SIGKILL');
    }
  });

  it('refuses what it cannot read whole: too many header lines (431), a key header given twice (400); masks a secret split by UTF-8 in a header; takes the absolute form', async () => {
    const {ws, secret} = workspace();
    const s = await serve(ws, ['--trust-proxy', '127.0.0.1', '--key-header', 'Authorization', '--commit-every', '60s']);
    /** One raw request; the answer's text. */
    const raw = (text: string | Buffer) =>
      new Promise<string>((resolve, reject) => {
        const socket = net.connect(s.port, '127.0.0.1', () => socket.end(text));
        let answer = '';
        socket.setEncoding('latin1').on('data', (t: string) => (answer += t));
        socket.on('close', () => resolve(answer));
        socket.on('error', reject);
      });
    try {
      const many = Array.from({length: 150}, (_, i) => `X-Filler-${i}: a\r\n`).join('');
      const tooMany = await raw(`GET /auth HTTP/1.1\r\nHost: x\r\n${many}Authorization: billing\r\nX-Real-IP: 10.1.2.3\r\nConnection: close\r\n\r\n`);
      expect(tooMany).to.match(/^HTTP\/1\.1 431 /);
      expect(tooMany.toLowerCase()).to.contain('keyward-error: headers-too-large');
      const twice = await request(s.url, '/auth', {Authorization: [`Bearer ${secret}`, 'Bearer 0000000000000000000000000000000000000000'], 'X-Real-IP': '10.1.2.3'});
      expect(twice.status).to.equal(400);
      expect(twice.body).to.contain('the authorization header is given more than once');
      const zwj = Buffer.concat([
        Buffer.from(`GET /auth HTTP/1.1\r\nHost: x\r\nAuthorization: billing\r\nX-Real-IP: ${secret.slice(0, 20)}`),
        Buffer.from('\u200d', 'utf8'),
        Buffer.from(`${secret.slice(20)}\r\nConnection: close\r\n\r\n`),
      ]);
      const masked = await raw(zwj);
      expect(masked)
        .to.match(/^HTTP\/1\.1 400 /)
        .and.contain(`${secret.slice(0, 4)}…`.replace('…', ''));
      expect(masked.toLowerCase()).not.to.contain(secret.slice(0, 16)).and.not.to.contain(secret.slice(24));
      const absolute = await raw(`GET http://x/healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
      expect(absolute)
        .to.match(/^HTTP\/1\.1 200 /)
        .and.contain('"status":"ok"');
      const empty = await request(s.url, '/auth', {Authorization: '', 'X-Real-IP': '10.1.2.3'});
      expect(empty.body).to.contain('no key: the authorization header is empty');
      // Nothing waits for a commit: no lag to alert on.
      expect((await request(s.url, '/metrics')).body).to.contain('keyward_commit_lag_seconds 0.000\n');
      await stop(s);
      noSecrets(s, secret);
    } finally {
      s.child.kill('SIGKILL');
    }
  });

  it('stays responsive with 1,000 slow clients holding connections (headers sent a byte at a time)', async () => {
    const {ws} = workspace();
    const s = await serve(ws, ['--trust-proxy', '127.0.0.1', '--commit-every', '60s']);
    const sockets: net.Socket[] = [];
    let closedCount = 0;
    try {
      await Promise.all(
        Array.from(
          {length: 1000},
          () =>
            new Promise<void>((resolve, reject) => {
              const socket = net.connect(s.port, '127.0.0.1', () => {
                socket.write('GET /auth HTTP/1.1\r\nHost: x\r\nX-Api-Key: bil');
                resolve();
              });
              socket.on('error', () => undefined);
              socket.on('close', () => closedCount++);
              socket.resume();
              socket.setTimeout(30_000);
              sockets.push(socket);
              setTimeout(() => reject(new Error('connect timed out')), 20_000);
            }),
        ),
      );
      const drip = setInterval(() => sockets.forEach((socket) => socket.writable && socket.write('l')), 200);
      try {
        const times: number[] = [];
        for (let i = 0; i < 20; i++) {
          const started = performance.now();
          const a = await request(s.url, '/auth', asClient('10.1.2.3', 'billing'));
          times.push(performance.now() - started);
          expect(a.status).to.equal(204);
        }
        times.sort((x, y) => x - y);
        // Promptly: the median well under a slow client's 5 s header timeout (generous for a loaded machine).
        expect(times[10], times.map((t) => t.toFixed(1)).join(' ')).to.be.below(250);
        const health = await request(s.url, '/healthz');
        expect(health.status).to.equal(200);
      } finally {
        clearInterval(drip);
      }
      // The slow clients are cut off at the header timeout (5 s), not held forever.
      await waitFor('the slow clients to be timed out', () => closedCount >= 990, 20_000, s.stderr);
      expect((await request(s.url, '/metrics')).body).to.match(/keyward_bad_requests_total\{why="timeout"\} (99\d|1000)\n/);
      await stop(s);
    } finally {
      sockets.forEach((x) => x.destroy());
      s.child.kill('SIGKILL');
    }
  });

  it('keeps the events of a commit that failed on a full disk and commits them when space is back (a real ENOSPC: a 256 KiB tmpfs in a private mount namespace)', async function () {
    const unshare = findTool('unshare');
    const probe = unshare === null ? null : spawnSync(unshare, ['--mount', 'sh', '-c', 'mount -t tmpfs -o size=256k tmpfs /mnt && umount /mnt'], {encoding: 'utf8'});
    if (probe === null || probe.status !== 0) {
      console.log(`      (skipped: a private mount namespace with a tmpfs is not permitted here: ${probe?.stderr.trim() ?? 'no unshare'})`);
      this.skip();
    }
    const {ws} = workspace();
    const ram = path.join(ws.dir, 'ram');
    (await import('node:fs')).mkdirSync(ram);
    const template = ws.store;
    const inside = path.join(ram, 'store.json');
    // The store lives in a tmpfs seen only by serve; the test reaches it through /proc/PID/root.
    const script = `mount -t tmpfs -o size=256k tmpfs "$1" && cp "$2" "$1/store.json" && shift 2 && exec "$@"`;
    const s = await serve(ws, ['--trust-proxy', '127.0.0.1', '--commit-every', '200ms'], {
      env: {KEYWARD_STORE: inside},
      command: [unshare!, '--mount', 'sh', '-c', script, 'sh', ram, template, process.execPath],
    });
    try {
      const there = (file: string) => `/proc/${s.child.pid}/root${file}`;
      const learned = () =>
        JSON.parse(readFileSync(there(inside), 'utf8'))
          .account.filter((e: {source: string}) => e.source === 'learned')
          .map((e: {entry: string}) => e.entry);
      await request(s.url, '/auth', asClient('198.51.100.1', 'billing'));
      await waitFor('the first caller learned', () => learned().length === 1, WAIT_MS, s.stderr);
      // Fill the disk.
      const filler = there(path.join(ram, 'filler'));
      const fs = await import('node:fs');
      const fd = fs.openSync(filler, 'w');
      try {
        for (;;) fs.writeSync(fd, Buffer.alloc(4096));
      } catch (error) {
        expect((error as NodeJS.ErrnoException).code).to.equal('ENOSPC');
      } finally {
        fs.closeSync(fd);
      }
      for (let i = 2; i <= 6; i++) expect((await request(s.url, '/auth', asClient(`198.51.${100 + i}.1`, 'billing'))).status).to.equal(204);
      const health = await waitForAsync('healthz to report the failed commit', async () => {
        const h = (await request(s.url, '/healthz')).json();
        return h.status === 'degraded' && h.commit.error !== null && h;
      });
      expect(health.commit.error).to.match(/ENOSPC|no space/i);
      expect(health.eventsPending).to.be.at.least(5);
      expect((await request(s.url, '/metrics')).body).to.match(/keyward_events_pending [5-9]\n/);
      expect(s.stderr()).to.contain('events are kept for the next commit');
      expect(learned()).to.have.length(1);
      // Decisions go on meanwhile.
      expect((await request(s.url, '/auth', asClient('10.1.2.3', 'billing'))).status).to.equal(204);
      // Space back: the kept events are committed, none lost.
      fs.rmSync(filler);
      await waitFor('the kept events committed', () => learned().length === 6, WAIT_MS, s.stderr);
      expect(learned()).to.deep.equal(['198.51.100.0/24', '198.51.102.0/24', '198.51.103.0/24', '198.51.104.0/24', '198.51.105.0/24', '198.51.106.0/24']);
      await waitForAsync('healthz ok again', async () => (await request(s.url, '/healthz')).json().status === 'ok', WAIT_MS, s.stderr);
      expect(s.stderr()).to.contain('committed again');
      const seen = JSON.parse(readFileSync(there(inside), 'utf8')).seen as {ip: string; count: number}[];
      expect(seen.find((x) => x.ip === '10.1.2.3')?.count).to.equal(1);
      await stop(s);
    } finally {
      s.child.kill('SIGKILL');
    }
  });
});

describe('keyward serve: what an outside tester found (round 17)', function () {
  this.timeout(60_000);

  it("a revoke that lands after serve wrote its own commit, before serve has heard of it, is in effect for the next request (it was taken for serve's own file)", async () => {
    const {ws, secret} = workspace();
    ok(ws.run(['activate', '--api', '--force']));
    const pause = path.join(ws.dir, 'pause');
    mkdirSync(pause);
    const mark = path.join(pause, 'committed');
    /** Waits until serve's commit thread has written a commit and serve is held before hearing of it. */
    const held = () => waitFor('a commit written, its answer held', () => existsSync(mark) && (rmSync(mark), true));
    const resume = () => writeFileSync(path.join(pause, 'resume'), '');
    // The first commit (of no event, before listening) is let through.
    const first = held().then(resume);
    const s = await serve(ws, ['--trust-proxy', '127.0.0.1', '--commit-every', '100ms'], {env: {KEYWARD_TEST_PAUSE_SERVE_COMMITTED: pause}});
    try {
      await first;
      expect((await request(s.url, '/auth', asClient('10.1.2.3', secret))).status, 'allowed before').to.equal(204);
      // That decision's event is committed; serve is held before it hears so. The store's lock is free.
      await held();
      ok(ws.run(['keys', 'revoke', 'billing', '--yes']));
      const answer = await request(s.url, '/auth', asClient('10.1.2.3', secret));
      expect([answer.status, answer.headers['keyward-reason']], 'the next request after keys revoke exited 0').to.deep.equal([403, 'key-revoked']);
    } finally {
      // Every later commit (the last one at the stop too) is let through.
      const through = setInterval(() => existsSync(mark) && (rmSync(mark), resume()), 10);
      resume();
      await stop(s).finally(() => clearInterval(through));
    }
  });

  it('answers a request that says Expect: 100-continue without inviting its body (no 100 Continue), then closes the connection', async () => {
    const {ws, secret} = workspace();
    const s = await serve(ws, ['--trust-proxy', '127.0.0.1', '--commit-every', '60s']);
    try {
      const answer = await new Promise<string>((resolve, reject) => {
        let text = '';
        const socket = net.connect(s.port, '127.0.0.1', () =>
          socket.write(`POST /auth HTTP/1.1\r\nHost: x\r\nX-Api-Key: ${secret}\r\nX-Real-IP: 10.1.2.3\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n`),
        );
        socket.setEncoding('utf8').on('data', (t: string) => (text += t));
        socket.on('close', () => resolve(text));
        socket.on('error', reject);
      });
      expect(answer.split('\r\n')[0]).to.equal('HTTP/1.1 204 No Content');
      expect(answer).not.to.contain('100 Continue');
      // Another expectation: a decision too, never Node's 417 (found by an outside tester).
      const other = await new Promise<string>((resolve, reject) => {
        let text = '';
        const socket = net.connect(s.port, '127.0.0.1', () =>
          socket.write(`POST /a HTTP/1.1\r\nHost: x\r\nX-Api-Key: ${secret}\r\nX-Real-IP: 10.1.2.3\r\nContent-Length: 3\r\nExpect: something\r\n\r\n`),
        );
        socket.setEncoding('utf8').on('data', (t: string) => (text += t));
        socket.on('close', () => resolve(text));
        socket.on('error', reject);
      });
      expect(other.split('\r\n')[0]).to.equal('HTTP/1.1 204 No Content');
      expect(other).to.contain('Keyward-Decision: allow');
    } finally {
      await stop(s);
    }
  });

  it("decides an address that is no client's (0.0.0.0, ::1, multicast) from a trusted proxy, and never learns, sees or blocks it, as learn reads it from a log", async () => {
    const {ws, secret} = workspace();
    const s = await serve(ws, ['--trust-proxy', '127.0.0.1', '--commit-every', '100ms']);
    try {
      for (const ip of ['0.0.0.0', '255.255.255.255', '::1', '::', '224.0.0.1', 'ff02::1']) {
        expect((await request(s.url, '/auth', asClient(ip, secret))).headers['keyward-reason'], ip).to.equal('learning');
      }
      // A caller after them: its commit shows theirs were made (one commit takes every event before it).
      await learnsCaller(ws, s);
    } finally {
      await stop(s);
    }
    const store = ws.storeJson();
    expect(store.account.filter((e: {source: string}) => e.source === 'learned').map((e: {entry: string}) => e.entry)).to.deep.equal(['198.51.100.0/24']);
    expect(store.seen.map((e: {ip: string}) => e.ip)).to.deep.equal(['198.51.100.23']);
  });

  it('counts the requests for a key the store does not know in the exit summary (unknownKeys), as /metrics does', async () => {
    const {ws} = workspace();
    const s = await serve(ws, ['--trust-proxy', '127.0.0.1', '--commit-every', '100ms', '--json'], {names: false});
    let done;
    try {
      for (const key of ['0123456789abcdef0123456789abcdef01234567', 'Basic dXNlcjpwYXNz', 'billing']) {
        expect((await request(s.url, '/auth', asClient('10.1.2.3', key))).headers['keyward-reason'], key).to.equal('unknown-key');
      }
    } finally {
      done = await stop(s);
    }
    expect(JSON.parse(done.stdout)).to.deep.include({unknownKeys: 3});
    expect(done.stderr).to.contain('3 denied (3 for an unknown key)');
  });
});

describe('keyward serve: what an outside tester found (round 15)', function () {
  this.timeout(90_000);

  it("takes a key's secret, not its name, unless --key-names: a name is no credential, and never learns an address", async () => {
    const {ws, secret} = workspace();
    const s = await serve(ws, ['--trust-proxy', '127.0.0.1', '--commit-every', '100ms'], {names: false});
    try {
      for (const name of ['billing', 'Bearer billing', ' billing ']) {
        const a = await request(s.url, '/auth', asClient('198.51.100.23', name));
        expect(a.status, name).to.equal(403);
        expect(a.headers['keyward-reason'], name).to.equal('unknown-key');
        expect(a.headers['keyward-key'], name).to.equal(undefined);
      }
      // The secret passes, and is reported by the key's name.
      const a = await request(s.url, '/auth', asClient('10.1.2.3', `Bearer ${secret}`));
      expect([a.status, a.headers['keyward-key']]).to.deep.equal([204, 'billing']);
    } finally {
      await stop(s);
    }
    const learned = ws.storeJson().account.filter((e: {source: string}) => e.source === 'learned');
    expect(learned, 'a name sent by anyone learned nothing').to.deep.equal([]);
    // --key-names: behind a gateway that checked the secret and passes the name on.
    const named = await serve(ws, ['--key-names', '--trust-proxy', '127.0.0.1']);
    try {
      const a = await request(named.url, '/auth', asClient('10.1.2.3', 'billing'));
      expect([a.status, a.headers['keyward-key']]).to.deep.equal([204, 'billing']);
    } finally {
      await stop(named);
    }
  });

  it('shows a secret pasted into a broken store by its hint on /healthz, as on stderr', async () => {
    const {ws, secret} = workspace();
    const s = await serve(ws);
    try {
      const good = ws.storeJson();
      ws.file('store.json', JSON.stringify({...good, version: secret}));
      const health = await waitForAsync('degraded', async () => {
        const h = await request(s.url, '/healthz');
        return h.json().status === 'degraded' ? h : null;
      });
      expect(health.body)
        .to.contain('not a keyward store')
        .and.contain(`${secret.slice(0, 4)}…${secret.slice(-4)}`);
      noSecrets({stdout: health.body, stderr: s.stderr()}, secret);
    } finally {
      await stop(s);
    }
  });

  it('stops within its grace time on SIGTERM while a --notify-command runs (its process group is killed), and ignores SIGHUP', async () => {
    const {ws} = workspace();
    ok(ws.run(['activate', '--api', '--force']));
    // A notification that never ends: a script that starts a child of its own (the shell alone killed, it would hold the pipes).
    const child = path.join(ws.dir, 'notify-child.pid');
    const slow = ws.file('slow-notify.sh', `#!/bin/sh\ncat > /dev/null\nsleep 600 &\necho $! > '${child}'\nwait\n`);
    spawnSync('chmod', ['+x', slow]);
    const s = await serve(ws, ['--trust-proxy', '127.0.0.1', '--commit-every', '100ms', '--notify-command', slow]);
    let done;
    try {
      expect((await request(s.url, '/auth', asClient('203.0.113.9', 'billing'))).status).to.equal(403);
      await waitFor('the notification to start', () => (existsSync(child) && readFileSync(child, 'utf8').trim() !== '' ? true : null));
      s.child.kill('SIGHUP');
      await waitFor('SIGHUP said', () => s.stderr().includes('SIGHUP ignored') || null);
      expect((await request(s.url, '/auth', asClient('10.1.2.3', 'billing'))).status, 'still serving after SIGHUP').to.equal(204);
      const started = Date.now();
      done = await stop(s);
      expect(Date.now() - started, 'stopped within the grace time (5 s) and the drain').to.be.below(15_000);
    } finally {
      if (s.child.exitCode === null) s.child.kill('SIGKILL');
    }
    expect(done.stderr).to.contain('still running when the grace time of a stop was over');
    // (A killed process that nobody has reaped yet, where PID 1 does not reap, is a zombie: gone too.)
    const alive = (pid: number) => {
      try {
        process.kill(pid, 0);
        return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
      } catch {
        return false;
      }
    };
    const pid = Number(readFileSync(child, 'utf8'));
    await waitFor("the notification's own child gone too", () => !alive(pid) || null, 5000);
    expect(ws.storeJson().blocked.map((b: {ip: string}) => b.ip)).to.include('203.0.113.9');
  });

  it('cuts Keyward-Matched to 1,024 bytes, ended by `...` (nginx refuses a larger header block), and gives every entry in the JSON body', async () => {
    const {ws} = workspace();
    // 113 nested ranges around 2001:db8::1, /16 to /128: a header of some 3 KiB whole.
    const nested = Array.from({length: 113}, (_, i) => `2001:db8::1/${16 + i}`);
    ok(ws.run(['authorize', '--normalize', ...nested]));
    const s = await serve(ws, ['--trust-proxy', '127.0.0.1']);
    try {
      const plainAnswer = await request(s.url, '/auth', asClient('2001:db8::1', 'billing'));
      const header = plainAnswer.headers['keyward-matched'] as string;
      const json = (await request(s.url, '/auth', asClient('2001:db8::1', 'billing', {Accept: 'application/json'}))).json();
      expect(json.matched.length).to.equal(113);
      expect(json.matched.join(', ').length, 'the whole list is longer than the cap').to.be.above(1024);
      expect(header.length).to.be.at.most(1024);
      expect(header.endsWith(', ...')).to.equal(true);
      expect(header.slice(0, -', ...'.length).split(', ')).to.deep.equal(json.matched.slice(0, header.split(', ').length - 1));
    } finally {
      await stop(s);
    }
  });

  it('refuses a --trust-proxy range both broad and with host bits as broad (exit 2), not as a --force it has no flag for', () => {
    const {ws} = workspace();
    for (const range of ['10.0.0.1/7', '2001:db8::1/15']) {
      const run = ws.run(['serve', '--trust-proxy', range]);
      expect(run.code, run.stderr).to.equal(2);
      expect(run.stderr).to.contain('is broader than /8').and.not.contain('--force');
    }
  });

  it('refuses a key header that names an address or the host, and an empty --notify-command (exit 2); reads Accept in any case', async () => {
    const {ws, secret} = workspace();
    for (const args of [
      ['--key-header', 'X-Real-IP'],
      ['--key-header', 'x-forwarded-for'],
      ['--key-header', 'Host'],
      ['--notify-command', ' '],
    ]) {
      const run = ws.run(['serve', ...args]);
      expect(run.code, `${args.join(' ')}: ${run.stderr}`).to.equal(2);
    }
    expect(ws.run(['learn', '-', '--notify-command', ''], {input: ''}).code).to.equal(2);
    const s = await serve(ws, ['--trust-proxy', '127.0.0.1'], {names: false});
    try {
      const a = await request(s.url, '/auth', asClient('10.1.2.3', secret, {Accept: 'APPLICATION/JSON'}));
      expect([a.status, a.json().decision]).to.deep.equal([200, 'allow']);
    } finally {
      await stop(s);
    }
  });

  it('decides a link-local peer by its address, without the interface the kernel names (fe80::1%eth0)', async () => {
    const {clientAddress} = await import('../../src/cli/serve/server.js');
    const {TrustedProxies} = await import('../../src/cli/serve/options.js');
    const req = (remoteAddress: string, headers: Record<string, string> = {}) => ({socket: {remoteAddress}, headers}) as never;
    expect(clientAddress(req('fe80::fc:ff:fe00:1%eth0'), TrustedProxies.parse([]))).to.deep.equal({text: 'fe80::fc:ff:fe00:1', family: 6});
    // A trusted proxy on link-local names the client.
    expect(clientAddress(req('fe80::1%eth0', {'x-real-ip': '10.1.2.3'}), TrustedProxies.parse(['fe80::/64']))).to.deep.equal({text: '10.1.2.3', family: 4});
  });
});
