import {expect} from 'chai';

import {NOW, Workspace} from './harness.js';

const allow = (ip: string, matched: string[]) => ({key: 'ci', ip, decision: 'allow', reason: 'authorized', matched});
const deny = (ip: string) => ({key: 'ci', ip, decision: 'deny', reason: 'not-authorized', matched: []});

describe('keyward check', () => {
  // One store for the whole block: check never writes, and the last test proves it.
  const ws = Workspace.create();
  let secret = '';
  before(() => {
    expect(ws.run(['authorize', '10.0.0.0/8', '2001:db8::/32'], {now: NOW}).code).to.equal(0);
    const created = ws.run(['keys', 'create', 'ci', '--type', 'api', '--json'], {now: NOW});
    expect(created.code, created.stderr).to.equal(0);
    secret = created.json().secret;
    expect(ws.run(['activate', '--api'], {now: NOW}).code).to.equal(0);
  });

  it('prints an array of one for one address (the shape never depends on the count), exit 0 when allowed and 1 when denied', async () => {
    const [allowed, denied] = await ws.runAll([
      ['check', 'ci', '10.1.2.3', '--json'],
      ['check', 'ci', '192.0.2.1', '--json'],
    ]);
    expect(allowed.code, allowed.stderr).to.equal(0);
    expect(allowed.json()).to.deep.equal([allow('10.1.2.3', ['10.0.0.0/8'])]);

    expect(denied.code).to.equal(1);
    expect(denied.json()).to.deep.equal([deny('192.0.2.1')]);
  });

  it('prints a JSON array for several addresses, in order, exit 1 when any is denied', () => {
    const out = ws.run(['check', 'ci', '10.0.0.1', '2001:DB8::0:1', '192.0.2.1', '--json']);
    expect(out.code).to.equal(1);
    expect(out.json()).to.deep.equal([allow('10.0.0.1', ['10.0.0.0/8']), allow('2001:db8::1', ['2001:db8::/32']), deny('192.0.2.1')]);
  });

  it('reads stdin for `-` one address a line and prints an array (even of one), skipping blanks and comments', () => {
    const piped = ws.run(['check', 'ci', '-', '--json'], {input: '# from the access log\n10.0.0.1\n\n'});
    expect(piped.code, piped.stderr).to.equal(0);
    expect(piped.json()).to.deep.equal([allow('10.0.0.1', ['10.0.0.0/8'])]);

    const dash = ws.run(['check', 'ci', '10.0.0.2', '-', '--json'], {input: '10.0.0.3\r\n192.0.2.1\n'});
    expect(dash.code).to.equal(1);
    expect(dash.json<any[]>().map((d) => [d.ip, d.decision])).to.deep.equal([
      ['10.0.0.2', 'allow'],
      ['10.0.0.3', 'allow'],
      ['192.0.2.1', 'deny'],
    ]);
    // An address after - would be decided before the stream, out of the input's order: refused on both paths.
    for (const env of [{}, {KEYWARD_NO_FAST_PATH: '1'}]) {
      const after = ws.run(['check', 'ci', '10.0.0.2', '-', '10.0.0.4', '--json'], {input: '10.0.0.3\n', env});
      expect(after.code, JSON.stringify(env)).to.equal(2);
      expect(after.json().error.message).to.equal('- (stdin) must come last: addresses after it would be decided before the stream');
    }
  });

  it('with --ndjson prints one object a line', () => {
    const out = ws.run(['check', 'ci', '-', '--ndjson'], {input: '10.0.0.1\n192.0.2.1\n2001:db8::9\n'});
    expect(out.code).to.equal(1);
    expect(out.stdout.split('\n')).to.have.length(4);
    expect(out.ndjson()).to.deep.equal([allow('10.0.0.1', ['10.0.0.0/8']), deny('192.0.2.1'), allow('2001:db8::9', ['2001:db8::/32'])]);
  });

  it('with --expect deny succeeds only when every address is denied', async () => {
    const [met, missed, badValue] = await ws.runAll([
      ['check', 'ci', '192.0.2.1', '198.51.100.1', '--expect', 'deny'],
      ['check', 'ci', '192.0.2.1', '10.0.0.1', '--expect', 'deny'],
      ['check', 'ci', '10.0.0.1', '--expect', 'maybe'],
    ]);
    expect(met.code, met.stderr).to.equal(0);
    expect(missed.code).to.equal(1);
    expect(missed.stderr).to.contain('did not get "deny"');
    expect(badValue.code).to.equal(2);
  });

  it('prints one line a decision for people, and says on stderr how many were denied', () => {
    const out = ws.run(['check', 'ci', '10.1.2.3', '192.0.2.1']);
    expect(out.code).to.equal(1);
    const lines = out.stdout.trimEnd().split('\n');
    expect(lines).to.have.length(2);
    expect(lines[0]).to.match(/^allow\s+10\.1\.2\.3\s+authorized\s+10\.0\.0\.0\/8$/);
    expect(lines[1]).to.match(/^deny\s+192\.0\.2\.1\s+not-authorized$/);
    expect(out.stderr).to.contain('1 of 2 addresses denied');
  });

  it('treats ::ffff:10.0.0.1 as 10.0.0.1: it matches the IPv4 entry and never bypasses the list', () => {
    const out = ws.run(['check', 'ci', '::ffff:10.0.0.1', '::FFFF:192.0.2.1', '--json']);
    expect(out.code).to.equal(1);
    expect(out.json()).to.deep.equal([allow('::ffff:10.0.0.1', ['10.0.0.0/8']), deny('::ffff:192.0.2.1')]);
  });

  it('refuses a bad address, a range or no address at all with exit 2, naming where it was', async () => {
    const [arg, line, range, none, emptyPipe] = await Promise.all([
      ws.start(['check', 'ci', '10.0.0.1', '10.0.0.256', '--json']),
      ws.start(['check', 'ci', '-', '--ndjson'], {input: '10.0.0.1\nfe80::1%eth0\n'}),
      ws.start(['check', 'ci', '10.0.0.0/8']),
      ws.start(['check', 'ci', '--expect', 'allow']),
      ws.start(['check', 'ci', '-', '--json'], {input: '# nothing but a comment\n'}),
    ]);
    expect(arg.code).to.equal(2);
    expect(arg.json().error, 'the error object alone on stdout').to.include({exit: 2});
    expect(arg.stderr).to.contain('argument 3').and.contain('10.0.0.256').and.contain('octet 256 > 255');

    expect(line.code).to.equal(2);
    expect(line.stderr).to.contain('line 2').and.contain('zone');

    expect(range.code).to.equal(2);
    expect(range.stderr).to.contain('is a range');

    // A CI job with an empty $IP must not pass: stdin is /dev/null there, and empty is not "all allowed".
    expect(none.code, 'stdin is /dev/null: no address').to.equal(2);
    expect(none.stderr).to.contain('no address');
    expect(emptyPipe.code).to.equal(2);
    expect(emptyPipe.json()).to.deep.equal({error: {exit: 2, message: 'no address given: stdin had none'}});
  });

  it('takes a key by its secret and never prints the secret', async () => {
    const [json, human] = await ws.runAll([
      ['check', secret, '10.0.0.1', '192.0.2.1', '--json'],
      ['check', secret, '10.0.0.1', '192.0.2.1'],
    ]);
    expect(json.code).to.equal(1);
    expect(json.json<any[]>().map((d) => d.key)).to.deep.equal(['ci', 'ci']);
    expect(human.code).to.equal(1);
    for (const out of [json, human]) expect(out.stdout + out.stderr).not.to.contain(secret);
  });

  it('refuses an unknown key with exit 2, by name or by secret, without echoing the secret', async () => {
    const stranger = 'f'.repeat(40);
    const [byName, bySecret] = await ws.runAll([
      ['check', 'nosuch', '10.0.0.1', '--json'],
      ['check', stranger, '10.0.0.1'],
    ]);
    expect(byName.code).to.equal(2);
    expect(byName.json().error, 'the error object alone on stdout').to.include({exit: 2});
    expect(byName.stderr).to.contain('unknown key').and.contain('nosuch');

    expect(bySecret.code).to.equal(2);
    expect(bySecret.stderr).to.contain('unknown key');
    expect(bySecret.stdout + bySecret.stderr).not.to.contain(stranger);
  });

  it('never writes to the store: bytes and modification time stay the same', async () => {
    const bytes = ws.storeBytes();
    const mtime = ws.storeMtimeMs();
    const runs = await Promise.all([
      ws.start(['check', 'ci', '10.0.0.1']),
      ws.start(['check', 'ci', '192.0.2.1', '--json'], {now: '2030-01-01T00:00:00Z'}),
      ws.start(['check', 'ci', '--ndjson'], {input: '10.0.0.1\n300.0.0.1\n'}),
    ]);
    expect(runs.map((r) => r.code)).to.deep.equal([0, 1, 2]);
    expect(ws.storeBytes()).to.deep.equal(bytes);
    expect(ws.storeMtimeMs()).to.equal(mtime);
    expect(
      ws.allFiles().map((f) => f.file),
      'no lock or temporary file',
    ).to.deep.equal([ws.store]);
  });

  it('creates no store when there is none', () => {
    const empty = Workspace.create();
    const out = empty.run(['check', 'ci', '10.0.0.1']);
    // v2: no store is a store error (exit 3), never an empty store.
    expect(out.code).to.equal(3);
    expect(out.stderr).to.contain(`no store at ${empty.store}`);
    expect(empty.storeBytes()).to.equal(null);
  });
});

describe('keyward check: what `matched` names for a denial (contract.md, "Decisions")', () => {
  it('not-authorized names the entries of the key list that hold the address; not-in-key-allowlist names none; denied the deny entries', () => {
    const ws = Workspace.create();
    for (const args of [
      ['keys', 'create', 'k', '--type', 'api', '--allow', '192.0.2.0/24'],
      ['authorize', '198.51.100.0/24'],
      ['deny', '198.51.100.128/25'],
      ['activate', '--api', '--yes'],
    ]) {
      const run = ws.run(args, {now: NOW});
      expect(run.code, `${args.join(' ')}: ${run.stderr}`).to.equal(0);
    }
    const out = ws.run(['check', 'k', '192.0.2.7', '203.0.113.1', '198.51.100.200', '--json'], {now: NOW});
    expect(out.code).to.equal(1);
    expect(out.json().map((d: {reason: string; matched: string[]}) => [d.reason, d.matched])).to.deep.equal([
      ['not-authorized', ['192.0.2.0/24']],
      ['not-in-key-allowlist', []],
      ['denied', ['198.51.100.128/25']],
    ]);
  });
});
