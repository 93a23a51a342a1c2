/**
 * `list --json`'s fast path (bin/run.js → dist/list-fast.cjs, the bundle of
 * src/cli/list/run.ts, without oclif) against the oclif command
 * (KEYWARD_NO_FAST_PATH=1): the same stdout, stderr and exit code over
 * command lines and stores (labels in any text, groups, deny and disabled
 * entries, key lists; a large store keyward wrote, whose account list's
 * rows are written from the file's bytes; stores missing, corrupt, newer or
 * not a store); every other
 * command line goes to oclif.
 */
import {existsSync, readFileSync, statSync, writeFileSync} from 'node:fs';
import path from 'node:path';

import {expect} from 'chai';

import {identityOf, indexCacheFile} from '../../src/store/index-cache.js';
import {Case, matrix, unreadableStores} from './fast-path-harness.js';
import {NOW, RunResult, Workspace} from './harness.js';
import {forgeCacheHeader} from '../store/random-store.js';

const ok = (result: RunResult) => {
  expect(result.code, result.stderr).to.equal(0);
  return result;
};

/** Writes to a store of 1 MiB take a few seconds, and many times that on a busy machine. */
const WRITE_TIMEOUT_MS = 180_000;

/** Labels a person could give: quotes, a backslash, Unicode, a tab, an emoji; and one left empty. */
const LABELS = ['office "north"', 'back\\slash', 'café 日本', 'tab\there', '🙂 ok', ''];

function populate(ws: Workspace, bulk: number): void {
  const run = (args: string[], input?: string) => ok(ws.run(args, {now: NOW, input, timeoutMs: WRITE_TIMEOUT_MS}));
  let lines = '';
  for (let i = 0; i < bulk; i++) lines += `100.${64 + ((i >> 16) & 63)}.${(i >> 8) & 255}.${i & 255}${i % 10 === 0 ? ` # customer ${i}` : ''}\n`;
  if (bulk > 0) run(['authorize', '-'], lines);
  LABELS.forEach((label, i) => run(['authorize', `10.${i}.0.0/16`, '--label', label]));
  run(['authorize', '2001:db8::/48', '--group', 'ops', '--expires', '30d']);
  run(['authorize', '198.51.100.0/24', '--group', 'ops']);
  run(['deny', '10.0.9.0/24']);
  run(['disable', '10.1.0.0/16']);
  run(['keys', 'create', 'ci', '--type', 'api', '--allow', '192.0.2.0/24', '--allow', '2001:db8:1::/64']);
  run(['keys', 'create', 'relay', '--type', 'smtp']);
}

