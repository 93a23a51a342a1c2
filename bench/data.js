// Deterministic benchmark data: allowlist entries and probe addresses, from a seeded PRNG.
// Usage: node bench/data.js entries N [SEED] | node bench/data.js probes N ENTRIES_FILE [SEED]

import {readFileSync} from 'node:fs';

/** mulberry32: a small seeded PRNG, so every run makes the same data. */
export function prng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const ipv4 = (n) => `${n >>> 24}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
const hex = (n) => n.toString(16);

function ipv6(groups) {
  return groups.map(hex).join(':');
}

/** A random IPv4 network: /8–/32, mostly long prefixes, so that about half the probes fall inside. */
function v4Entry(random) {
  const r = random();
  const bits = r < 0.00003 ? 8 + Math.floor(random() * 4) : r < 0.003 ? 12 + Math.floor(random() * 8) : 20 + Math.floor(random() * 13);
  const value = Math.floor(random() * 2 ** 32);
  const mask = bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
  return {family: 4, bits, value: (value & mask) >>> 0};
}

function v6Entry(random) {
  const bits = 32 + Math.floor(random() * 97);
  const groups = [0x2001, 0x0db8 + Math.floor(random() * 4), ...Array.from({length: 6}, () => Math.floor(random() * 65536))];
  for (let g = 0; g < 8; g++) {
    const keep = Math.max(0, Math.min(16, bits - g * 16));
    groups[g] &= keep === 0 ? 0 : (0xffff << (16 - keep)) & 0xffff;
  }
  return {family: 6, bits, groups};
}

function entryText(e) {
  if (e.family === 4) return e.bits === 32 ? ipv4(e.value) : `${ipv4(e.value)}/${e.bits}`;
  // Canonical enough for the grammar: no compression needed.
  return e.bits === 128 ? ipv6(e.groups) : `${ipv6(e.groups)}/${e.bits}`;
}

/** N entries, ≈80% IPv4 and ≈20% IPv6, with duplicates, nested overlaps and adjacent ranges; `labelled` of them (a fraction) with a `# label`. */
export function makeEntries(n, seed = 1, labelled = 0) {
  const entries = makeBareEntries(n, seed);
  if (labelled === 0) return entries;
  // Its own stream of numbers, so that the entries are the same with or without labels.
  const random = prng(seed + 1000);
  return entries.map((e, i) => (random() < labelled ? `${e} # customer ${i % 997} office` : e));
}

function makeBareEntries(n, seed) {
  const random = prng(seed);
  const out = [];
  while (out.length < n) {
    const r = random();
    if (r < 0.02 && out.length > 0) {
      out.push(out[Math.floor(random() * out.length)]); // duplicate
      continue;
    }
    const e = random() < 0.8 ? v4Entry(random) : v6Entry(random);
    out.push(entryText(e));
    if (r > 0.97 && e.family === 4 && e.bits >= 9) {
      const size = 2 ** (32 - e.bits);
      if (e.value + size < 2 ** 32) out.push(entryText({...e, value: e.value + size})); // adjacent
      if (e.bits < 32) out.push(entryText({...e, bits: e.bits + 1})); // nested
    }
  }
  return out.slice(0, n);
}

/** An address inside an entry's range. */
function inside(text, random) {
  const [addr, bitsText] = text.split('/');
  if (!addr.includes(':')) {
    const bits = bitsText === undefined ? 32 : Number(bitsText);
    const base = addr.split('.').reduce((n, o) => n * 256 + Number(o), 0);
    return ipv4(base + Math.floor(random() * 2 ** (32 - bits)));
  }
  const groups = addr.split(':').map((g) => parseInt(g, 16));
  const bits = bitsText === undefined ? 128 : Number(bitsText);
  for (let g = Math.floor(bits / 16); g < 8; g++) {
    const free = Math.min(16, 128 - Math.max(bits, g * 16));
    groups[g] |= Math.floor(random() * 2 ** free) & (2 ** free - 1);
  }
  return ipv6(groups);
}

/** N probes: about half drawn from inside entries, the rest random (≈80% IPv4). */
export function makeProbes(n, entries, seed = 2) {
  const random = prng(seed);
  const out = new Array(n);
  for (let i = 0; i < n; i++) {
    if (random() < 0.5) out[i] = inside(entries[Math.floor(random() * entries.length)], random);
    else if (random() < 0.8) out[i] = ipv4(Math.floor(random() * 2 ** 32));
    else out[i] = ipv6([0x2001, 0x0db8 + Math.floor(random() * 4), ...Array.from({length: 6}, () => Math.floor(random() * 65536))]);
  }
  return out;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const [what, count, ...rest] = process.argv.slice(2);
  const n = Number(count);
  if (what === 'entries') process.stdout.write(`${makeEntries(n, Number(rest[0] ?? 1)).join('\n')}\n`);
  else if (what === 'probes') {
    const entries = readFileSync(rest[0], 'utf8').split('\n').filter(Boolean);
    process.stdout.write(`${makeProbes(n, entries, Number(rest[1] ?? 2)).join('\n')}\n`);
  } else {
    process.stderr.write('usage: node bench/data.js entries N [SEED] | probes N ENTRIES_FILE [SEED]\n');
    process.exit(2);
  }
}
