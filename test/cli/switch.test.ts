/**
 * `disable` and `enable` when the switch refuses addresses (an allow entry
 * off, a deny entry on): recently seen traffic it cuts off is listed and
 * asked about, as `revoke` and `activate` do; without a terminal the switch
 * needs --yes (exit 4, nothing changed). A switch that cuts off nobody asks
 * nothing.
 */
import {expect} from 'chai';

import {NOW, RunResult, Workspace} from './harness.js';

const ok = (r: RunResult, code = 0): RunResult => {
  expect(r.code, `${r.stdout}\n${r.stderr}`).to.equal(code);
  return r;
};

/** Two account entries, an API key whose caller 10.0.0.5 was seen, API blocking active. */
function store(): Workspace {
  const ws = Workspace.create();
  ok(ws.run(['authorize', '10.0.0.0/24', '198.51.100.0/24'], {now: NOW}));
  ok(ws.run(['keys', 'create', 'bot', '--type', 'api'], {now: NOW}));
  ok(ws.run(['activate', '--api', '--force'], {now: NOW}));
  ok(ws.run(['learn', '-'], {now: NOW, input: `bot 10.0.0.5 ${NOW}\n`}));
  return ws;
}

describe('keyward disable / enable: cutting off seen traffic asks first', () => {
  it('disable of an allow entry a seen caller uses: listed, exit 4 without --yes, nothing changed; --yes switches it', () => {
    const ws = store();
    const before = ws.storeBytes()!;
    const refused = ws.run(['disable', '10.0.0.0/24'], {now: NOW});
    expect(refused.code, refused.stderr).to.equal(4);
    expect(refused.stderr).to.contain('1 recently seen address would be cut off').and.contain('10.0.0.5').and.contain('pass --yes');
    expect(ws.storeBytes()!.equals(before), 'nothing written').to.equal(true);
    expect(ws.run(['check', 'bot', '10.0.0.5'], {now: NOW}).code).to.equal(0);

    const json = ws.run(['disable', '10.0.0.0/24', '--json'], {now: NOW});
    expect(json.code).to.equal(4);
    expect(json.json().error).to.include({exit: 4});

    const done = ok(ws.run(['disable', '10.0.0.0/24', '--yes', '--json'], {now: NOW}));
    expect(done.json()).to.deep.equal({disabled: ['10.0.0.0/24'], unchanged: [], dryRun: false});
    expect(ws.run(['check', 'bot', '10.0.0.5'], {now: NOW}).code).to.equal(1);
  });

  it('disable that cuts off nobody asks nothing; --dry-run never asks and writes nothing', () => {
    const ws = store();
    const before = ws.storeBytes()!;
    const dry = ok(ws.run(['disable', '10.0.0.0/24', '--dry-run', '--json'], {now: NOW}));
    expect(dry.json()).to.deep.equal({disabled: ['10.0.0.0/24'], unchanged: [], dryRun: true});
    expect(ws.storeBytes()!.equals(before)).to.equal(true);
    ok(ws.run(['disable', '198.51.100.0/24'], {now: NOW}));
  });

  it('enable of a deny entry covering a seen caller asks; enable of an allow entry never does', () => {
    const ws = store();
    ok(ws.run(['deny', '10.0.0.5'], {now: NOW}));
    ok(ws.run(['disable', '10.0.0.5'], {now: NOW}));
    expect(ws.run(['check', 'bot', '10.0.0.5'], {now: NOW}).code, 'the disabled deny entry lets it in').to.equal(0);
    const refused = ws.run(['enable', '10.0.0.5'], {now: NOW});
    expect(refused.code, refused.stderr).to.equal(4);
    expect(refused.stderr).to.contain('Enable 1 entry?').and.contain('10.0.0.5');
    ok(ws.run(['enable', '10.0.0.5', '--yes'], {now: NOW}));
    expect(ws.run(['check', 'bot', '10.0.0.5'], {now: NOW}).code).to.equal(1);
    ok(ws.run(['disable', '198.51.100.0/24'], {now: NOW}));
    ok(ws.run(['enable', '198.51.100.0/24'], {now: NOW}));
  });

  it('a key list: disabling the entry its seen caller uses asks, in any blocking state', () => {
    const ws = Workspace.create();
    ok(ws.run(['keys', 'create', 'bot', '--type', 'api'], {now: NOW}));
    ok(ws.run(['authorize', '--key', 'bot', '10.0.0.0/24', '192.0.2.0/24'], {now: NOW}));
    ok(ws.run(['deactivate', '--api', '--yes'], {now: NOW}));
    ok(ws.run(['learn', '-'], {now: NOW, input: `bot 10.0.0.5 ${NOW}\n`}));
    const refused = ws.run(['disable', '--key', 'bot', '10.0.0.0/24'], {now: NOW});
    expect(refused.code, refused.stderr).to.equal(4);
    expect(refused.stderr).to.contain('10.0.0.5');
    ok(ws.run(['disable', '--key', 'bot', '192.0.2.0/24'], {now: NOW}));
    ok(ws.run(['enable', '--key', 'bot', '192.0.2.0/24'], {now: NOW}));
  });
});