describe('keyward list --json: the fast path', function () {
  this.timeout(600_000);

  it('gives what the oclif command gives, over command lines and store paths', async () => {
    const ws = Workspace.create();
    populate(ws, 0);
    const cases: Case[] = [
      {args: ['list', '--json']},
      {args: ['--json', 'list']},
      {args: ['list', '--json', '--store', ws.store]},
      {args: ['list', `--store=${ws.store}`, '--json']},
      {args: ['--store', ws.store, 'list', '--json']},
      // An expiry passed: list shows the entry all the same.
      {args: ['list', '--json'], options: {now: '2027-06-01T00:00:00.000Z'}},
      // A clock keyward cannot read is refused, as by every command (the listing itself does not use it).
      {args: ['list', '--json'], options: {now: 'yesterday'}},
      {args: ['list', '--json', '--store', path.join(ws.dir, 'missing.json')], options: {now: 'yesterday'}},
    ];
    const [run] = await matrix(ws, cases);
    const rows = run.json() as {entry: string; scope: string; label: string | null; group: string | null; effect: string; enabled: boolean}[];
    expect(rows.map((r) => r.label)).to.include.members(LABELS);
    expect(rows.find((r) => r.entry === '10.0.9.0/24')).to.include({effect: 'deny'});
    expect(rows.find((r) => r.entry === '10.1.0.0/16')).to.include({enabled: false});
    expect(rows.find((r) => r.entry === '198.51.100.0/24')).to.include({group: 'ops'});
    expect(rows.filter((r) => r.scope === 'ci').map((r) => r.entry)).to.deep.equal(['192.0.2.0/24', '2001:db8:1::/64']);
  });

  it("on a large store keyward wrote (its account list's rows written from the file's bytes), and on the same file read whole", async () => {
    const ws = Workspace.create();
    populate(ws, 12_000);
    const [run] = await matrix(ws, [{args: ['list', '--json']}]);
    expect(run.json()).to.have.length.above(12_000);
    expect(statSync(ws.store).size, 'large enough for its cache to vouch for it').to.be.above(1 << 20);
    expect(existsSync(indexCacheFile(ws.store))).to.equal(true);
    // The same text without its cache (not vouched for: read and checked whole).
    const copy = ws.file('copy/store.json', ws.storeBytes()!);
    const [whole] = await matrix(ws, [{args: ['list', '--json', '--store', copy]}]);
    expect(whole.stdout).to.equal(run.stdout);
  });

  it('lists a store its cache vouches for but whose account list is not laid out as keyward writes it as the parsed path does, printing nothing twice', async () => {
    const ws = Workspace.create();
    populate(ws, 12_000);
    // A hand edit of the same size (a record's source and label lines swapped: still the same JSON) that the cache is then
    // forged to vouch for, its identity made the edited file's, both checksums anew (never keyward's doing; the fast path
    // must still read its layout, find the departure before printing anything, and list the store as oclif's path does).
    const bytes = ws.storeBytes()!;
    const lines = '      "source": "import",\n      "label": null,';
    const record = bytes.indexOf(lines);
    expect(record, 'a record to edit').to.be.above(0);
    const swapped = Buffer.concat([bytes.subarray(0, record), Buffer.from('      "label": null,\n      "source": "import",'), bytes.subarray(record + lines.length)]);
    expect(swapped.length).to.equal(bytes.length);
    const cache = indexCacheFile(ws.store);
    const whole = readFileSync(cache);
    const headerLength = whole.readUInt32LE(12);
    const header = JSON.parse(whole.toString('utf8', 48, 48 + headerLength));
    let forged: string | null = null;
    for (let attempt = 0; attempt < 20 && forged === null; attempt++) {
      writeFileSync(ws.store, swapped);
      const text = JSON.stringify({...header, store: identityOf(statSync(ws.store)), counts: {...header.counts, records: 4242}});
      if (text.length <= headerLength) forged = text;
    }
    expect(forged, 'a forged header as long as the real one').to.be.a('string');
    writeFileSync(cache, forgeCacheHeader(whole, forged!));
    // The cache vouches for the edited file: status takes its (forged) count from it.
    expect(ok(ws.run(['status', '--json'], {now: NOW})).json().counts.accountEntries, 'the forged cache vouches').to.equal(4242);
    const [run] = await matrix(ws, [{args: ['list', '--json']}]);
    expect(run.json()).to.have.length.above(12_000);
    // What a whole read of the same text lists (a copy, no cache beside it).
    const copy = ws.file('copy/store.json', swapped);
    const [fromCopy] = await matrix(ws, [{args: ['list', '--json', '--store', copy]}]);
    expect(fromCopy.stdout).to.equal(run.stdout);
  });

  it('for a store that is missing, corrupt, a folder, newer, or not a store', async () => {
    const ws = Workspace.create();
    const files = [...unreadableStores(ws), path.join(ws.dir, 'no-folder', 'store.json')];
    await matrix(
      ws,
      files.map((file) => ({args: ['list', '--json', '--store', file]})),
    );
    await matrix(ws, [{args: ['list', '--json'], options: {env: {KEYWARD_STORE: files[0]}}}]);
  });

  it('hands the table, filters, help, repeated or valueless flags, arguments and `--` to oclif', async () => {
    const ws = Workspace.create();
    populate(ws, 0);
    await matrix(
      ws,
      [
        {args: ['list']},
        {args: ['list', '--json', '--account']},
        {args: ['list', '--json', '--key', 'ci']},
        {args: ['list', '--json', '--group', 'ops']},
        {args: ['list', '--json', '--help']},
        {args: ['list', '--json', '-h']},
        {args: ['list', '--json', 'extra']},
        {args: ['list', '--json', '--json']},
        {args: ['list', '--json', '--store']},
        {args: ['list', '--json', '--store', '--json']},
        {args: ['list', '--json', '--']},
      ],
      false,
    );
  });
});
