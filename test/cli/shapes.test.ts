/**
 * Output shapes that never change with the input (docs/contract.md "Output
 * shapes"): every command's --json value, and check's --ndjson lines, checked
 * against one schema each — every field present with its type, nothing extra —
 * over stores that give them different contents: emptied, one entry, many
 * (keys, deny, disabled, grouped, expired, learned and blocked entries).
 * A change that adds, drops or retypes a field fails here.
 */
import {readFileSync, writeFileSync} from 'node:fs';
import path from 'node:path';

import {expect} from 'chai';

import {daysAfter, NOW, RunResult, Workspace} from './harness.js';

// ---- a small schema checker -------------------------------------------------------------

type Schema = (value: unknown, at: string) => string[];

const is =
  (type: 'string' | 'number' | 'boolean'): Schema =>
  (v, at) =>
    typeof v === type ? [] : [`${at}: ${JSON.stringify(v)} is not a ${type}`];
const str = is('string');
const num = is('number');
const bool = is('boolean');
const nul: Schema = (v, at) => (v === null ? [] : [`${at}: ${JSON.stringify(v)} is not null`]);
const oneOf =
  (...values: string[]): Schema =>
  (v, at) =>
    typeof v === 'string' && values.includes(v) ? [] : [`${at}: ${JSON.stringify(v)} is not one of ${values.join(', ')}`];
const or =
  (...schemas: Schema[]): Schema =>
  (v, at) => {
    const each = schemas.map((s) => s(v, at));
    return each.some((e) => e.length === 0) ? [] : [`${at}: ${JSON.stringify(v)} matches none of its types (${each.flat().join('; ')})`];
  };
const arr =
  (item: Schema): Schema =>
  (v, at) =>
    Array.isArray(v) ? v.flatMap((x, i) => item(x, `${at}[${i}]`)) : [`${at}: ${JSON.stringify(v)} is not an array`];
const obj =
  (fields: Record<string, Schema>): Schema =>
  (v, at) => {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) return [`${at}: ${JSON.stringify(v)} is not an object`];
    const o = v as Record<string, unknown>;
    const missing = Object.keys(fields)
      .filter((k) => !(k in o))
      .map((k) => `${at}.${k} is missing`);
    const extra = Object.keys(o)
      .filter((k) => !(k in fields))
      .map((k) => `${at}.${k} is not in the contract`);
    return [...missing, ...extra, ...Object.entries(fields).flatMap(([k, s]) => (k in o ? s(o[k], `${at}.${k}`) : []))];
  };
const strOrNull = or(str, nul);

// ---- the shapes (docs/contract.md "Output shapes") ----------------------------------------

const channel = oneOf('api', 'smtp');
const state = oneOf('learning', 'active', 'inactive');
const decision = obj({key: str, ip: str, decision: oneOf('allow', 'deny'), reason: str, matched: arr(str)});
const entryFields = {
  entry: str,
  scope: str,
  source: oneOf('manual', 'learned', 'import', 'blocked'),
  label: strOrNull,
  addedAt: str,
  expiresAt: strOrNull,
  group: strOrNull,
  effect: oneOf('allow', 'deny'),
  enabled: bool,
};
const entryRow = obj(entryFields);
/** export --format json: aggregated rows have no source, label or dates. */
const exportRow = obj({...entryFields, source: or(entryFields.source, nul), addedAt: strOrNull});
const blockedRow = obj({
  ip: str,
  key: str,
  channel,
  firstSeen: str,
  lastSeen: str,
  count: num,
  reason: or(oneOf('not-authorized', 'not-in-key-allowlist', 'denied', 'key-revoked'), nul),
  deniedBy: or(obj({entry: str, scope: oneOf('account', 'key')}), nul),
});
const keyRow = obj({name: str, type: channel, hint: str, status: oneOf('active', 'revoked'), createdAt: str, rotatedAt: strOrNull, allow: arr(str), deny: arr(str)});
const counts3 = obj({added: num, removed: num, updated: num});
const historyRow = obj({
  at: str,
  command: str,
  flags: arr(str),
  user: str,
  changes: obj({
    counts: counts3,
    entries: arr(obj({scope: str, added: arr(str), removed: arr(str), updated: arr(str), counts: counts3, groups: arr(str)})),
    keys: arr(obj({name: str, type: channel, action: oneOf('created', 'rotated', 'revoked', 'restored', 'deleted'), hint: str})),
    blocking: arr(obj({channel, from: state, to: state, automatic: bool})),
    blocked: obj({added: num, removed: num}),
    settings: arr(obj({name: str, from: num, to: num})),
  }),
});
const cutOff = obj({ip: str, channel, keys: arr(str), lastSeen: str});

