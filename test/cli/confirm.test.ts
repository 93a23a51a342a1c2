/**
 * The base class's plan → confirm → plan again under the lock → apply
 * (src/cli/base.ts planAndApply), driven in-process: the store is changed
 * by "another process" between the first plan and the lock, and a command
 * must not apply a change that needs a confirmation nobody gave.
 */
import {mkdtempSync, readFileSync, rmSync} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {fileURLToPath} from 'node:url';
import {expect} from 'chai';

import {KeywardCommand} from '../../src/cli/base.js';
import Activate from '../../src/commands/activate.js';
import Revoke from '../../src/commands/revoke.js';
import {setBlocking} from '../../src/core/blocking.js';
import {newKeyRecord} from '../../src/core/keys.js';
import {StoreData} from '../../src/core/model.js';
import {updateStore} from '../../src/store/store.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const NOW = new Date('2026-01-10T00:00:00.000Z');

type Reader = (this: KeywardCommand) => Promise<StoreData>;
const prototype = KeywardCommand.prototype as unknown as {readStoreOrEmpty: Reader};

/** Runs `command` with `meanwhile` changing the store right after the command's first read (before its lock). */
async function racing(command: {run(argv: string[], root: string): Promise<unknown>}, argv: string[], meanwhile: () => Promise<void>) {
  const read = prototype.readStoreOrEmpty;
  const stderr = process.stderr.write;
  const stdout = process.stdout.write;
  let said = '';
  prototype.readStoreOrEmpty = async function (this: KeywardCommand) {
    const data = await read.call(this);
    await meanwhile();
    return data;
  };
  // Both streams are kept: what the command says is part of what the test reads.
  process.stderr.write = process.stdout.write = ((chunk: string) => {
    said += chunk;
    return true;
  }) as typeof process.stderr.write;
  const previous = process.exitCode;
  try {
    await command.run(argv, ROOT);
    return {exit: process.exitCode ?? 0, said};
  } finally {
    prototype.readStoreOrEmpty = read;
    process.stderr.write = stderr;
    process.stdout.write = stdout;
    process.exitCode = previous;
  }
}

describe('plan → confirm → plan again under the lock (in-process)', () => {
  let dir: string;
  let store: string;
  const write = (change: (data: StoreData) => void) => updateStore(store, NOW, change, {createFolder: true});

  beforeEach(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'keyward-confirm-'));
    store = path.join(dir, 'store.json');
    process.env.KEYWARD_NOW = NOW.toISOString();
    await write((data) => {
      data.account = ['192.0.2.0/24', '198.51.100.0/24'].map((entry) => ({entry, source: 'manual', label: null, addedAt: NOW.toISOString(), expiresAt: null}));
      setBlocking(data, 'api', 'inactive', NOW);
    });
  });

  afterEach(() => {
    delete process.env.KEYWARD_NOW;
    rmSync(dir, {recursive: true, force: true});
  });

  it('revoke: blocking switched on after the plan asked nothing is refused under the lock (exit 4, nothing removed)', async () => {
    const {exit, said} = await racing(Revoke, ['192.0.2.0/24', '--store', store], () => write((data) => void setBlocking(data, 'api', 'active', NOW)));
    expect(exit, said).to.equal(4);
    expect(said).to.contain('the store changed while the plan was being confirmed');
    expect(JSON.parse(readFileSync(store, 'utf8')).account.map((r: {entry: string}) => r.entry)).to.deep.equal(['192.0.2.0/24', '198.51.100.0/24']);
  });

  it('revoke: a change that asks nothing more goes ahead', async () => {
    const {exit, said} = await racing(Revoke, ['192.0.2.0/24', '--store', store], () =>
      write((data) => void data.account.push({entry: '203.0.113.0/24', source: 'manual', label: null, addedAt: NOW.toISOString(), expiresAt: null})),
    );
    expect(exit, said).to.equal(0);
    expect(JSON.parse(readFileSync(store, 'utf8')).account.map((r: {entry: string}) => r.entry)).to.deep.equal(['198.51.100.0/24', '203.0.113.0/24']);
  });

  it('activate: traffic seen after the plan that blocking would refuse is refused under the lock (exit 4, still off)', async () => {
    const {exit, said} = await racing(Activate, ['--smtp', '--store', store], () =>
      write((data) => {
        data.keys.push(newKeyRecord('relay', 'smtp', 'f'.repeat(40), NOW));
        data.seen.push({ip: '203.0.113.9', channel: 'smtp', keys: ['relay'], firstSeen: NOW.toISOString(), lastSeen: NOW.toISOString(), count: 1});
      }),
    );
    expect(exit, said).to.equal(4);
    expect(said).to.contain('the store changed while the plan was being confirmed');
    expect(JSON.parse(readFileSync(store, 'utf8')).blocking.smtp.state).to.equal('inactive');
  });
});
