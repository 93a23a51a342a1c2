/**
 * Differential test against an implementation keyward shares nothing with:
 * Python's `ipaddress` module. Random entries and probes (IPv4, IPv6 in many
 * text styles, 4-in-6) go to one python3 process; keyward's core (imported
 * directly) must agree on which texts are valid, their canonical form,
 * membership and aggregation (`ipaddress.collapse_addresses`).
 *
 * Python accepts a few forms the spec refuses (zone indexes, prefixes with a
 * leading zero, netmask and hostmask prefixes): those must be refused by
 * keyward, and nothing else may differ. The spec's 4-in-6 rule (a mapped
 * address is its IPv4 address) is applied on the Python side explicitly.
 *
 * Skipped, saying so, when python3 is not installed. Cases: 4000 texts, 400
 * membership lists and 400 aggregations by default; 25 times as many with
 * KEYWARD_LONG_TESTS=1. KEYWARD_TEST_SEED repeats a run.
 */
import {spawnSync} from 'node:child_process';

import {expect} from 'chai';
import fc from 'fast-check';

import {scanDecisionAddress, Address} from '../../src/core/address.js';
import {aggregate} from '../../src/core/aggregate.js';
import {InputError} from '../../src/core/errors.js';
import {Prefix} from '../../src/core/prefix.js';
import {parseEntry} from '../../src/core/entry-parse.js';
import {PrefixIndex} from '../../src/core/prefix-index.js';
import {runSeed, scale} from './helpers.js';

/** The reference: Python's ipaddress, with the spec's unmapping rule written out. */
const REFERENCE = String.raw`
import ipaddress, json, sys

def unmap_net(n):
    # SPEC: IPv4-mapped IPv6 ranges (::ffff:a.b.c.d/96 and longer) are the IPv4 ranges they are.
    if n.version == 6 and n.prefixlen >= 96 and n.network_address.ipv4_mapped is not None:
        return ipaddress.IPv4Network((n.network_address.ipv4_mapped, n.prefixlen - 96))
    return n

def unmap_addr(a):
    if a.version == 6 and a.ipv4_mapped is not None:
        return a.ipv4_mapped
    return a

def entry_text(n):
    # SPEC: a single address is written without its prefix; IPv6 in RFC 5952 form.
    addr = str(n.network_address) if n.version == 4 else n.network_address.compressed
    return addr if n.prefixlen == n.max_prefixlen else addr + "/" + str(n.prefixlen)

def address_text(a):
    if a.version == 6 and a.ipv4_mapped is not None:
        return "::ffff:" + str(a.ipv4_mapped)
    return str(a) if a.version == 4 else a.compressed

def parse(text):
    out = {}
    try:
        n = ipaddress.ip_network(text, strict=True)
        out["entry"] = entry_text(unmap_net(n))
    except ValueError:
        out["entry"] = None
    try:
        out["normalized"] = entry_text(unmap_net(ipaddress.ip_network(text, strict=False)))
    except ValueError:
        out["normalized"] = None
    try:
        out["address"] = address_text(ipaddress.ip_address(text))
    except ValueError:
        out["address"] = None
    return out

def members(case):
    nets = [unmap_net(ipaddress.ip_network(e, strict=False)) for e in case["entries"]]
    result = []
    for p in case["probes"]:
        a = unmap_addr(ipaddress.ip_address(p))
        result.append(sorted({entry_text(n) for n in nets if n.version == a.version and a in n}))
    return result

def collapse(entries):
    nets = [unmap_net(ipaddress.ip_network(e, strict=False)) for e in entries]
    out = []
    for v in (4, 6):
        out += [entry_text(n) for n in ipaddress.collapse_addresses([n for n in nets if n.version == v])]
    return out

job = json.load(sys.stdin)
json.dump({
    "parse": [parse(t) for t in job["parse"]],
    "members": [members(c) for c in job["members"]],
    "collapse": [collapse(c) for c in job["collapse"]],
}, sys.stdout)
`;

// ---- generators: valid texts in many styles, clustered so that ranges meet and nest ----

