/**
 * The secret-echo sweep (issue 11, "must show"): a real key's real secret is
 * fed, in every spelling an operator or a log might give it, to every command
 * and every flag of the built CLI (read from oclif.manifest.json, so a new
 * command or flag is swept without touching this file): as an argument, as a
 * flag's value, as a flag's name, as the command name, in a file line, on
 * stdin and in a learn log line, with and without --json. Neither stdout nor
 * stderr may hold the secret's 40 hex digits, nor 16 of them in a row, in any case. (`keys create`
 * and `keys rotate` print a new secret; never the old one, which is what is
 * looked for.)
 *
 * Each run gets its own copy of the store, so that runs are independent and
 * go side by side in a small pool; the spellings rotate over the positions so
 * that every spelling meets every kind of position while the sweep stays
 * bounded (about half a minute on two cores).
 */
import {copyFileSync, readFileSync} from 'node:fs';
import path from 'node:path';

import {expect} from 'chai';

import {hintOf} from '../../src/core/secret.js';
import {NOW, RunResult, Workspace} from '../cli/harness.js';
import {expectNoStackTrace, pool, ROOT} from './helpers.js';

interface ManifestFlag {
  type: 'option' | 'boolean';
  options?: string[];
}

interface ManifestCommand {
  id: string;
  flags: Record<string, ManifestFlag>;
  args: Record<string, unknown>;
}

function manifest(): ManifestCommand[] {
  const text = readFileSync(path.join(ROOT, 'oclif.manifest.json'), 'utf8');
  return Object.values(JSON.parse(text).commands as Record<string, ManifestCommand>);
}

/** Every spelling of `secret` the issue names. */
function spellings(secret: string): string[] {
  const mixed = [...secret].map((c, i) => (i % 2 === 0 ? c.toUpperCase() : c)).join('');
  return [
    secret,
    secret.toUpperCase(),
    mixed,
    ` ${secret} `,
    `${secret}\r`,
    `\t${secret}`,
    `"${secret}"`,
    `'${secret}'`,
    `${secret},`,
    `Bearer ${secret}`,
    `Bearer ${secret.toUpperCase()}`,
    // Broken in two: a paste wrapped over two lines, a space, a tab, a zero-width joiner.
    `${secret.slice(0, 20)}\n${secret.slice(20)}`,
    `${secret.slice(0, 20)} ${secret.slice(20)}`,
    `${secret.slice(0, 16)}\t${secret.slice(16).toUpperCase()}`,
    `${secret.slice(0, 10)}\u200c${secret.slice(10)}`,
    // Broken by a control or a bidi character (shown escaped in a message: the escape is a break too).
    `${secret.slice(0, 10)}\u001b${secret.slice(10, 20)}\u001b${secret.slice(20)}`,
    `${secret.slice(0, 20)}\u202c${secret.slice(20)}`,
  ];
}

/** Whether `text` holds 16 digits of `secret` in a row, in any case: half of it or more, a part that is a leak. */
function leaks(text: string, secret: string): boolean {
  const lower = text.toLowerCase();
  for (let i = 0; i + 16 <= secret.length; i++) if (lower.includes(secret.slice(i, i + 16))) return true;
  return false;
}

interface Sweep {
  what: string;
  args: string[];
  input?: string;
}

