import {expect} from 'chai';
import fc from 'fast-check';

import {SafetyError, InputError} from '../../src/core/errors.js';
import {aggregateRows, effectiveList, ExportRow} from '../../src/core/effective-list.js';
import {crowdsecDuration, EXPORT_FORMATS, ExportFormat, flattenText, headerLines, renderExport} from '../../src/core/render/index.js';
import {emptyStore, EntryRecord, KeyRecord, StoreData} from '../../src/core/model.js';
import {Prefix} from '../../src/core/prefix.js';

const NOW = new Date('2026-01-01T00:00:00.000Z');
const ADDED = '2025-12-01T00:00:00.000Z';

function record(entry: string, extra: Partial<EntryRecord> = {}): EntryRecord {
  return {entry, source: 'manual', label: null, addedAt: ADDED, expiresAt: null, ...extra};
}

function key(name: string, type: 'api' | 'smtp', allow: EntryRecord[], status: 'active' | 'revoked' = 'active'): KeyRecord {
  return {name, type, hash: '0'.repeat(64), hint: 'a1b2…9f0e', status, createdAt: ADDED, rotatedAt: null, revokedAt: status === 'revoked' ? ADDED : null, allow};
}

/** Labels that try to end a comment or a line and add a directive of their own. */
const HOSTILE = 'evil\r\nallow all; }\u2028# x\u202e';

function fixture(): StoreData {
  const data = emptyStore(NOW);
  data.account.push(
    record('10.0.0.0/8', {label: 'office "HQ", main'}),
    record('192.0.2.1', {source: 'learned'}),
    record('2001:db8::/32', {source: 'import', label: HOSTILE}),
    record('198.51.100.0/24', {expiresAt: '2025-12-31T00:00:00.000Z', label: 'expired'}),
    record('203.0.113.0/24', {expiresAt: '2026-01-02T02:03:04.500Z', label: ' spaced '}),
  );
  return data;
}

function render(format: ExportFormat, rows: ExportRow[], description: string, generatedAt: Date | null = NOW, aggregated = false): string {
  const header = headerLines({format, description, count: rows.length, aggregated, generatedAt, rows});
  return renderExport(rows, {format, header, now: NOW});
}

const HEADER = (format: string) => [
  `# keyward export (${format}): the account list`,
  '# 4 entries; generated 2026-01-01T00:00:00.000Z',
  '# an entry expires at 2026-01-02T02:03:04.500Z: this file does not expire entries, export again before then',
  '# do not edit: change the keyward store and export again',
];

const HAPROXY_NOTE = '# IPv4 ranges are written as IPv4-mapped IPv6 (::ffff:a.b.c.d/96+n): an IPv4 client matches them, a 6to4 client (2002::/16) does not';