const octet = fc.oneof(fc.integer({min: 0, max: 255}), fc.constantFrom(0, 1, 9, 10, 99, 100, 199, 200, 254, 255));
/** IPv4 values in a few small neighbourhoods (so entries overlap), or anywhere. */
const v4Value = fc
  .oneof(fc.tuple(fc.constantFrom(10, 192, 198), fc.constantFrom(0, 1, 168), fc.integer({min: 0, max: 3}), octet), fc.tuple(octet, octet, octet, octet))
  .map(([a, b, c, d]) => ((a << 24) | (b << 16) | (c << 8) | d) >>> 0);

const v4Text = (v: number) => [v >>> 24, (v >>> 16) & 255, (v >>> 8) & 255, v & 255].join('.');

interface V6Style {
  upper: boolean;
  pad: number;
  compress: number;
  tail: boolean;
}

const v6Style: fc.Arbitrary<V6Style> = fc.record({upper: fc.boolean(), pad: fc.nat(255), compress: fc.nat(), tail: fc.boolean()});

/** IPv6 groups near 2001:db8::, near ::ffff:0:0 (4-in-6), or anywhere. */
const v6Groups = fc.oneof(
  fc.tuple(fc.integer({min: 0, max: 3}), fc.integer({min: 0, max: 0xffff})).map(([a, b]) => [0x2001, 0xdb8, 0, 0, 0, 0, a, b]),
  fc.tuple(fc.constantFrom(10, 192), fc.integer({min: 0, max: 3}), octet).map(([a, c, d]) => [0, 0, 0, 0, 0, 0xffff, (a << 8) | 0, (c << 8) | d]),
  fc.array(fc.oneof(fc.constant(0), fc.integer({min: 0, max: 0xffff})), {minLength: 8, maxLength: 8}),
);

function v6Text(groups: number[], style: V6Style): string {
  const hex = groups.map((g, i) => {
    const digits = (style.pad >> i) & 1 ? g.toString(16).padStart(4, '0') : g.toString(16);
    return style.upper ? digits.toUpperCase() : digits;
  });
  const head = style.tail ? 6 : 8;
  const parts = style.tail ? [...hex.slice(0, 6), `${groups[6] >> 8}.${groups[6] & 255}.${groups[7] >> 8}.${groups[7] & 255}`] : hex;
  const runs: Array<[number, number]> = [];
  for (let i = 0; i < head; i++) for (let j = i + 1; j <= head && groups[j - 1] === 0; j++) runs.push([i, j]);
  const pick = style.compress % (runs.length + 1);
  if (pick === runs.length) return parts.join(':');
  const [i, j] = runs[pick];
  return `${parts.slice(0, i).join(':')}::${parts.slice(j).join(':')}`;
}

/** An address text, IPv4 or IPv6 in some style. */
const addressText = fc.oneof({arbitrary: v4Value.map(v4Text), weight: 3}, {arbitrary: fc.tuple(v6Groups, v6Style).map(([g, s]) => v6Text(g, s)), weight: 3});

/** An entry text: an address, or an address with a prefix length (host bits often set). */
const entryText = fc.oneof(
  {arbitrary: addressText, weight: 1},
  {arbitrary: fc.tuple(v4Value, fc.integer({min: 0, max: 32})).map(([v, b]) => `${v4Text(b === 0 ? 0 : ((v >>> (32 - b)) << (32 - b)) >>> 0)}/${b}`), weight: 2},
  {arbitrary: fc.tuple(v4Value, fc.integer({min: 8, max: 32})).map(([v, b]) => `${v4Text(v)}/${b}`), weight: 1},
  {arbitrary: fc.tuple(v6Groups, v6Style, fc.oneof(fc.integer({min: 0, max: 128}), fc.integer({min: 96, max: 128}))).map(([g, s, b]) => `${v6Text(g, s)}/${b}`), weight: 2},
);