describe('reliability: the secret-echo sweep', function () {
  this.timeout(240_000);

  it('no command, flag or input position ever echoes a real secret, in any spelling, with or without --json', async () => {
    const ws = Workspace.create();
    const secret: string = ws.run(['keys', 'create', 'bill', '--type', 'api', '--json'], {now: NOW}).json().secret;
    expect(secret).to.match(/^[0-9a-f]{40}$/);
    expect(ws.run(['keys', 'create', 'relay', '--type', 'smtp', '--allow', '198.51.100.0/24'], {now: NOW}).code).to.equal(0);
    expect(ws.run(['authorize', '192.0.2.0/24', '--label', 'office'], {now: NOW}).code).to.equal(0);
    const forms = spellings(secret);
    // In a line-based input a secret broken over lines is lines, each read (and reported) alone: the pieces are
    // remembered as the lines come, so that each line's message shows the secret's hint; also wrapped over three lines.
    const wrapped3 = `${secret.slice(0, 13)}\n${secret.slice(13, 26)}\n${secret.slice(26)}`;
    let turn = 0;
    const next = () => forms[turn++ % forms.length];

    const sweeps: Sweep[] = [];
    const commands = manifest();
    expect(commands.map((c) => c.id)).to.include.members(['check', 'authorize', 'learn', 'keys:rotate', 'sync']);
    for (const command of commands) {
      const words = command.id.split(':');
      const hasArgs = Object.keys(command.args).length > 0;
      // As its first argument (a key, an entry, a file, a name) or as an argument it does not take.
      for (let i = 0; i < (hasArgs ? 2 : 1); i++) sweeps.push({what: `${command.id} ARG`, args: [...words, next(), '192.0.2.9']});
      if (command.id === 'check') sweeps.push({what: 'check bill ADDRESS…', args: ['check', 'bill', '192.0.2.9', next()]});
      // As the value of every flag that takes one, and as a flag's name.
      for (const [name, flag] of Object.entries(command.flags)) {
        if (flag.type !== 'option') continue;
        // Alternately `--flag=SECRET` alone and `ARG --flag SECRET`.
        sweeps.push(
          turn % 2 === 0
            ? {what: `${command.id} --${name}=SECRET`, args: [...words, `--${name}=${next()}`]}
            : {what: `${command.id} --${name} SECRET`, args: [...words, ...(hasArgs ? ['bill'] : []), `--${name}`, next()]},
        );
      }
      sweeps.push({what: `${command.id} --SECRET`, args: [...words, `--${turn % 2 === 0 ? secret : secret.toUpperCase()}`, '--yes']});
    }
    // As the command itself, and under a topic.
    for (const form of [secret, secret.toUpperCase()]) sweeps.push({what: 'SECRET as a command', args: [form]}, {what: 'keys SECRET', args: ['keys', form]});
    // In a file line, on stdin and in a learn log line.
    const entryFile = ws.file('entries.txt', `192.0.2.7 # ok\n${secret}\n`);
    const labelFile = ws.file('labelled.txt', `192.0.2.8 # deploy key ${secret.toUpperCase()}\n`);
    const log = ws.file('events.log', forms.map((f) => `${f.trim()} 203.0.113.9 ${NOW}\n`).join('') + `bill ${secret} ${NOW}\n`);
    sweeps.push(
      {what: 'authorize --file (secret line)', args: ['authorize', '--file', entryFile]},
      {what: 'authorize --file (secret label)', args: ['authorize', '--file', labelFile]},
      {what: 'sync FILE --dry-run', args: ['sync', entryFile, '--dry-run']},
      {what: 'sync FILE --dry-run (label)', args: ['sync', labelFile, '--dry-run']},
      {what: 'revoke --file', args: ['revoke', '--file', entryFile, '--yes']},
      {what: 'authorize - (stdin)', args: ['authorize', '-'], input: [...forms, wrapped3].map((f) => `${f}\n`).join('')},
      {what: 'deny - (stdin, wrapped)', args: ['deny', '-'], input: `${wrapped3}\n`},
      {what: 'revoke - (stdin, wrapped)', args: ['revoke', '-', '--yes'], input: `${secret.slice(0, 10)} ${secret.slice(10, 20)}\n${secret.slice(20)}\n`},
      {what: 'check bill - (stdin)', args: ['check', 'bill', '-'], input: `192.0.2.1\n${secret.toUpperCase()}\n`},
      // (check stops at the first bad line: the rest of a wrapped secret is sought in what is read already.)
      {what: 'check bill - (stdin, wrapped)', args: ['check', 'bill', '-'], input: `192.0.2.1\n${secret.slice(0, 20)}\n${secret.slice(20)}\n`},
      {what: 'check bill - (stdin, wrapped in three)', args: ['check', 'bill', '-'], input: `192.0.2.1\n${wrapped3}\n`},
      {what: 'check bill - (stdin, its first half alone)', args: ['check', 'bill', '-'], input: `192.0.2.1\n${secret.slice(0, 20)}\n`},
      {what: 'check SECRET - (stdin)', args: ['check', ` ${secret.toUpperCase()} `, '-'], input: `192.0.2.1\n`},
      {what: 'learn FILE', args: ['learn', log, '--dry-run']},
      {what: 'learn FILE --strict', args: ['learn', log, '--strict', '--dry-run']},
      {what: 'learn - (stdin)', args: ['learn', '-'], input: [...forms, wrapped3].map((f) => `${f} 203.0.113.9 ${NOW}\n`).join('')},
      {what: 'learn - NDJSON', args: ['learn', '-', '--strict'], input: `{"key":"Bearer ${secret.toUpperCase()}","ip":"203.0.113.9","at":"${NOW}"}\n`},
      {what: 'keys rotate bill (new secret on stdout)', args: ['keys', 'rotate', 'bill', '--yes']},
      {what: 'keys create (new secret on stdout)', args: ['keys', 'create', 'fresh', '--type', 'api', '--allow', secret]},
    );
    // serve runs until a signal: an address that is not this machine's makes it stop (exit 2) where it would listen,
    // after reading every flag and the store.
    for (const sweep of sweeps) if (sweep.args[0] === 'serve') sweep.args.push('--listen', '192.0.2.1:9');
    // With and without --json: every other run gets it.
    const runs = sweeps.flatMap((s, i) => (i % 2 === 0 ? [s] : [s, {...s, what: `${s.what} --json`, args: [...s.args, '--json']}]));

    let copies = 0;
    const results = await pool(
      3,
      runs.map((sweep) => async (): Promise<[Sweep, RunResult]> => {
        // Each run its own copy of the store: what one run writes (a label, a rotation) is not the next one's input.
        const store = path.join(ws.dir, `store-${copies++}.json`);
        copyFileSync(ws.store, store);
        const result = await ws.runOrStart(sweep.args, {now: NOW, input: sweep.input, env: {KEYWARD_STORE: store}});
        return [sweep, result];
      }),
    );

    const found: string[] = [];
    for (const [sweep, run] of results) {
      const what = `${sweep.what}: keyward ${JSON.stringify(sweep.args).replaceAll(secret, hintOf(secret))}`;
      expectNoStackTrace(run.stderr.replaceAll(secret, ''), what);
      for (const [stream, text] of [
        ['stdout', run.stdout],
        ['stderr', run.stderr],
      ] as const) {
        if (leaks(text, secret)) found.push(`${what} (exit ${run.code}): ${stream} holds the secret, or 16 of its digits in a row`);
      }
      expect(run.code, `${what}: exit`).to.be.oneOf([0, 1, 2, 3, 4]);
    }
    expect(found, found.join('\n')).to.deep.equal([]);
    expect(results.length).to.be.greaterThan(100);
  });
});

