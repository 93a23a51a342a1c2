/**
 * Stores keyward cannot use (truncated, binary, wrong shape, newer schema,
 * empty, unreadable) stop every command with exit 3 and a message saying what
 * is wrong and what to do, and are never touched: same bytes, same mode, same
 * modification time, no lock or temporary file left beside them.
 *
 * By default each case runs one command, taken in turn from the list of ten
 * (writers and readers), so that every command meets about three cases;
 * KEYWARD_LONG_TESTS=1 runs every command on every case.
 */
import {chmodSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync} from 'node:fs';
import os from 'node:os';

import {expect} from 'chai';

import {NOW, Workspace} from '../cli/harness.js';
import {expectNoStackTrace, LONG, listing, pool, seeded} from './helpers.js';

/** A valid store as keyward writes it, to break in different ways. */
function validStore(): string {
  const ws = Workspace.create();
  expect(ws.run(['keys', 'create', 'ci', '--type', 'api', '--allow', '192.0.2.0/24'], {now: NOW}).code).to.equal(0);
  expect(ws.run(['authorize', '10.0.0.0/8', '2001:db8::/32'], {now: NOW}).code).to.equal(0);
  expect(ws.run(['learn', '-'], {now: NOW, input: `ci 192.0.2.7 ${NOW}\n`}).code).to.equal(0);
  return ws.storeBytes()!.toString('utf8');
}

const CORRUPT = /is corrupt: it is not valid JSON/;
const EMPTY = /is corrupt: it is empty/;
const SHAPE = /is not a keyward store: /;
const RESTORE = 'restore it from a backup or git, or point --store elsewhere';

interface Case {
  what: string;
  bytes?: Buffer;
  /** Makes the store unusable some other way (a folder in its place, no read permission). */
  make?: (ws: Workspace) => void;
  says: RegExp;
  hint: string;
}