/** Forms Python reads and the spec refuses, made from valid texts. */
const ambiguousText = fc.oneof(
  fc
    .tuple(
      fc.tuple(v6Groups, v6Style).map(([g, s]) => v6Text(g, s)),
      fc.constantFrom('%eth0', '%1', '%lo0'),
    )
    .map(([t, z]) => t + z),
  fc.tuple(v4Value, fc.integer({min: 0, max: 9})).map(([v, b]) => `${v4Text(v)}/0${b}`),
  fc.tuple(v4Value, fc.integer({min: 1, max: 32})).map(([v, b]) => `${v4Text(v)}/${v4Text(b === 32 ? 0xffffffff : ~(0xffffffff >>> b) >>> 0)}`),
  fc.tuple(v4Value, fc.integer({min: 0, max: 31})).map(([v, b]) => `${v4Text(v)}/${v4Text(0xffffffff >>> b)}`),
  fc.tuple(v6Groups, v6Style, fc.integer({min: 10, max: 99})).map(([g, s, b]) => `${v6Text(g, s)}/0${b}`),
);

/** Why Python may accept what keyward refuses: the spec's deliberate refusals. */
const SPEC_REFUSALS: Array<[string, RegExp]> = [
  ['zone index', /%/],
  ['prefix length with a leading zero', /\/0\d/],
  ['netmask or hostmask as the prefix', /\/\d+\.\d+\.\d+\.\d+$/],
];

function keyward<T>(parse: () => T): T | null {
  try {
    return parse();
  } catch (error) {
    if (error instanceof InputError) return null;
    throw error;
  }
}

function python(job: unknown): any {
  const run = spawnSync('python3', ['-c', REFERENCE], {input: JSON.stringify(job), encoding: 'utf8', maxBuffer: 1 << 30});
  if (run.status !== 0) throw new Error(`python3 failed: ${run.stderr}`);
  return JSON.parse(run.stdout);
}

const hasPython = spawnSync('python3', ['-c', 'import ipaddress'], {encoding: 'utf8'}).status === 0;