const EXPECTED: Record<ExportFormat, string[]> = {
  // `ENTRY # label`: the import line format, so that sync reads labels back.
  plain: ['10.0.0.0/8 # office "HQ", main', '192.0.2.1', '203.0.113.0/24 # spaced', '2001:db8::/32 # evil allow all; } # x'],
  csv: [
    'entry,scope,source,label,addedAt,expiresAt,group',
    '10.0.0.0/8,account,manual,"office ""HQ"", main",2025-12-01T00:00:00.000Z,,',
    '192.0.2.1,account,learned,,2025-12-01T00:00:00.000Z,,',
    '203.0.113.0/24,account,manual,spaced,2025-12-01T00:00:00.000Z,2026-01-02T02:03:04.500Z,',
    '2001:db8::/32,account,import,evil allow all; } # x,2025-12-01T00:00:00.000Z,,',
  ],
  json: JSON.stringify(
    [
      {entry: '10.0.0.0/8', scope: 'account', source: 'manual', label: 'office "HQ", main', addedAt: ADDED, expiresAt: null, group: null, effect: 'allow', enabled: true},
      {entry: '192.0.2.1', scope: 'account', source: 'learned', label: null, addedAt: ADDED, expiresAt: null, group: null, effect: 'allow', enabled: true},
      {
        entry: '203.0.113.0/24',
        scope: 'account',
        source: 'manual',
        label: ' spaced ',
        addedAt: ADDED,
        expiresAt: '2026-01-02T02:03:04.500Z',
        group: null,
        effect: 'allow',
        enabled: true,
      },
      {entry: '2001:db8::/32', scope: 'account', source: 'import', label: HOSTILE, addedAt: ADDED, expiresAt: null, group: null, effect: 'allow', enabled: true},
    ],
    null,
    2,
  )
    // JSON.stringify leaves U+2028 and U+202E raw; export escapes them (the same string to a JSON parser).
    .replace('\u2028', '\\u2028')
    .replace('\u202e', '\\u202e')
    .split('\n'),
  nginx: [
    ...HEADER('nginx'),
    'allow 10.0.0.0/8;  # office "HQ", main',
    'allow 192.0.2.1;',
    'allow 203.0.113.0/24;  # spaced',
    'allow 2001:db8::/32;  # evil allow all; } # x',
    'deny all;',
  ],
  // (IPv4 as IPv4-mapped IPv6: HAProxy matches IPv4 patterns against 6to4 clients too.)
  haproxy: [
    ...HEADER('haproxy'),
    HAPROXY_NOTE,
    '# office "HQ", main',
    '::ffff:10.0.0.0/104',
    '::ffff:192.0.2.1',
    '# spaced',
    '::ffff:203.0.113.0/120',
    '# evil allow all; } # x',
    '2001:db8::/32',
  ],
  nftables: [
    ...HEADER('nftables'),
    'table inet keyward {',
    '\tset keyward_allow_v4 {',
    '\t\ttype ipv4_addr',
    '\t\tflags interval',
    '\t}',
    '\tset keyward_allow_v6 {',
    '\t\ttype ipv6_addr',
    '\t\tflags interval',
    '\t}',
    '}',
    'flush set inet keyward keyward_allow_v4',
    'flush set inet keyward keyward_allow_v6',
    'table inet keyward {',
    '\tset keyward_allow_v4 {',
    '\t\ttype ipv4_addr',
    '\t\tflags interval',
    '\t\telements = {',
    '\t\t\t10.0.0.0/8, # office "HQ", main',
    '\t\t\t192.0.2.1,',
    '\t\t\t203.0.113.0/24, # spaced',
    '\t\t}',
    '\t}',
    '\tset keyward_allow_v6 {',
    '\t\ttype ipv6_addr',
    '\t\tflags interval',
    '\t\telements = {',
    '\t\t\t2001:db8::/32, # evil allow all; } # x',
    '\t\t}',
    '\t}',
    '}',
  ],
  ipset: [
    ...HEADER('ipset'),
    'destroy keyward_allow_v4_tmp -exist',
    'create keyward_allow_v4 hash:net family inet hashsize 1024 maxelem 1048576 -exist',
    'create keyward_allow_v4_tmp hash:net family inet hashsize 1024 maxelem 1048576',
    '# office "HQ", main',
    'add keyward_allow_v4_tmp 10.0.0.0/8 -exist',
    'add keyward_allow_v4_tmp 192.0.2.1 -exist',
    '# spaced',
    'add keyward_allow_v4_tmp 203.0.113.0/24 -exist',
    'swap keyward_allow_v4_tmp keyward_allow_v4',
    'destroy keyward_allow_v4_tmp',
    'destroy keyward_allow_v6_tmp -exist',
    'create keyward_allow_v6 hash:net family inet6 hashsize 1024 maxelem 1048576 -exist',
    'create keyward_allow_v6_tmp hash:net family inet6 hashsize 1024 maxelem 1048576',
    '# evil allow all; } # x',
    'add keyward_allow_v6_tmp 2001:db8::/32 -exist',
    'swap keyward_allow_v6_tmp keyward_allow_v6',
    'destroy keyward_allow_v6_tmp',
  ],
  crowdsec: [
    'value,expiration,comment',
    '10.0.0.0/8,,"office ""HQ"", main"',
    '192.0.2.1,,',
    // 1 day, 2 h, 3 min and 4.5 s from NOW: whole seconds, rounded down, so it never outlives the entry.
    '203.0.113.0/24,1d2h3m4s,spaced',
    '2001:db8::/32,,evil allow all; } # x',
  ],
};