export const SHAPES = {
  check: arr(decision),
  'check --ndjson': decision,
  list: arr(entryRow),
  'list --aggregate': arr(obj({entry: str, scope: str})),
  'list --contains': arr(obj({...entryFields, applies: bool, why: str})),
  blocked: arr(blockedRow),
  'blocked --dismiss': obj({dismissed: arr(obj({ip: str, key: str}))}),
  status: obj({
    store: str,
    api: obj({state, learningSince: strOrNull, lastNewAddressAt: strOrNull, activatesAt: strOrNull, quietDays: or(num, nul), lastEventAt: strOrNull}),
    smtp: obj({state}),
    counts: obj({accountEntries: num, learnedEntries: num, keyEntries: num, expiredEntries: num, keys: num, activeKeys: num, blocked: num, seen: num}),
    latestBlocked: arr(blockedRow),
    settings: obj({learningWindowDays: num, learnPrefixV4: num, learnPrefixV6: num, seenRetentionDays: num}),
  }),
  history: arr(historyRow),
  'keys list': arr(keyRow),
  'keys create': obj({name: str, type: channel, secret: str, hint: str}),
  'keys revoke': keyRow,
  'authorize/deny': obj({
    added: arr(str),
    covered: arr(obj({entry: str, coveredBy: arr(str)})),
    updated: arr(obj({entry: str, label: strOrNull, group: strOrNull, expiresAt: strOrNull})),
    unchanged: arr(str),
    elsewhere: arr(obj({entry: str, group: str})),
    dryRun: bool,
  }),
  revoke: obj({removed: arr(str), dryRun: bool}),
  enable: obj({enabled: arr(str), unchanged: arr(str), dryRun: bool}),
  disable: obj({disabled: arr(str), unchanged: arr(str), dryRun: bool}),
  learn: obj({
    events: num,
    learned: arr(str),
    blocked: arr(obj({ip: str, key: str})),
    unknownKeys: num,
    badLines: num,
    untimed: num,
    refused: num,
    api: obj({state, activatesAt: strOrNull}),
    dryRun: bool,
    format: strOrNull,
  }),
  prune: obj({removed: arr(obj({entry: str, scope: str, expiresAt: str})), keptKeyLists: arr(str), dryRun: bool}),
  activate: obj({channel, state: oneOf('active'), changed: bool, refused: arr(cutOff)}),
  deactivate: obj({channel, state: oneOf('inactive'), changed: bool}),
  sync: obj({
    scope: str,
    added: arr(str),
    removed: arr(str),
    unchanged: arr(str),
    relabeled: arr(obj({entry: str, label: strOrNull, previousLabel: strOrNull})),
    updated: arr(obj({entry: str, group: strOrNull, previousGroup: strOrNull, expiresAt: strOrNull, previousExpiresAt: strOrNull})),
    group: strOrNull,
    elsewhere: arr(obj({entry: str, group: strOrNull})),
    inAccount: arr(str),
    keptLearned: arr(str),
    keptDisabled: arr(str),
    keptExpired: arr(str),
    cutOff: arr(obj({ip: str, key: str, channel, lastSeen: str})),
    applied: bool,
    dryRun: bool,
  }),
  export: arr(exportRow),
  'export --output': obj({file: str, format: str, scope: str, entries: num, aggregated: bool}),
} satisfies Record<string, Schema>;