describe("reliability: keyward agrees with Python's ipaddress", function () {
  this.timeout(0);
  const seed = runSeed();
  const counts = {parse: scale(4000, 100_000), members: scale(400, 10_000), collapse: scale(400, 10_000)};

  before(function () {
    if (!hasPython) {
      console.log('    (skipped: python3 with the ipaddress module is not installed, so there is no reference to compare with)');
      this.skip();
    }
    console.log(`    seed ${seed} (KEYWARD_TEST_SEED=${seed} repeats this run)`);
  });

  it(`on parsing, canonical form, host bits and addresses (${counts.parse} texts)`, () => {
    const texts = [
      ...fc.sample(entryText, {seed, numRuns: Math.floor(counts.parse * 0.7)}),
      ...fc.sample(addressText, {seed: seed + 1, numRuns: Math.floor(counts.parse * 0.15)}),
      ...fc.sample(ambiguousText, {seed: seed + 2, numRuns: Math.ceil(counts.parse * 0.15)}),
    ];
    const reference = python({parse: texts, members: [], collapse: []}).parse;
    const failures: string[] = [];
    const refusedBySpec = new Map<string, number>();
    const words = new Uint32Array(4);
    let compared = 0;
    texts.forEach((text, i) => {
      const py = reference[i];
      const entry = keyward(() => parseEntry(text, {force: true})?.toString());
      const normalized = keyward(() => parseEntry(text, {force: true, normalize: true}).toString());
      const address = keyward(() => Address.parse(text).toString());
      const decisionFamily = keyward(() => scanDecisionAddress(text, words));
      const fail = (what: string, ours: unknown, theirs: unknown) =>
        failures.push(`${JSON.stringify(text)}: ${what}: keyward ${JSON.stringify(ours)}, python ${JSON.stringify(theirs)}`);

      const pythonAccepts = py.entry !== null || py.normalized !== null;
      if (normalized === null && pythonAccepts) {
        const why = SPEC_REFUSALS.find(([, pattern]) => pattern.test(text));
        if (why) refusedBySpec.set(why[0], (refusedBySpec.get(why[0]) ?? 0) + 1);
        else fail('refused by keyward only, for no reason the spec gives', null, py.normalized);
        return;
      }
      if (normalized !== null && !pythonAccepts) return fail('accepted by keyward only', normalized, null);
      if (normalized === null) return;
      compared++;
      if (entry !== py.entry) fail('entry (strict: host bits refused)', entry, py.entry);
      if (normalized !== py.normalized) fail('entry with --normalize', normalized, py.normalized);
      if (address !== py.address) fail('address', address, py.address);
      if ((decisionFamily === null) !== (py.address === null)) fail('accepted as a probe', decisionFamily, py.address);
    });
    const ambiguous = Math.ceil(counts.parse * 0.15);
    const refused = [...refusedBySpec.values()].reduce((a, b) => a + b, 0);
    expect(failures.length, failures.slice(0, 20).join('\n')).to.equal(0);
    expect(compared, 'texts both accept and compared').to.be.at.least(counts.parse * 0.8);
    expect(refused, 'every generated ambiguous form was refused').to.be.at.least(ambiguous);
    expect([...refusedBySpec.keys()]).to.have.members(SPEC_REFUSALS.map(([name]) => name));
  });

  it(`on membership: which entries contain each probe, 4-in-6 probes as IPv4 (${counts.members} lists of 1-40 entries, 20 probes each)`, () => {
    const cases = fc.sample(fc.record({entries: fc.array(entryText, {minLength: 1, maxLength: 40}), probes: fc.array(addressText, {minLength: 20, maxLength: 20})}), {
      seed: seed + 3,
      numRuns: counts.members,
    });
    const reference = python({parse: [], members: cases, collapse: []}).members;
    const failures: string[] = [];
    const words = new Uint32Array(4);
    let probes = 0;
    cases.forEach((c, i) => {
      const entries = c.entries.map((e) => parseEntry(e, {normalize: true, force: true}));
      const index = new PrefixIndex(entries);
      c.probes.forEach((probe, k) => {
        probes++;
        const family = scanDecisionAddress(probe, words);
        const ours = [...new Set(index.matches(family, words).map((m) => entries[m].toString()))].sort();
        const byContains = [...new Set(entries.filter((e) => e.contains(Address.parse(probe))).map(String))].sort();
        const theirs = reference[i][k];
        if (JSON.stringify(ours) !== JSON.stringify(theirs))
          failures.push(`${probe} in [${c.entries.join(', ')}]: index ${JSON.stringify(ours)}, python ${JSON.stringify(theirs)}`);
        if (JSON.stringify(byContains) !== JSON.stringify(theirs))
          failures.push(`${probe} in [${c.entries.join(', ')}]: Prefix.contains ${JSON.stringify(byContains)}, python ${JSON.stringify(theirs)}`);
      });
    });
    expect(probes).to.equal(counts.members * 20);
    expect(failures.length, failures.slice(0, 10).join('\n')).to.equal(0);
  });

  it(`on aggregation: the same minimal CIDR list as collapse_addresses (${counts.collapse} lists of 1-60 entries)`, () => {
    const cases = fc.sample(fc.array(entryText, {minLength: 1, maxLength: 60}), {seed: seed + 4, numRuns: counts.collapse});
    const reference = python({parse: [], members: [], collapse: cases}).collapse;
    const failures: string[] = [];
    cases.forEach((c, i) => {
      const ours = aggregate(c.map((e) => parseEntry(e, {normalize: true, force: true}))).map(String);
      if (JSON.stringify(ours) !== JSON.stringify(reference[i])) failures.push(`[${c.join(', ')}]: keyward ${JSON.stringify(ours)}, python ${JSON.stringify(reference[i])}`);
    });
    expect(failures.length, failures.slice(0, 5).join('\n')).to.equal(0);
  });

  it('agrees on the edges: the first and last address of each family, /0 and full-length prefixes', () => {
    const texts = [
      '0.0.0.0',
      '255.255.255.255',
      '0.0.0.0/0',
      '255.255.255.255/32',
      '::',
      '::/0',
      'ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff',
      '::/128',
      '::ffff:0.0.0.0/96',
      '::ffff:255.255.255.255',
      '::1',
      '1::',
      '::ffff:0:0',
      '::fffe:ffff:ffff',
      '::1:0:0:0',
    ];
    const reference = python({parse: texts, members: [], collapse: []}).parse;
    texts.forEach((text, i) => {
      expect(parseEntry(text, {force: true}).toString(), text).to.equal(reference[i].entry);
      expect(Prefix.parse(text).unmap().toString(), text).to.equal(reference[i].entry);
    });
  });
});
