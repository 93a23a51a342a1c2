#!/usr/bin/env node
import {prng} from './data.js';
/**
 * A seeded generator of `keyward learn` input, for measuring learn on large logs.
 *
 *   node bench/gen-events.js N [--seed S] [--start ISO] [--format mixed|text|ndjson] [--key-count K] [--address-count A] > events.log
 *   node bench/gen-events.js --keys [--key-count K]   # the keys, one `NAME TYPE` a line
 *
 * N event lines over 50 keys (key-01 … key-40 API, key-41 … key-50 SMTP; with
 * --key-count K, the first 80% API) and 20,000 addresses (--address-count;
 * 3 in 4 IPv4, 1 in 4 IPv6), with times spread over 60 days
 * from --start (default 2026-01-01T00:00:00Z). Like a real access log the
 * lines are nearly in time order, with a few minutes of jitter, so learn has
 * to sort. Most addresses are in use from the first days (learning finds
 * them); the last 500 appear only after day 45, once learning has switched
 * API blocking on, so a large run also fills the blocked list. Each address
 * belongs mostly to one key; a few are shared. The same N and seed give the
 * same bytes.
 *
 * A full run, from the repository root:
 *
 *   export KEYWARD_STORE=/tmp/keyward-bench/store.json KEYWARD_NOW=2026-03-02T00:00:00Z
 *   node bench/gen-events.js 1000000 > /tmp/keyward-bench/events.log
 *   node bench/gen-events.js --keys | while read -r name type; do
 *     node bin/run.js keys create "$name" --type "$type" > "/tmp/keyward-bench/$name.secret"
 *   done
 *   /usr/bin/time -v node bin/run.js learn /tmp/keyward-bench/events.log
 *
 * Not part of `npm test`.
 */
let KEYS = 50;
let SMTP_FROM = 41;
let ADDRESSES = 20_000;
let LATE = 500;
const DAYS = 60;
const LATE_FROM_DAY = 45;
const DAY_MS = 86_400_000;
const JITTER_MS = 5 * 60_000;

function usage(message) {
  process.stderr.write(
    `gen-events: ${message}\nusage: node bench/gen-events.js N [--seed S] [--start ISO] [--format mixed|text|ndjson]\n       node bench/gen-events.js --keys\n`,
  );
  process.exit(2);
}

function parseArgs(argv) {
  const options = {count: undefined, seed: 1, start: '2026-01-01T00:00:00Z', format: 'mixed', keys: false, keyCount: 50, addressCount: 20_000};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const value = () => {
      if (i + 1 >= argv.length) usage(`${arg} needs a value`);
      return argv[++i];
    };
    if (arg === '--keys') options.keys = true;
    else if (arg === '--seed') options.seed = Number(value());
    else if (arg === '--start') options.start = value();
    else if (arg === '--format') options.format = value();
    else if (arg === '--key-count') options.keyCount = Number(value());
    else if (arg === '--address-count') options.addressCount = Number(value());
    else if (/^\d+$/.test(arg) && options.count === undefined) options.count = Number(arg);
    else usage(`unexpected argument ${JSON.stringify(arg)}`);
  }
  if (!options.keys && options.count === undefined) usage('give the number of events');
  if (!Number.isSafeInteger(options.seed)) usage('--seed must be an integer');
  if (Number.isNaN(Date.parse(options.start))) usage('--start must be an ISO 8601 time');
  if (!['mixed', 'text', 'ndjson'].includes(options.format)) usage('--format is mixed, text or ndjson');
  if (!Number.isSafeInteger(options.keyCount) || options.keyCount < 1 || options.keyCount > 999) usage('--key-count is 1 to 999');
  if (!Number.isSafeInteger(options.addressCount) || options.addressCount < 1000) usage('--address-count is at least 1000');
  return options;
}

/** The seeded PRNG shared by the benchmark's generators. */
const random = prng;

const keyName = (i) => `key-${String(i + 1).padStart(KEYS > 99 ? 3 : 2, '0')}`;
const keyType = (i) => (i + 1 >= SMTP_FROM ? 'smtp' : 'api');

/** 20,000 distinct addresses: IPv4 about ten to a /24, IPv6 about ten to a /64; each with the key that mostly uses it. */
function makeAddresses(rand) {
  const int = (n) => Math.floor(rand() * n);
  const hex = () => int(0x10000).toString(16);
  const seen = new Set();
  const addresses = [];
  let network = '';
  let v6 = false;
  while (addresses.length < ADDRESSES) {
    // A new network every ten addresses or so; 3 in 4 networks IPv4.
    if (addresses.length % 10 === 0) {
      v6 = rand() < 0.25;
      if (v6) network = `2001:db8:${hex()}:${hex()}`;
      else {
        let first;
        do first = 1 + int(223);
        while (first === 10 || first === 127 || first === 100 || first === 169 || first === 172 || first === 192);
        network = `${first}.${int(256)}.${int(256)}`;
      }
    }
    const ip = v6 ? `${network}:${(1 + int(0xffff)).toString(16)}:${hex()}:${hex()}:${hex()}` : `${network}.${1 + int(254)}`;
    if (seen.has(ip)) continue;
    seen.add(ip);
    addresses.push({ip, key: int(KEYS)});
  }
  return addresses;
}

async function main() {
  const options = parseArgs(process.argv.slice(2));
  KEYS = options.keyCount;
  SMTP_FROM = options.keyCount === 50 ? 41 : Math.floor(options.keyCount * 0.8) + 1;
  ADDRESSES = options.addressCount;
  LATE = Math.round(ADDRESSES / 40);
  if (options.keys) {
    for (let i = 0; i < KEYS; i++) process.stdout.write(`${keyName(i)} ${keyType(i)}\n`);
    return;
  }
  const rand = random(options.seed);
  const addresses = makeAddresses(rand);
  const start = Date.parse(options.start);
  const span = DAYS * DAY_MS;
  const early = ADDRESSES - LATE;
  const lateFrom = start + LATE_FROM_DAY * DAY_MS;
  const wide = options.addressCount !== 20_000;

  let buffer = '';
  const flush = () =>
    new Promise((resolve) => {
      const text = buffer;
      buffer = '';
      if (process.stdout.write(text)) resolve();
      else process.stdout.once('drain', resolve);
    });

  for (let n = 0; n < options.count; n++) {
    const at = Math.max(start, Math.min(start + span - 1, start + Math.floor((n / options.count) * span + (rand() - 0.5) * 2 * JITTER_MS)));
    // Heavy use of a few addresses, a long tail of rare ones; after day 45 one event in 50 comes from a late address.
    let index = at >= lateFrom && rand() < 0.02 ? early + Math.floor(rand() * LATE) : Math.floor(early * rand() ** 3);
    // A wide log (--address-count) visits its early addresses in turn every fifth event, so that nearly all of them are seen.
    if (wide && n % 5 === 0) index = (n / 5) % early;
    const address = addresses[index];
    const key = keyName(rand() < 0.9 ? address.key : Math.floor(rand() * KEYS));
    const time = new Date(at).toISOString();
    const ndjson = options.format === 'ndjson' || (options.format === 'mixed' && rand() < 0.05);
    buffer += ndjson ? `{"key":"${key}","ip":"${address.ip}","at":"${time}"}\n` : `${key} ${address.ip} ${time}\n`;
    if (buffer.length >= 1 << 16) await flush();
  }
  await flush();
}

process.stdout.on('error', (error) => {
  // A closed pipe (`| head`) ends the run quietly.
  if (error.code === 'EPIPE') process.exit(0);
  throw error;
});

await main();