function cases(valid: string): Case[] {
  const random = seeded(20260101);
  const noise = (n: number) => Buffer.from(Array.from({length: n}, () => Math.floor(random() * 256)));
  const doc = JSON.parse(valid);
  const variant = (change: (d: any) => void) => {
    const copy = structuredClone(doc);
    change(copy);
    return Buffer.from(JSON.stringify(copy, null, 2));
  };
  const text = (s: string) => Buffer.from(s, 'utf8');
  return [
    {what: 'truncated after one byte', bytes: text(valid.slice(0, 1)), says: CORRUPT, hint: RESTORE},
    {what: 'truncated in half', bytes: text(valid.slice(0, Math.floor(valid.length / 2))), says: CORRUPT, hint: RESTORE},
    {what: 'truncated before its closing brace', bytes: text(valid.slice(0, valid.lastIndexOf('}'))), says: CORRUPT, hint: RESTORE},
    {what: 'truncated inside a string', bytes: text(valid.slice(0, valid.indexOf('10.0.0.0/8') + 4)), says: CORRUPT, hint: RESTORE},
    {what: 'random binary', bytes: noise(4096), says: CORRUPT, hint: RESTORE},
    {what: "NUL bytes (a file system's unwritten blocks after a crash)", bytes: Buffer.alloc(8192), says: CORRUPT, hint: RESTORE},
    {what: 'gzip data', bytes: Buffer.concat([Buffer.from([0x1f, 0x8b, 0x08, 0x00]), noise(200)]), says: CORRUPT, hint: RESTORE},
    {
      what: 'invalid UTF-8 inside a valid-looking document',
      bytes: Buffer.concat([text(valid.slice(0, 20)), Buffer.from([0xff, 0xfe, 0xc3]), text(valid.slice(20))]),
      says: /is (corrupt|not a keyward store)/,
      hint: RESTORE,
    },
    {what: 'a UTF-8 byte order mark before the JSON', bytes: Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), text(valid)]), says: CORRUPT, hint: RESTORE},
    {what: 'two documents one after the other', bytes: text(valid + valid), says: CORRUPT, hint: RESTORE},
    // V8 quotes the start of a long text it cannot parse ("Lorem ipsu"...): the message names the character alone.
    {
      what: 'prose',
      bytes: text('Lorem ipsum dolor sit amet, consectetur adipiscing elit.\n'.repeat(4)),
      says: /is corrupt: it is not valid JSON \(unexpected character `L`\)$/,
      hint: RESTORE,
    },
    // V8 quotes the text around an error in the middle, cut at both ends ("...":1,"b":tru 7c67ddb90"...): a secret
    // pasted there is cut where no mask can tell it is one; the message names the character alone (found by an outside tester).
    {
      what: 'a secret pasted into the middle of the JSON',
      bytes: text(`{"aaaaaaaaaaaaaaa":1,"b":tru ${'7c67ddb90f310d7a83a8fd59179f14c132bbf28b'}, "c": 3}`),
      says: /is corrupt: it is not valid JSON \(unexpected character ` `\)$/,
      hint: RESTORE,
    },
    {what: 'an empty file', bytes: Buffer.alloc(0), says: EMPTY, hint: RESTORE},
    {what: 'only white space', bytes: text('\n  \t\n'), says: EMPTY, hint: RESTORE},
    {what: 'a JSON list', bytes: text('[]'), says: SHAPE, hint: RESTORE},
    {what: 'a JSON string', bytes: text('"store"'), says: SHAPE, hint: RESTORE},
    {what: 'JSON null', bytes: text('null'), says: SHAPE, hint: RESTORE},
    {what: 'an empty object', bytes: text('{}'), says: SHAPE, hint: RESTORE},
    {what: 'a version and nothing else', bytes: text('{"version": 1}'), says: SHAPE, hint: RESTORE},
    {what: 'the version as a string', bytes: variant((d) => (d.version = '1')), says: SHAPE, hint: RESTORE},
    {what: 'an account list that is an object', bytes: variant((d) => (d.account = {})), says: /account is not a list/, hint: RESTORE},
    {what: 'an entry with a leading zero', bytes: variant((d) => (d.account[0].entry = '10.0.0.01')), says: /account\[0\]\.entry is not a valid entry/, hint: RESTORE},
    {what: 'an entry not in canonical form', bytes: variant((d) => (d.account[1].entry = '2001:DB8::/32')), says: /is not in canonical form/, hint: RESTORE},
    {what: 'a key hash that is not sha256', bytes: variant((d) => (d.keys[0].hash = 'secret')), says: /keys\[0\]\.hash is not a sha256 hash/, hint: RESTORE},
    {what: 'an unknown blocking state', bytes: variant((d) => (d.blocking.api.state = 'maybe')), says: /blocking\.api\.state is not one of/, hint: RESTORE},
    {what: 'a time that is not a time', bytes: variant((d) => (d.account[0].addedAt = 'yesterday')), says: /account\[0\]\.addedAt is not an ISO 8601 time/, hint: RESTORE},
    {what: 'a negative count', bytes: variant((d) => (d.seen[0].count = -1)), says: /seen\[0\]\.count is not a count/, hint: RESTORE},
    {
      what: 'a count past 2^53 (it would be rewritten changed)',
      bytes: variant((d) => (d.seen[0].count = 2 ** 53 + 2)),
      says: /seen\[0\]\.count is not a count/,
      hint: RESTORE,
    },
    {
      what: 'schema version 3',
      bytes: variant((d) => (d.version = 3)),
      says: /has schema version 3, newer than this keyward reads \(2\)/,
      hint: 'upgrade keyward; the file was left as it is',
    },
    {
      what: 'schema version 999 with another shape',
      bytes: text('{"version": 999, "lists": {}}'),
      says: /has schema version 999, newer than this keyward reads/,
      hint: 'upgrade keyward',
    },
    {
      what: 'a folder where the file should be',
      make: (ws) => mkdirSync(ws.store),
      says: /the store .* is not a regular file/,
      hint: 'point --store at a keyward store file',
    },
  ];
}

const commands: Array<{name: string; args: string[]; input?: string}> = [
  {name: 'authorize', args: ['authorize', '198.51.100.1']},
  {name: 'check', args: ['check', 'ci', '10.1.2.3']},
  {name: 'learn', args: ['learn', '-'], input: `ci 203.0.113.5 ${NOW}\n`},
  {name: 'list', args: ['list']},
  {name: 'keys create', args: ['keys', 'create', 'new', '--type', 'smtp']},
  {name: 'status', args: ['status', '--json']},
  {name: 'revoke', args: ['revoke', '--yes', '10.0.0.0/8']},
  {name: 'keys list', args: ['keys', 'list', '--json']},
  {name: 'activate', args: ['activate', '--smtp', '--force']},
  {name: 'authorize --dry-run', args: ['authorize', '--dry-run', '198.51.100.1']},
];

