import {expect} from 'chai';

import {NOW, Workspace} from './harness.js';

/**
 * A 100-line allowlist as an operator would keep it: ranges with labels, a
 * comment line and a blank line (both still counted as lines), and, unless
 * `bad` is false, one wrong octet on line 58.
 */
function hundredLines(bad = true): string {
  const lines: string[] = [];
  for (let n = 1; n <= 100; n++) {
    if (n === 10) lines.push('# branch offices');
    else if (n === 20) lines.push('');
    else if (n === 58 && bad) lines.push('10.300.0.0/16');
    else if (n % 7 === 0) lines.push(`2001:db8:${n.toString(16)}::/48  # site ${n}`);
    else lines.push(`10.${n}.0.0/16 # site ${n}`);
  }
  return `${lines.join('\n')}\n`;
}

const REASON = '`10.300.0.0/16` is not an IPv4 range: octet 300 > 255';

describe('keyward authorize: importing a list is all or nothing', () => {
  it('refuses a 100-line --file with a bad line 58, naming the line and the reason, and creates no store', () => {
    const ws = Workspace.create();
    const file = ws.file('allow.txt', hundredLines());
    const out = ws.run(['authorize', '--file', file, '--json'], {now: NOW});
    expect(out.code).to.equal(2);
    expect(JSON.parse(out.stdout)).to.deep.equal({error: {exit: 2, message: `line 58 of ${file}: ${REASON}`, input: '10.300.0.0/16', line: 58}});
    expect(out.stderr).to.contain(`line 58 of ${file}: ${REASON}`);
    expect(ws.storeBytes()).to.equal(null);
    expect(
      ws.allFiles().map((f) => f.file),
      'no temporary or lock file is left',
    ).to.deep.equal([file]);
  });

  it('refuses the same list on stdin with the store byte for byte unchanged, then imports it whole once line 58 is fixed', () => {
    const ws = Workspace.create();
    expect(ws.run(['authorize', '192.0.2.1'], {now: NOW}).code).to.equal(0);
    const before = ws.storeBytes();

    const out = ws.run(['authorize', '-', '--json'], {now: NOW, input: hundredLines()});
    expect(out.code).to.equal(2);
    expect(JSON.parse(out.stdout)).to.deep.equal({error: {exit: 2, message: `line 58: ${REASON}`, input: '10.300.0.0/16', line: 58}});
    expect(out.stderr).to.contain(`line 58: ${REASON}`);
    expect(ws.storeBytes()).to.deep.equal(before);

    const dash = ws.run(['revoke', '-', '--json'], {now: NOW, input: hundredLines()});
    expect(dash.code, 'revoke reads with the same grammar').to.equal(2);
    expect(dash.stderr).to.contain(`line 58: ${REASON}`);
    expect(ws.storeBytes()).to.deep.equal(before);

    const good = ws.run(['authorize', '-', '--json'], {now: NOW, input: hundredLines(false)});
    expect(good.code, good.stderr).to.equal(0);
    const {added, unchanged} = good.json();
    expect(added, '100 lines less a comment and a blank').to.have.length(98);
    expect(unchanged).to.deep.equal([]);
    expect(added).to.include.members(['10.58.0.0/16', '2001:db8:7::/48', '2001:db8:62::/48']);
    const rows = ws.run(['list', '--json']).json<any[]>();
    expect(rows).to.have.length(99);
    expect(rows.find((r) => r.entry === '10.58.0.0/16')).to.include({source: 'import', label: 'site 58'});
  });
});