// ---- the stores -------------------------------------------------------------------------

const ok = (r: RunResult, code = 0): RunResult => {
  expect(r.code, `${r.stdout}\n${r.stderr}`).to.equal(code);
  return r;
};

const day = (n: number) => daysAfter(NOW, n);

/** A store whose lists were filled and emptied again: no entry, no key, a history. */
function emptied(): Workspace {
  const ws = Workspace.create();
  ok(ws.run(['authorize', '192.0.2.1'], {now: NOW}));
  ok(ws.run(['revoke', '192.0.2.1', '--yes'], {now: NOW}));
  return ws;
}

/** One account entry and one key. */
function one(): Workspace {
  const ws = Workspace.create();
  ok(ws.run(['authorize', '192.0.2.0/24'], {now: NOW}));
  ok(ws.run(['keys', 'create', 'billing', '--type', 'api'], {now: NOW}));
  return ws;
}

/** Many of everything: keys of both types with lists (a deny entry in one), labels, groups, expiry, deny, disabled, learned, blocked, rotated and revoked keys. */
function many(): Workspace {
  const ws = Workspace.create();
  ok(ws.run(['keys', 'create', 'billing', '--type', 'api'], {now: NOW}));
  ok(ws.run(['keys', 'create', 'relay', '--type', 'smtp', '--allow', '198.51.100.0/24', '--allow', '2001:db8::25'], {now: NOW}));
  ok(ws.run(['keys', 'create', 'old', '--type', 'api'], {now: NOW}));
  ok(ws.run(['keys', 'rotate', 'billing', '--yes'], {now: NOW}));
  ok(ws.run(['keys', 'revoke', 'old', '--yes'], {now: NOW}));
  ok(ws.run(['authorize', '10.0.0.0/8', '--label', 'corp\tnet'], {now: NOW}));
  ok(ws.run(['authorize', '10.1.0.0/16', '--label', 'covered'], {now: NOW}));
  ok(ws.run(['authorize', '203.0.113.0/24', '--group', 'ci', '--label', 'runners'], {now: NOW}));
  ok(ws.run(['authorize', '198.18.0.0/24', '--expires', '1d'], {now: NOW}));
  ok(ws.run(['authorize', '2001:db8:abcd::/48', '--expires', '90d'], {now: NOW}));
  ok(ws.run(['deny', '10.66.0.0/16', '--label', 'lab'], {now: NOW}));
  ok(ws.run(['deny', '198.51.100.66', '--key', 'relay'], {now: NOW}));
  ok(ws.run(['authorize', '192.0.2.77'], {now: NOW}));
  ok(ws.run(['disable', '192.0.2.77'], {now: NOW}));
  ok(ws.run(['learn', '-'], {now: day(1), input: `billing 100.64.1.9 ${day(1)}\nbilling 100.64.2.9 ${day(1)}\n`}));
  ok(ws.run(['activate', '--api', '--force'], {now: day(2)}));
  ok(ws.run(['learn', '-'], {now: day(3), input: `billing 100.99.0.1 ${day(3)}\nbilling 100.99.0.2 ${day(3)}\nbilling 10.66.0.9 ${day(3)}\n`}));
  return ws;
}

/** A fresh copy of `ws`'s store, for a command that changes it. */
function copyOf(ws: Workspace): Workspace {
  const copy = Workspace.create();
  writeFileSync(copy.store, readFileSync(ws.store));
  return copy;
}

function expectShape(schema: Schema, value: unknown, what: string): void {
  const faults = schema(value, what);
  expect(faults, `${what}:\n${JSON.stringify(value, null, 2).slice(0, 2000)}`).to.deep.equal([]);
}