interface Snapshot {
  bytes: Buffer | null;
  mode: number;
  mtimeMs: number;
  files: string[];
}

function snapshot(ws: Workspace): Snapshot {
  const stat = statSync(ws.store);
  return {bytes: stat.isFile() ? readFileSync(ws.store) : null, mode: stat.mode, mtimeMs: stat.mtimeMs, files: listing(ws.dir)};
}

/** Characters that must not reach a terminal raw: C0/C1 controls, bidi and invisible formatting. */
const UNSAFE = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u00ad\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff]/u;

async function expectRefused(ws: Workspace, c: Case, command: (typeof commands)[number], before: Snapshot): Promise<void> {
  const run = await ws.runOrStart(command.args, {now: NOW, input: command.input});
  const where = `${command.name} on ${c.what}`;
  expect(run.code, `${where}: ${run.stderr}`).to.equal(3);
  if (run.stdout !== '') expect(run.json().error, `${where}: under --json, the error object alone`).to.include({exit: 3});
  const [message, hint, ...rest] = run.stderr.split('\n');
  expect(rest, `${where}: three lines, a message, a hint and the exit code's meaning`).to.deep.equal(['  store error (exit 3)', '']);
  expect(UNSAFE.test(run.stderr), `${where}: raw control characters on stderr: ${JSON.stringify(run.stderr)}`).to.equal(false);
  expect(message, where).to.contain(`keyward: `).and.contain(ws.store).and.match(c.says);
  expect(hint, `${where}: the second line says what to do`)
    .to.match(/^ {2}\S/)
    .and.contain(c.hint);
  expectNoStackTrace(run.stderr, where);
  const after = snapshot(ws);
  expect(after.bytes === null ? null : after.bytes.equals(before.bytes!), `${where}: the bytes`).to.equal(before.bytes === null ? null : true);
  expect(after.mode, `${where}: the mode`).to.equal(before.mode);
  expect(after.mtimeMs, `${where}: the modification time`).to.equal(before.mtimeMs);
  expect(after.files, `${where}: no lock or temporary file is left`).to.deep.equal(before.files);
}

describe('reliability: a store keyward cannot use is never touched', function () {
  this.timeout(0);
  const valid = validStore();
  const all = cases(valid);

  it(`refuses ${all.length} kinds of broken store with exit 3, what is wrong and what to do, the file untouched (${LONG ? 'every command on each' : 'the commands in turn, each on about three'})`, async () => {
    let runs = 0;
    await pool(
      Math.max(2, os.cpus().length),
      all.map((c, i) => async () => {
        const ws = Workspace.create();
        if (c.bytes) writeFileSync(ws.store, c.bytes, {mode: 0o600});
        c.make?.(ws);
        const before = snapshot(ws);
        const chosen = LONG ? commands : [commands[i % commands.length]];
        for (const command of chosen) {
          await expectRefused(ws, c, command, before);
          runs++;
        }
      }),
    );
    expect(runs).to.be.at.least(all.length);
  });

  it('refuses a store it has no permission to read (skipped where permissions do not stop this user, e.g. root)', async function () {
    const ws = Workspace.create();
    writeFileSync(ws.store, valid, {mode: 0o600});
    chmodSync(ws.store, 0o000);
    let readable = true;
    try {
      readFileSync(ws.store);
    } catch {
      readable = false;
    }
    if (readable) {
      chmodSync(ws.store, 0o600);
      console.log('      (skipped: this user reads files whatever their mode; "a folder where the file should be" above covers an unreadable store)');
      this.skip();
    }
    try {
      const before = snapshot(ws);
      for (const command of commands.slice(0, 3)) {
        await expectRefused(
          ws,
          {what: 'a store without read permission', says: /cannot read the store .*\(EACCES/, hint: 'check the path and its permissions'},
          command,
          before,
        );
      }
    } finally {
      chmodSync(ws.store, 0o600);
    }
  });

  it('an older schema: version 1 is the oldest read; a version below it is refused untouched', async () => {
    const ws = Workspace.create();
    const old = valid.replace(/"version": \d+/, '"version": 0');
    writeFileSync(ws.store, old);
    const before = snapshot(ws);
    await expectRefused(ws, {what: 'schema version 0', says: /version is 0, expected 1 to 2/, hint: RESTORE}, commands[0], before);
    rmSync(ws.store);
  });
});