describe('reliability: pieces of a secret in the reasons of a refusal', () => {
  it('no reason quotes 16 digits of a piece: an octet cut from a wrapped or split secret, or an argument of 16 to 31 digits alone (found by an outside tester)', () => {
    const ws = Workspace.create();
    expect(ws.run(['keys', 'create', 'bill', '--type', 'api', '--json'], {now: NOW}).code).to.equal(0);
    // Secret-shaped: whoever pastes it, keyward cannot tell it from a key's.
    const secret = '98765432109876543210abcdef0123456789abcd';
    const runs = [
      ws.run(['authorize', '-', '--json'], {now: NOW, input: `${secret.slice(0, 23)}\n${secret.slice(23)}\n`}),
      ws.run(['authorize', '-'], {now: NOW, input: `${secret.slice(0, 23)}\n${secret.slice(23)}\n`}),
      ws.run(['deny', secret.slice(0, 23), secret.slice(23)], {now: NOW}),
      ws.run(['check', 'bill', '-'], {now: NOW, input: `${secret.slice(0, 23)}\n${secret.slice(23)}\n`}),
      ws.run(['check', 'bill', '192.0.2.1', secret.slice(0, 20)], {now: NOW}),
      ws.run(['check', 'bill', '-', '--json'], {now: NOW, input: `${secret.slice(0, 20)}\n`}),
      // With a quote, a comma or an address around a piece, and pieces in a log's fields (found by an outside tester).
      ws.run(['deny', '-', '--json'], {now: NOW, input: `"${secret.slice(0, 18)}\n${secret.slice(18)}"\n`}),
      ws.run(['authorize', '-'], {now: NOW, input: `"${secret.slice(0, 18)}",\n"${secret.slice(18)}"\n`}),
      ws.run(['deny', `${secret.slice(0, 18)},`, secret.slice(18), '--json'], {now: NOW}),
      ws.run(['authorize', '-'], {now: NOW, input: `1.2.3.4/${secret.slice(0, 18)}\n::${secret.slice(18)}\n`}),
      ws.run(['learn', '-', '--format', 'keyward', '--strict'], {now: NOW, input: `bill 1.2.3.4 ${NOW}\nbill ${secret.slice(0, 20)}\nbill ${secret.slice(20)}\n`}),
    ];
    for (const run of runs) {
      expect(run.code).to.equal(2);
      expect(leaks(run.stdout + run.stderr, secret), run.stdout + run.stderr).to.equal(false);
    }
    // Learning reports its bad lines and its unknown keys and goes on (exit 0).
    for (const input of [`bill 1.2.3.4 ${NOW}\nbill ${secret.slice(0, 20)}\nbill ${secret.slice(20)}\n`, `${secret.slice(0, 20)} 1.2.3.4\n${secret.slice(20)} 1.2.3.4\n`]) {
      const run = ws.run(['learn', '-', '--format', 'keyward', '--dry-run'], {now: NOW, input});
      expect(run.code, run.stderr).to.equal(0);
      expect(leaks(run.stdout + run.stderr, secret), run.stdout + run.stderr).to.equal(false);
    }
  });
});