/** Runs `args` with --json and checks stdout against `schema`; returns the value. */
function shaped(ws: Workspace, args: string[], schema: Schema, options: {code?: number; input?: string; now?: string} = {}): unknown {
  const out = ws.run([...args, '--json'], {now: options.now ?? day(4), input: options.input});
  ok(out, options.code ?? 0);
  const value = out.json();
  expectShape(schema, value, `keyward ${args.join(' ')} --json`);
  return value;
}

// ---- the runs ----------------------------------------------------------------------------

describe('output shapes: the same fields and types whatever the store holds', function () {
  this.timeout(120_000);
  const stores: [string, () => Workspace][] = [
    ['an emptied store', emptied],
    ['a store with one entry and one key', one],
    ['a store with many entries, keys, deny, disabled, grouped, learned and blocked entries', many],
  ];

  for (const [name, make] of stores) {
    describe(name, () => {
      let ws: Workspace;
      let keyed = false;
      before(() => {
        ws = make();
        keyed = ws.storeJson().keys.length > 0;
      });

      it('the reading commands: list (and --aggregate, --contains, --key), blocked, status, history, keys list, export', () => {
        const rows = shaped(ws, ['list'], SHAPES.list) as unknown[];
        shaped(ws, ['list', '--aggregate'], SHAPES['list --aggregate']);
        shaped(ws, ['list', '--aggregate', '--account'], SHAPES['list --aggregate']);
        shaped(ws, ['list', '--contains', '10.66.0.1'], SHAPES['list --contains']);
        shaped(ws, ['list', '--expired'], SHAPES.list);
        if (keyed) shaped(ws, ['list', '--key', ws.storeJson().keys[0].name], SHAPES.list);
        shaped(ws, ['blocked'], SHAPES.blocked);
        shaped(ws, ['status'], SHAPES.status);
        shaped(ws, ['history'], SHAPES.history);
        shaped(ws, ['keys', 'list'], SHAPES['keys list']);
        shaped(ws, ['export'], SHAPES.export);
        shaped(ws, ['export', '--aggregate'], SHAPES.export);
        shaped(ws, ['export', '--output', path.join(ws.dir, 'out.conf'), '--format', 'nginx'], SHAPES['export --output']);
        if (name.startsWith('a store with many')) expect(rows.length).to.be.greaterThan(8);
      });

      it('check: an array for one address, for several and for a stream; one object a line with --ndjson', function () {
        if (!keyed) this.skip();
        const key = ws.storeJson().keys[0].name as string;
        for (const env of [{}, {KEYWARD_NO_FAST_PATH: '1'}]) {
          for (const args of [
            ['check', key, '192.0.2.1'],
            ['check', key, '192.0.2.1', '10.66.0.1'],
          ]) {
            const out = ws.run([...args, '--json'], {now: day(4), env});
            expect(out.code, out.stderr).to.be.oneOf([0, 1]);
            expectShape(SHAPES.check, out.json(), `${JSON.stringify(env)} keyward ${args.join(' ')} --json`);
            expect(out.json<unknown[]>().length).to.equal(args.length - 2);
          }
          for (const input of ['192.0.2.1\n', '192.0.2.1\n10.66.0.1\n']) {
            const out = ws.run(['check', key, '-', '--json'], {now: day(4), env, input});
            expectShape(SHAPES.check, out.json(), `${JSON.stringify(env)} keyward check ${key} - --json`);
            const lines = ws.run(['check', key, '-', '--ndjson'], {now: day(4), env, input});
            for (const line of lines.ndjson()) expectShape(SHAPES['check --ndjson'], line, `keyward check ${key} - --ndjson`);
          }
        }
      });

      it('the changing commands, as dry runs and for real: authorize, deny, revoke, enable, disable, learn, prune, sync', () => {
        shaped(ws, ['authorize', '10.1.2.0/24', '192.0.2.1', '--dry-run'], SHAPES['authorize/deny']);
        shaped(copyOf(ws), ['authorize', '10.1.2.0/24', '203.0.113.0/24', '--group', 'other'], SHAPES['authorize/deny']);
        shaped(copyOf(ws), ['authorize', '10.1.2.0/24'], SHAPES['authorize/deny']);
        shaped(copyOf(ws), ['deny', '10.66.1.0/24', '--dry-run'], SHAPES['authorize/deny']);
        const listed = (ws.storeJson().account as {entry: string}[]).map((r) => r.entry);
        if (listed.length > 0) {
          shaped(ws, ['revoke', listed[0], '--dry-run'], SHAPES.revoke);
          shaped(copyOf(ws), ['revoke', listed[0], '--yes'], SHAPES.revoke);
          shaped(copyOf(ws), ['disable', listed[0]], SHAPES.disable);
          shaped(copyOf(ws), ['enable', listed[0]], SHAPES.enable);
        }
        shaped(copyOf(ws), ['learn', '-', '--dry-run'], SHAPES.learn, {input: ''});
        shaped(copyOf(ws), ['learn', '-'], SHAPES.learn, {input: `billing 192.0.2.99 ${day(4)}\nnobody 192.0.2.1 ${day(4)}\nnot a line\n`});
        shaped(ws, ['prune', '--dry-run'], SHAPES.prune);
        shaped(copyOf(ws), ['prune'], SHAPES.prune);
        const file = ws.file('sync.txt', '10.0.0.0/8 # corp\n192.0.2.0/24\n');
        shaped(ws, ['sync', file, '--dry-run'], SHAPES.sync, {code: 1});
        shaped(copyOf(ws), ['sync', file, '--yes'], SHAPES.sync);
        shaped(copyOf(ws), ['sync', file, '--group', 'ci', '--yes'], SHAPES.sync);
      });

      it('activate, deactivate, blocked --dismiss, keys create, rotate and revoke', () => {
        shaped(copyOf(ws), ['activate', '--smtp', '--force'], SHAPES.activate);
        shaped(copyOf(ws), ['activate', '--api', '--force'], SHAPES.activate);
        shaped(copyOf(ws), ['deactivate', '--api', '--yes'], SHAPES.deactivate);
        shaped(copyOf(ws), ['deactivate', '--smtp', '--yes'], SHAPES.deactivate);
        if ((ws.storeJson().blocked ?? []).length > 0) shaped(copyOf(ws), ['blocked', '--dismiss', '100.99.0.0/16'], SHAPES['blocked --dismiss']);
        const copy = copyOf(ws);
        shaped(copy, ['keys', 'create', 'fresh', '--type', 'smtp'], SHAPES['keys create']);
        shaped(copy, ['keys', 'rotate', 'fresh', '--yes'], SHAPES['keys create']);
        shaped(copy, ['keys', 'revoke', 'fresh', '--yes'], SHAPES['keys revoke']);
      });
    });
  }

  it('the checker itself finds a missing field, an extra field, a wrong type and an object for an array', () => {
    const good = {entry: '10.0.0.0/8', scope: 'account', source: 'manual', label: null, addedAt: NOW, expiresAt: null, group: null, effect: 'allow', enabled: true};
    expect(SHAPES.list([good], 'x')).to.deep.equal([]);
    const missing: Record<string, unknown> = {...good};
    delete missing.group;
    expect(SHAPES.list([missing], 'x')).to.deep.equal(['x[0].group is missing']);
    expect(SHAPES.list([{...good, extra: 1}], 'x')).to.deep.equal(['x[0].extra is not in the contract']);
    expect(SHAPES.list([{...good, enabled: 'yes'}], 'x')).to.have.length(1);
    expect(SHAPES.check({key: 'k', ip: '192.0.2.1', decision: 'allow', reason: 'authorized', matched: []}, 'x')).to.have.length(1);
  });
});