describe('export formats', () => {
  const list = effectiveList(fixture(), undefined, NOW);

  it('exports the live account list, sorted, IPv4 first, expired entries left out, learned ones kept', () => {
    expect(list.scope).to.equal('account');
    expect(list.rows.map((r) => r.prefix.toString())).to.deep.equal(['10.0.0.0/8', '192.0.2.1', '203.0.113.0/24', '2001:db8::/32']);
  });

  for (const format of EXPORT_FORMATS) {
    it(`writes ${format} exactly`, () => {
      expect(render(format, list.rows, list.description).split('\n')).to.deep.equal([...EXPECTED[format], '']);
    });
  }

  it('writes an empty list as a valid file that allows nothing (no timestamp with --no-timestamp)', () => {
    const empty: Record<ExportFormat, string> = {
      plain: '',
      csv: 'entry,scope,source,label,addedAt,expiresAt,group\n',
      json: '[]\n',
      nginx: '# keyward export (nginx): the account list\n# 0 entries\n# do not edit: change the keyward store and export again\ndeny all;\n',
      haproxy: `# keyward export (haproxy): the account list\n# 0 entries\n# do not edit: change the keyward store and export again\n${HAPROXY_NOTE}\n`,
      nftables: [
        '# keyward export (nftables): the account list',
        '# 0 entries',
        '# do not edit: change the keyward store and export again',
        'table inet keyward {',
        '\tset keyward_allow_v4 {',
        '\t\ttype ipv4_addr',
        '\t\tflags interval',
        '\t}',
        '\tset keyward_allow_v6 {',
        '\t\ttype ipv6_addr',
        '\t\tflags interval',
        '\t}',
        '}',
        'flush set inet keyward keyward_allow_v4',
        'flush set inet keyward keyward_allow_v6',
        '',
      ].join('\n'),
      ipset: [
        '# keyward export (ipset): the account list',
        '# 0 entries',
        '# do not edit: change the keyward store and export again',
        'destroy keyward_allow_v4_tmp -exist',
        'create keyward_allow_v4 hash:net family inet hashsize 1024 maxelem 1048576 -exist',
        'create keyward_allow_v4_tmp hash:net family inet hashsize 1024 maxelem 1048576',
        'swap keyward_allow_v4_tmp keyward_allow_v4',
        'destroy keyward_allow_v4_tmp',
        'destroy keyward_allow_v6_tmp -exist',
        'create keyward_allow_v6 hash:net family inet6 hashsize 1024 maxelem 1048576 -exist',
        'create keyward_allow_v6_tmp hash:net family inet6 hashsize 1024 maxelem 1048576',
        'swap keyward_allow_v6_tmp keyward_allow_v6',
        'destroy keyward_allow_v6_tmp',
        '',
      ].join('\n'),
      crowdsec: 'value,expiration,comment\n',
    };
    for (const format of EXPORT_FORMATS) {
      expect(render(format, [], 'the account list', null), format).to.equal(empty[format]);
    }
  });

  it('nftables leaves out entries inside another (interval sets refuse them); ipset writes /0 as two halves', () => {
    const rows: ExportRow[] = ['0.0.0.0/0', '10.0.0.0/8', '10.1.0.0/16', '::/0', '2001:db8::/32'].map((e) => ({
      prefix: Prefix.parse(e),
      scope: 'account',
      source: 'manual',
      label: null,
      addedAt: ADDED,
      expiresAt: null,
      effect: 'allow',
    }));
    const nft = renderExport(rows, {format: 'nftables', header: [], now: NOW, names: {table: 'filter', set: 'api'}});
    expect(nft).to.contain('table inet filter {\n\tset api_v4 {');
    expect(nft).to.contain('flush set inet filter api_v6');
    expect(nft.split('\n').filter((l) => l.startsWith('\t\t\t'))).to.deep.equal(['\t\t\t0.0.0.0/0,', '\t\t\t::/0,']);
    const ipset = renderExport(rows, {format: 'ipset', header: [], now: NOW, names: {table: 'x', set: 'api'}});
    expect(ipset.split('\n').filter((l) => l.startsWith('add '))).to.deep.equal([
      'add api_v4_tmp 0.0.0.0/1 -exist',
      'add api_v4_tmp 128.0.0.0/1 -exist',
      'add api_v4_tmp 10.0.0.0/8 -exist',
      'add api_v4_tmp 10.1.0.0/16 -exist',
      'add api_v6_tmp ::/1 -exist',
      'add api_v6_tmp 8000::/1 -exist',
      'add api_v6_tmp 2001:db8::/32 -exist',
    ]);
  });

  it('no label can add a line or a directive to any format', () => {
    const line: Record<ExportFormat, RegExp> = {
      plain: /^[0-9a-f.:/]+( # .*)?$/,
      csv: /^.*$/,
      json: /^.*$/,
      crowdsec: /^.*$/,
      nginx: /^(# [^\n]*|allow [0-9a-f.:/]+;( {2}# .*)?|deny all;)$/,
      haproxy: /^(# .*|[0-9a-f.:/]+)$/,
      nftables:
        /^(# .*|\t\t\t[0-9a-f.:/]+,( # .*)?|table inet keyward \{|\tset keyward_allow_v[46] \{|\t\ttype ipv[46]_addr|\t\tflags interval|\t\telements = \{|\t*\}|flush set inet keyward keyward_allow_v[46])$/,
      ipset: /^(# .*|(create|add|flush|swap|destroy) [^#]*)$/,
    };
    const label = fc.oneof(fc.string({unit: 'binary'}), fc.constantFrom(HOSTILE, '\n', '\r', '\u0085', '\u2028', '\u2029', '"\n,', ' # \u0000 ;'));
    fc.assert(
      fc.property(fc.array(label, {minLength: 1, maxLength: 4}), (labels) => {
        const rows: ExportRow[] = labels.map((l, i) => ({
          prefix: Prefix.parse(`192.0.2.${i}`),
          scope: 'account',
          source: 'manual',
          label: l,
          addedAt: ADDED,
          expiresAt: null,
          effect: 'allow',
        }));
        for (const format of EXPORT_FORMATS) {
          const text = renderExport(rows, {
            format,
            header: headerLines({format, description: 'the account list', count: rows.length, aggregated: false, generatedAt: NOW, rows}),
            now: NOW,
          });
          const lines = text.split('\n');
          expect(lines.pop(), `${format} ends with a newline`).to.equal('');
          for (const l of lines) expect(l, format).to.match(line[format]);
          // No line break but "\n", no control character but the tab, outside JSON's escapes.
          expect(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u2028\u2029]/.test(text), format).to.equal(false);
          if (format === 'csv' || format === 'crowdsec') expect(lines.length, `${format}: one line a row`).to.equal(rows.length + 1);
          if (format === 'json') expect(JSON.parse(text).map((r: {label: string}) => r.label)).to.deep.equal(labels);
        }
      }),
      {numRuns: 300},
    );
  });

  it('makes free text one line: controls, line separators and bidi overrides become one space', () => {
    expect(flattenText('a\r\nb\u2028c\u202ed\u0000\u0000e  f ')).to.equal('a b c d e f');
  });

  it('writes CrowdSec expirations as cscli durations, rounded down to whole seconds', () => {
    expect(crowdsecDuration(86_400_000)).to.equal('1d');
    expect(crowdsecDuration(3_600_000 + 1999)).to.equal('1h1s');
    expect(crowdsecDuration(59_999)).to.equal('59s');
    expect(crowdsecDuration(999)).to.equal('0s');
    expect(crowdsecDuration(30 * 86_400_000 + 61_000)).to.equal('30d1m1s');
  });
});

describe('effective list of a key', () => {
  function store(api: 'learning' | 'active' | 'inactive', smtp: 'active' | 'inactive'): StoreData {
    const data = fixture();
    data.blocking.api.state = api;
    data.blocking.smtp.state = smtp;
    data.keys.push(
      key('billing', 'api', [
        record('10.1.0.0/16', {label: 'billing'}),
        record('2001:db8:1::/48', {expiresAt: '2026-03-01T00:00:00.000Z'}),
        record('198.18.0.0/15', {label: 'not in the account list'}),
        record('192.0.0.0/16', {label: 'wider than an account entry'}),
      ]),
      key('open', 'api', []),
      key('relay', 'smtp', [record('203.0.113.0/25', {label: 'relay'})]),
      key('stale', 'smtp', [record('203.0.113.0/24', {expiresAt: '2025-06-01T00:00:00.000Z'})]),
      key('gone', 'api', [record('10.0.0.0/8')], 'revoked'),
    );
    return data;
  }

  const entries = (data: StoreData, name: string) => effectiveList(data, name, NOW).rows.map((r) => [r.prefix.toString(), r.scope, r.label, r.expiresAt]);

  it('blocking active: the key list intersected with the account list, each piece from the list it comes from, expiring with what covers it', () => {
    const data = store('active', 'active');
    expect(entries(data, 'billing')).to.deep.equal([
      ['10.1.0.0/16', 'billing', 'billing', null],
      // 192.0.0.0/16 holds the account's 192.0.2.1: the intersection is that address, from the account list.
      ['192.0.2.1', 'account', null, null],
      ['2001:db8:1::/48', 'billing', null, '2026-03-01T00:00:00.000Z'],
    ]);
    // The relay's /25 lies in an account /24 that expires first: the piece expires with it.
    expect(entries(data, 'relay')).to.deep.equal([['203.0.113.0/25', 'relay', 'relay', '2026-01-02T02:03:04.500Z']]);
    expect(effectiveList(data, 'billing', NOW).description).to.equal('key billing (api): its own list intersected with the account list (api blocking active)');
  });

  it('blocking active, no list of its own: the account list', () => {
    const list = effectiveList(store('active', 'inactive'), 'open', NOW);
    expect(list.rows.map((r) => r.prefix.toString())).to.deep.equal(['10.0.0.0/8', '192.0.2.1', '203.0.113.0/24', '2001:db8::/32']);
    expect(list.description).to.equal('key open (api): the account list (api blocking active; the key has no list of its own)');
  });

  it("blocking learning or inactive: the key's own list, account list or not", () => {
    for (const state of ['learning', 'inactive'] as const) {
      const data = store(state, 'inactive');
      expect(
        entries(data, 'billing').map((e) => e[0]),
        state,
      ).to.deep.equal(['10.1.0.0/16', '192.0.0.0/16', '198.18.0.0/15', '2001:db8:1::/48']);
      expect(effectiveList(data, 'billing', NOW).description).to.equal(`key billing (api): its own list (api blocking ${state})`);
    }
    expect(entries(store('active', 'inactive'), 'relay')).to.deep.equal([['203.0.113.0/25', 'relay', 'relay', null]]);
  });

  it('a key nothing restricts is refused: an allowlist cannot say "every address"', () => {
    for (const state of ['learning', 'inactive'] as const) {
      expect(() => effectiveList(store(state, 'active'), 'open', NOW), state).to.throw(
        SafetyError,
        `key open (api) is not restricted: it has no list of its own and api blocking is ${state}`,
      );
    }
  });

  it('learning past its window stays learning until an event turns it on: the open key is still refused', () => {
    const data = store('learning', 'inactive');
    data.blocking.api.lastNewAddressAt = '2025-10-01T00:00:00.000Z';
    expect(() => effectiveList(data, 'open', NOW)).to.throw(SafetyError, 'api blocking is learning');
  });

  it('a key whose list has only expired entries allows nothing; a revoked key and an unknown key are refused', () => {
    expect(entries(store('active', 'active'), 'stale')).to.deep.equal([]);
    expect(entries(store('active', 'inactive'), 'stale')).to.deep.equal([]);
    expect(() => effectiveList(store('active', 'active'), 'gone', NOW)).to.throw(InputError, 'key gone (api) is revoked');
    expect(() => effectiveList(store('active', 'active'), 'nosuch', NOW)).to.throw(InputError, 'unknown key');
  });
});

describe('aggregated export', () => {
  it('covers the same addresses in the fewest ranges, each expiring with the first entry inside it', () => {
    const row = (entry: string, expiresAt: string | null = null): ExportRow => ({
      prefix: Prefix.parse(entry),
      scope: 'k',
      source: 'manual',
      label: 'x',
      addedAt: ADDED,
      expiresAt,
      effect: 'allow',
    });
    const rows = [
      row('10.0.0.0/25', '2026-02-01T00:00:00.000Z'),
      row('10.0.0.128/25', '2026-01-15T00:00:00.000Z'),
      row('10.0.1.0/24'),
      row('192.0.2.1'),
      row('2001:db8::/48', '2026-03-01T00:00:00.000Z'),
    ];
    expect(aggregateRows(rows, 'k').map((r) => [r.prefix.toString(), r.scope, r.source, r.label, r.addedAt, r.expiresAt])).to.deep.equal([
      ['10.0.0.0/23', 'k', null, null, null, '2026-01-15T00:00:00.000Z'],
      ['192.0.2.1', 'k', null, null, null, null],
      ['2001:db8::/48', 'k', null, null, null, '2026-03-01T00:00:00.000Z'],
    ]);
  });
});
