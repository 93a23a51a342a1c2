/**
 * Issue 11, input and output that must be trusted: stdin is read only for
 * `-` (a shell loop's input is never swallowed), a new secret is printed
 * before it is committed, secrets are never echoed in any spelling, untrusted
 * text cannot drive the terminal, `check` answers in input order on every
 * path, and an extra argument is the command's own usage error.
 */
import {spawnSync} from 'node:child_process';
import {lstatSync, readFileSync, statSync, symlinkSync, writeFileSync} from 'node:fs';
import path from 'node:path';

import {expect} from 'chai';

import {hintOf} from '../../src/core/secret.js';
import {BIN, environment, NOW, RunResult, Workspace} from './harness.js';

function ok(run: RunResult): RunResult {
  expect(run.code, run.stderr).to.equal(0);
  return run;
}

/** Runs a shell script with $1 = node, $2 = bin/run.js, in the workspace, stdin /dev/null. */
function shell(ws: Workspace, script: string, env: Record<string, string | undefined> = {}) {
  const run = spawnSync('sh', ['-c', script, 'sh', process.execPath, BIN], {
    cwd: ws.dir,
    env: environment(ws.store, {now: NOW, env}),
    stdio: ['ignore', 'pipe', 'pipe'],
    encoding: 'utf8',
    timeout: 60_000,
  });
  return {code: run.status, stdout: run.stdout, stderr: run.stderr};
}

/** Neither stream holds the secret, in any case. */
function expectNoSecret(run: {stdout: string; stderr: string}, secret: string, what: string): void {
  expect(run.stdout.toLowerCase(), `${what}: stdout`).not.to.contain(secret);
  expect(run.stderr.toLowerCase(), `${what}: stderr`).not.to.contain(secret);
}

/** Escape, BEL and OSC: what a hostile label would write to the terminal. */
const HOSTILE = 'evil\u001b[2J\u001b]0;pwn\u0007';

describe('issue 11: input and output you can trust', function () {
  this.timeout(120_000);

  describe('item 6: stdin is read only for -', () => {
    it('item 6: check in a `while read` loop: a blank line is exit 2 and the loop goes on to its last line', () => {
      const ws = Workspace.create();
      ok(ws.run(['keys', 'create', 'bot', '--type', 'api'], {now: NOW}));
      ok(ws.run(['authorize', '10.0.0.0/8'], {now: NOW}));
      ws.file('list.txt', '10.0.0.1\n\n10.0.0.2\n10.0.0.3\n');
      const loop = shell(ws, 'while read ip; do "$1" "$2" check bot $ip; echo "exit $?"; done < list.txt');
      expect(loop.stdout.split('\n').filter((l) => l.length > 0)).to.deep.equal([
        'allow  10.0.0.1  authorized  10.0.0.0/8',
        'exit 0',
        'exit 2',
        'allow  10.0.0.2  authorized  10.0.0.0/8',
        'exit 0',
        'allow  10.0.0.3  authorized  10.0.0.0/8',
        'exit 0',
      ]);
      expect(loop.stderr).to.contain('no address given').and.contain(' - ');
    });

    it('item 6: the oclif path of check does not read stdin without - either', () => {
      const ws = Workspace.create();
      ok(ws.run(['keys', 'create', 'bot', '--type', 'api'], {now: NOW}));
      const slow = ws.run(['check', 'bot', '--json'], {now: NOW, input: '10.0.0.1\n', env: {KEYWARD_NO_FAST_PATH: '1'}});
      expect(slow.code).to.equal(2);
      // Under --json the failure's error object is all of stdout (SPEC "Machine output").
      expect(JSON.parse(slow.stdout)).to.deep.equal({error: {exit: 2, message: 'no address given'}});
      expect(slow.stderr).to.contain('- to read them from stdin');
    });

    it("item 6: authorize with an empty $IP in a loop is exit 2 and authorizes none of the loop's lines", () => {
      const ws = Workspace.create();
      ok(ws.run(['authorize', '192.0.2.200'], {now: NOW}));
      ws.file('ips.txt', '\n198.51.100.1\n198.51.100.2\n');
      const loop = shell(ws, 'while read ip; do "$1" "$2" authorize $IP; echo "exit $?"; done < ips.txt', {IP: ''});
      expect(loop.stdout.split('\n').filter((l) => l.length > 0)).to.deep.equal(['exit 2', 'exit 2', 'exit 2']);
      expect(loop.stderr).to.contain('no entries given').and.contain('- (or --file -) to read them from stdin');
      expect(
        ok(ws.run(['list', '--json'], {now: NOW}))
          .json()
          .map((r: {entry: string}) => r.entry),
      ).to.deep.equal(['192.0.2.200']);
    });

    it('item 6: revoke and learn with piped stdin and no - are exit 2; `--file -` and `-` read it', () => {
      const ws = Workspace.create();
      ok(ws.run(['keys', 'create', 'bot', '--type', 'api'], {now: NOW}));
      ok(ws.run(['authorize', '192.0.2.1', '192.0.2.2'], {now: NOW}));
      const before = ws.storeBytes();
      const revoke = ws.run(['revoke', '--yes'], {now: NOW, input: '192.0.2.1\n'});
      const learn = ws.run(['learn'], {now: NOW, input: `bot 203.0.113.9 ${NOW}\n`});
      for (const [what, run] of [
        ['revoke', revoke],
        ['learn', learn],
      ] as const) {
        expect(run.code, `${what}: ${run.stderr}`).to.equal(2);
        expect(run.stderr, what).to.match(/- .*stdin|stdin.* -/);
      }
      expect(ws.storeBytes(), 'nothing written').to.deep.equal(before);
      expect(ok(ws.run(['authorize', '--file', '-', '--json'], {now: NOW, input: '192.0.2.3\n'})).json().added).to.deep.equal(['192.0.2.3']);
      expect(ok(ws.run(['revoke', '--file', '-', '--yes', '--json'], {now: NOW, input: '192.0.2.3\n'})).json().removed).to.deep.equal(['192.0.2.3']);
      expect(ok(ws.run(['learn', '-', '--json'], {now: NOW, input: `bot 203.0.113.9 ${NOW}\n`})).json().events).to.equal(1);
    });
  });

  describe("item 9: a secret that cannot be printed never becomes the key's", () => {
    it('item 9: keys rotate --yes --json > /dev/full is exit 3, says nothing changed, and the old secret still works', () => {
      const ws = Workspace.create();
      const old = ok(ws.run(['keys', 'create', 'bill', '--type', 'api', '--json'], {now: NOW})).json().secret;
      const before = ws.storeBytes();
      for (const json of ['--json', '']) {
        const full = shell(ws, `"$1" "$2" keys rotate bill --yes ${json} > /dev/full`);
        expect(full.code, full.stderr).to.equal(3);
        expect(full.stderr).to.contain('could not be printed').and.contain('ENOSPC').and.contain('nothing was changed');
        expect(full.stderr).not.to.match(/\n\s+at /);
        expect(full.stderr, 'no "rotated" before a commit that did not happen').not.to.contain('rotated;');
      }
      expect(ws.storeBytes(), 'the store is as it was').to.deep.equal(before);
      expect(ok(ws.run(['check', old, '10.0.0.1'], {now: NOW})).stdout).to.contain('allow');
      // A reader that went away (| true) is the same: EPIPE, exit 3, the old secret kept.
      const closed = shell(ws, '{ "$1" "$2" keys rotate bill --yes --json; echo $? > rc; } | true; exit $(cat rc)');
      expect(closed.code, closed.stderr).to.equal(3);
      expect(closed.stderr).to.contain('EPIPE').and.not.contain('internal error');
      expect(ok(ws.run(['check', old, '10.0.0.1'], {now: NOW})).stdout).to.contain('allow');
    });

    it('item 9: keys create > /dev/full is exit 3 and makes no key', () => {
      const ws = Workspace.create();
      ok(ws.run(['keys', 'create', 'first', '--type', 'api'], {now: NOW}));
      const full = shell(ws, '"$1" "$2" keys create second --type smtp > /dev/full');
      expect(full.code, full.stderr).to.equal(3);
      expect(full.stderr).to.contain('could not be printed').and.contain('key second was not created');
      expect(
        ok(ws.run(['keys', 'list', '--json'], {now: NOW}))
          .json()
          .map((k: {name: string}) => k.name),
      ).to.deep.equal(['first']);
    });

    it('item 9: a secret printed before a commit that fails (a full disk: a tmpfs in a private mount namespace) is said to be NOT in effect, and no key is made (skipped where such a namespace is not permitted)', function () {
      const probe = spawnSync('unshare', ['--mount', 'sh', '-c', 'mount -t tmpfs -o size=64k tmpfs /mnt && umount /mnt'], {encoding: 'utf8'});
      if (probe.status !== 0) {
        console.log(`      (skipped: a private mount namespace with a tmpfs is not permitted here: ${probe.error?.message ?? probe.stderr.trim()})`);
        this.skip();
      }
      const ws = Workspace.create();
      ok(ws.run(['keys', 'create', 'first', '--type', 'api'], {now: NOW}));
      // The store on a tmpfs filled to the last page: the lock (a folder) is taken, the secret printed, the store's write fails.
      const script = `mkdir ram && mount -t tmpfs -o size=64k tmpfs ram && cp "$KEYWARD_STORE" ram/store.json && { dd if=/dev/zero of=ram/filler bs=4k 2>/dev/null; true; } &&
        for json in --json ''; do KEYWARD_STORE=ram/store.json "$1" "$2" keys create second --type smtp $json > "out$json"; echo "$?" >> codes; done;
        cmp -s ram/store.json "$KEYWARD_STORE" && echo same > same; umount ram`;
      const run = spawnSync('unshare', ['--mount', 'sh', '-c', script, 'sh', process.execPath, BIN], {
        cwd: ws.dir,
        env: environment(ws.store, {now: NOW}),
        encoding: 'utf8',
        timeout: 60_000,
      });
      expect(readFileSync(path.join(ws.dir, 'codes'), 'utf8'), run.stderr).to.equal('3\n3\n');
      const printed = [readFileSync(path.join(ws.dir, 'out--json'), 'utf8'), readFileSync(path.join(ws.dir, 'out'), 'utf8')];
      // Under --json: the key's object, then the error's (one line, as every --json error).
      const [created, failed] = printed[0].split(/\n(?=\{"error")/);
      expect(JSON.parse(created).secret, 'the secret was printed (--json)').to.match(/^[0-9a-f]{40}$/);
      expect(JSON.parse(failed).error).to.include({exit: 3}).and.have.property('message').that.contains('the secret printed above is NOT in effect');
      expect(printed[1].trim(), 'the secret was printed').to.match(/^[0-9a-f]{40}$/);
      expect(run.stderr.match(/the secret printed above is NOT in effect/g), run.stderr).to.have.length(2);
      expect(run.stderr)
        .to.contain('ENOSPC')
        .and.not.contain('internal error')
        .and.not.match(/\n\s+at /);
      expect(run.stderr, 'no "created" for a key that was not').not.to.contain('created;');
      expect(readFileSync(path.join(ws.dir, 'same'), 'utf8'), 'the store on the full disk is as it was').to.equal('same\n');
    });
  });

  describe('item 10: secrets are never echoed, in any spelling', () => {
    const ws = Workspace.create();
    let secret = '';
    before(() => {
      secret = ok(ws.run(['keys', 'create', 'bill', '--type', 'api', '--json'], {now: NOW})).json().secret;
    });

    it('item 10: check with the secret padded, with CR, upper case, `Bearer `, a trailing comma or quotes', async () => {
      const spellings = [
        `${secret} `,
        ` ${secret} `,
        `${secret}\r`,
        `${secret}\t`,
        secret.toUpperCase(),
        `Bearer ${secret}`,
        `Basic ${secret}`,
        `${secret},`,
        `"${secret}"`,
        `'${secret.toUpperCase()}'`,
      ];
      const runs = await ws.runAll(
        spellings.map((key) => ['check', key, '192.0.2.1']),
        {now: NOW},
      );
      runs.forEach((run, i) => {
        expectNoSecret(run, secret, JSON.stringify(spellings[i]));
        expect(`${run.stdout}${run.stderr}`, JSON.stringify(spellings[i])).to.satisfy((out: string) => out.includes('allow') || out.includes(hintOf(secret)));
      });
      // Surrounding whitespace and case do not change which key a secret is: it is found, and so is
      // `Bearer SECRET` (an Authorization header pasted whole, as learn and serve read it).
      for (const i of [0, 1, 2, 3, 4, 5]) expect(runs[i].code, JSON.stringify(spellings[i])).to.equal(0);
      for (const i of [6, 7, 8, 9]) expect(runs[i].code, JSON.stringify(spellings[i])).to.equal(2);
    });

    it('item 10: authorize --key, keys rotate and list --key with an upper-case or padded secret', async () => {
      const upper = secret.toUpperCase();
      const runs = await ws.runAll(
        [
          ['authorize', '--key', `Basic ${upper}`, '192.0.2.1', '--dry-run'],
          ['keys', 'rotate', `${upper},`, '--yes'],
          ['keys', 'revoke', `Basic ${secret}`, '--yes'],
          ['list', '--key', `"${upper}"`],
        ],
        {now: NOW},
      );
      for (const run of runs) {
        expect(run.code, run.stderr).to.equal(2);
        expect(run.stderr).to.contain(hintOf(secret));
        expectNoSecret(run, secret, run.stderr);
      }
    });

    it('item 10: learn with an upper-case secret, with and without --strict', async () => {
      const other = 'ab'.repeat(20).toUpperCase();
      const log = `${other} 203.0.113.9 ${NOW}\nBearer ${other.toLowerCase()} 203.0.113.9 ${NOW}\n${other}, 203.0.113.9\n`;
      const runs = await ws.runAll(
        [
          ['learn', '-', '--dry-run'],
          ['learn', '-', '--strict', '--dry-run'],
          ['learn', '-', '--json', '--dry-run'],
        ],
        {now: NOW, input: log},
      );
      for (const run of runs) expectNoSecret(run, other.toLowerCase(), run.stderr);
      expect(runs[1].code).to.equal(2);
      expect(`${runs[0].stderr}${runs[1].stderr}`).to.contain(hintOf(other.toLowerCase()));
    });

    it("item 10: oclif's own usage errors: an unexpected argument, --expect=SECRET, --SECRET, and as a command", async () => {
      const upper = secret.toUpperCase();
      const lines = [
        ['keys', 'rotate', 'bill', secret, '--yes'],
        ['keys', 'rotate', 'bill', '--yes', `--expect=${secret}`],
        ['keys', 'rotate', 'bill', `--${secret}`],
        ['check', 'bill', `--expect=${upper}`, '192.0.2.1'],
        ['check', 'bill', '192.0.2.1', `--${upper}`],
        ['list', secret],
        [upper],
        ['keys', secret],
        [`--${secret}`],
      ];
      const runs = await ws.runAll(lines, {now: NOW});
      runs.forEach((run, i) => {
        expect(run.code, `${lines[i].join(' ')}: ${run.stderr}`).to.equal(2);
        expectNoSecret(run, secret, lines[i].join(' '));
        expect(run.stderr, lines[i].join(' ')).to.contain(hintOf(secret));
      });
      expect(runs[0].stderr).to.contain(`keyward: unexpected argument: ${hintOf(secret)}`);
    });

    it('item 10: a secret split over two arguments, or over two fields of a log line, shows neither half (found by an outside tester)', async () => {
      const [head, tail] = [secret.slice(0, 20), secret.slice(20)];
      const lines = [
        ['authorize', head, tail],
        ['authorize', head, tail, '--json'],
        ['check', 'bill', head, tail],
        ['check', head, tail, '192.0.2.1'],
        ['keys', 'rotate', head, tail, '--yes'],
      ];
      const runs = await ws.runAll(lines, {now: NOW});
      const learned = await ws.runAll([['learn', '-', '--dry-run']], {now: NOW, input: `${head} ${tail}\n`});
      [...runs, ...learned].forEach((run, i) => {
        const what = (lines[i] ?? ['learn']).join(' ');
        expect(run.code, `${what}: ${run.stderr}`).to.equal(2);
        for (const half of [head, tail]) expect(`${run.stdout}${run.stderr}`.toLowerCase(), what).not.to.contain(half);
        expect(`${run.stdout}${run.stderr}`, what).to.contain(hintOf(secret));
      });
    });

    it('item 10: a secret spelled with doubled punctuation (::, ..) is shown by its hint in check --json, authorize, learn and an unknown flag (found by an outside tester)', async () => {
      const ten = secret.match(/.{10}/g)!;
      const colons = `${ten[0]}:${ten[1]}::${ten[2]}:${ten[3]}`;
      const dots = `${ten[0]}.${ten[1]}..${ten[2]}.${ten[3]}`;
      const lines = [
        ['check', colons, '192.0.2.1', '--json'],
        ['authorize', dots],
        ['check', 'bill', '192.0.2.1', `--${ten[0]}::${ten[1]}::${secret.slice(20)}`],
      ];
      const runs = await ws.runAll(lines, {now: NOW});
      const learned = await ws.runAll([['learn', '-', '--dry-run']], {now: NOW, input: `bill ${colons} ${NOW}\n`});
      [...runs, ...learned].forEach((run, i) => {
        const what = (lines[i] ?? ['learn']).join(' ');
        expect(run.code, `${what}: ${run.stderr}`).to.equal(2);
        for (const piece of ten) expect(`${run.stdout}${run.stderr}`.toLowerCase(), what).not.to.contain(piece);
        expect(`${run.stdout}${run.stderr}`, what).to.contain(hintOf(secret));
      });
    });
  });

  describe('item 11: untrusted text cannot drive the terminal', () => {
    it('item 11: list shows a label with escape, OSC and BEL escaped', () => {
      const ws = Workspace.create();
      ok(ws.run(['authorize', '10.0.0.1', '--label', HOSTILE], {now: NOW}));
      const list = ok(ws.run(['list'], {now: NOW}));
      // In a pipe: TSV, so tabs between fields and one row a line, nothing else below space.
      expect(list.stdout).not.to.match(/[\u0000-\u0008\u000b-\u001f\u007f]/);
      expect(list.stdout.split('\n').map((line) => line.split('\t').length)).to.deep.equal([9, 9, 1]);
      expect(list.stdout).to.contain('evil\\u001b[2J\\u001b]0;pwn\\u0007');
      // Machine output keeps the label as it is.
      expect(ok(ws.run(['list', '--json'], {now: NOW})).json()[0].label).to.equal(HOSTILE);
    });

    it("item 11: sync FILE --dry-run shows the file's labels and name escaped", () => {
      const ws = Workspace.create();
      ok(ws.run(['authorize', '10.0.0.1', '--label', 'old'], {now: NOW}));
      const file = ws.file('pr\u001b]0;t\u0007.txt', `10.0.0.1 # ${HOSTILE}\n10.9.0.0/16 # x\u001b[31mred\n`);
      const dry = ws.run(['sync', file, '--dry-run'], {now: NOW});
      expect(dry.code, dry.stderr).to.equal(1);
      expect(`${dry.stdout}${dry.stderr}`).not.to.match(/[\u0000-\u0009\u000b-\u001f\u007f]/);
      expect(dry.stdout).to.contain('x\\u001b[31mred').and.contain('pr\\u001b]0;t\\u0007.txt');
    });

    it('item 11: authorize --file with a hostile file name: the name escaped in messages', () => {
      const ws = Workspace.create();
      const missing = ws.run(['authorize', '--file', '/x/\u001b]0;t\u0007'], {now: NOW});
      expect(missing.code).to.equal(2);
      expect(missing.stderr).not.to.match(/[\u0000-\u0009\u000b-\u001f\u007f]/);
      expect(missing.stderr).to.contain('/x/\\u001b]0;t\\u0007');
      const bad = ws.file('bad\u001b[2J.txt', '10.0.0.1\n10.300.0.0/16\n');
      const refused = ws.run(['authorize', '--file', bad], {now: NOW});
      expect(refused.code).to.equal(2);
      expect(refused.stderr).not.to.match(/[\u0000-\u0009\u000b-\u001f\u007f]/);
      expect(refused.stderr).to.contain('line 2 of').and.contain('bad\\u001b[2J.txt');
    });
  });

  describe('item 13: check answers in input order on every path, duplicates included', () => {
    it('item 13: KEYWARD_NO_FAST_PATH=1 and DEBUG print the same order as the fast path', async () => {
      const ws = Workspace.create();
      ok(ws.run(['keys', 'create', 'k', '--type', 'api'], {now: NOW}));
      const args = ['check', 'k', '192.0.2.1', '203.0.113.5', '192.0.2.1', '203.0.113.5', '203.0.113.5', '--json'];
      const [fast, slow, debug] = await Promise.all([
        ws.start(args, {now: NOW}),
        ws.start(args, {now: NOW, env: {KEYWARD_NO_FAST_PATH: '1'}}),
        ws.start(args, {now: NOW, env: {DEBUG: 'nothing-matches'}}),
      ]);
      const order = ['192.0.2.1', '203.0.113.5', '192.0.2.1', '203.0.113.5', '203.0.113.5'];
      for (const run of [fast, slow, debug]) expect(run.json().map((d: {ip: string}) => d.ip)).to.deep.equal(order);
    });
  });

  describe("item 14: an extra argument is the command's own usage error", () => {
    it('item 14: `list extra` and `keys list extra` say "unexpected argument: extra", exit 2', async () => {
      const ws = Workspace.create();
      ok(ws.run(['authorize', '10.0.0.1'], {now: NOW}));
      const [list, keys] = await ws.runAll(
        [
          ['list', 'extra'],
          ['keys', 'list', 'extra'],
        ],
        {now: NOW},
      );
      for (const run of [list, keys]) {
        expect(run.code, run.stderr).to.equal(2);
        expect(run.stderr).to.contain('keyward: unexpected argument: extra').and.not.contain('is not a keyward command');
        expect(run.stdout).to.equal('');
      }
    });
  });
});

describe('issue 11: what an outside tester found after the first fix', function () {
  this.timeout(120_000);

  function keyed(): {ws: Workspace; secret: string} {
    const ws = Workspace.create();
    const created = ok(ws.run(['keys', 'create', 'k', '--type', 'api'], {now: NOW}));
    return {ws, secret: created.stdout.trim()};
  }

  it('a name holding a secret-shaped run, in any case, is refused: it would be printed and stored', () => {
    const {ws, secret} = keyed();
    for (const name of [secret.toUpperCase(), `k-${secret}`, `${secret.slice(0, 36)}`]) {
      const run = ws.run(['keys', 'create', name, '--type', 'api'], {now: NOW});
      expect(run.code, name).to.equal(2);
      expectNoSecret(run, secret.slice(0, 32), name);
    }
    expect(ws.storeBytes()!.toString('utf8').toLowerCase()).not.to.contain(secret.slice(0, 32));
  });

  it("oclif's help and flag-option errors, address reasons and near-secrets never show a long part of the secret", () => {
    const {ws, secret} = keyed();
    const runs: string[][] = [
      ['help', secret],
      [secret, '--help'],
      ['keys', secret, '--help'],
      ['autocomplete', secret],
      ['check', 'k', `${secret}:443`],
      ['check', 'k', `::ffff:${secret}`],
      ['check', 'k', `fe80::1%${secret}`],
      ['check', secret.slice(1), '192.0.2.1'],
      ['check', secret.slice(0, 35), '192.0.2.1'],
    ];
    for (const args of runs) {
      const run = ws.run(args, {now: NOW});
      expect(run.code, args.join(' ')).to.equal(2);
      // 16 digits is what an excerpt used to quote: no run of them may appear.
      for (const piece of [secret.slice(0, 16), secret.slice(1, 17), secret.slice(24)]) expectNoSecret(run, piece, args.join(' '));
    }
  });

  it('a secret in a label is stored and exported by its hint only', () => {
    const {ws, secret} = keyed();
    ok(ws.run(['authorize', '192.0.2.1', '--label', `token ${secret}`], {now: NOW}));
    const file = ws.file('list.txt', `192.0.2.2 # ${secret.toUpperCase()}\n`);
    ok(ws.run(['authorize', '--file', file], {now: NOW}));
    expect(ws.storeBytes()!.toString('utf8').toLowerCase()).not.to.contain(secret.slice(0, 32));
    for (const format of ['csv', 'json', 'nginx']) expectNoSecret(ok(ws.run(['export', '--format', format], {now: NOW})), secret.slice(0, 32), format);
    expect(
      ok(ws.run(['list', '--json'], {now: NOW}))
        .json<any[]>()
        .map((r) => r.label),
    ).to.deep.equal([`token ${hintOf(secret)}`, hintOf(secret)]);
  });

  it('a secret in a label of a hand-edited store is read as its hint: list, list --json and every export show no more (found by an outside tester)', () => {
    const {ws, secret} = keyed();
    ok(ws.run(['authorize', '192.0.2.1', '--label', 'office'], {now: NOW}));
    writeFileSync(ws.store, ws.storeBytes()!.toString('utf8').replace('"office"', `"token ${secret}"`));
    const runs = [
      ws.run(['list'], {now: NOW}),
      ws.run(['list', '--json'], {now: NOW}),
      ws.run(['list', '--contains', '192.0.2.1', '--json'], {now: NOW}),
      ...['plain', 'csv', 'json', 'nginx', 'haproxy', 'nftables', 'ipset', 'crowdsec'].map((format) => ws.run(['export', '--format', format], {now: NOW})),
    ];
    for (const run of runs) {
      expect(run.code, run.stderr).to.equal(0);
      expectNoSecret(run, secret.slice(0, 32), run.stdout.slice(0, 60));
    }
    expect(runs[1].json<any[]>()[0].label).to.equal(`token ${hintOf(secret)}`);
  });

  it('keys rotate with stdout closed or /dev/null is exit 3 and the old secret keeps working; a broken stderr stops nothing', () => {
    const {ws, secret} = keyed();
    for (const redirect of ['>&-', '> /dev/null']) {
      const run = shell(ws, `"$1" "$2" keys rotate k --yes ${redirect}`);
      expect(run.code, redirect).to.equal(3);
      expect(run.stderr, redirect).to.contain('would be lost');
      expect(ok(ws.run(['check', secret, '192.0.2.1'], {now: NOW})).code, redirect).to.equal(0);
    }
    const rotated = shell(ws, '"$1" "$2" keys rotate k --yes > new.txt 2> /dev/full; echo "exit $?" >&2');
    expect(rotated.stderr).to.contain('exit 0');
    const fresh = readFileSync(path.join(ws.dir, 'new.txt'), 'utf8').trim();
    expect(ok(ws.run(['check', fresh, '192.0.2.1'], {now: NOW})).code, "the new secret is the key's").to.equal(0);
    expect(ws.run(['check', secret, '192.0.2.1'], {now: NOW}).code, 'the old one is dead').to.equal(2);
  });

  it('output that cannot be written is exit 3 with a message, never exit 1 ("denied") and a stack trace, on every path', () => {
    const {ws} = keyed();
    for (const env of [{}, {KEYWARD_NO_FAST_PATH: '1'}]) {
      const run = shell(ws, '"$1" "$2" check k 192.0.2.1 > /dev/full', env);
      expect(run.code, JSON.stringify(env)).to.equal(3);
      expect(run.stderr).to.contain('cannot write the output (ENOSPC)').and.not.contain('    at ');
    }
    const list = shell(ws, '"$1" "$2" list > /dev/full');
    expect(list.code).to.equal(3);
    // Through a link of the workspace's own: were the device replaced, only the link would be.
    symlinkSync('/dev/full', path.join(ws.dir, 'full'));
    ok(ws.run(['authorize', '192.0.2.1'], {now: NOW}));
    const exported = shell(ws, '"$1" "$2" export --output full');
    expect(exported.code, exported.stderr).to.equal(3);
    expect(lstatSync(path.join(ws.dir, 'full')).isSymbolicLink(), 'a device named by --output is written into, never replaced').to.equal(true);
    expect(statSync('/dev/full').isCharacterDevice()).to.equal(true);
  });

  it('a change whose report cannot be written is exit 3 saying the change was committed; a failure or no output on /dev/full keeps its own code', () => {
    const {ws} = keyed();
    // Writers, through the fast path and through oclif: the change is in the store, and the message says so.
    for (const [entry, env] of [
      ['192.0.2.9', {}],
      ['192.0.2.10', {KEYWARD_NO_FAST_PATH: '1'}],
    ] as Array<[string, Record<string, string>]>) {
      const run = shell(ws, `"$1" "$2" authorize ${entry} > /dev/full`, env);
      expect(run.code, run.stderr).to.equal(3);
      expect(run.stderr).to.contain('cannot write the output (ENOSPC)').and.contain('was committed').and.not.contain('    at ');
      expect(ws.storeJson().account.map((e: {entry: string}) => e.entry)).to.include(entry);
    }
    // A reader that fails on /dev/full says nothing of a commit.
    expect(shell(ws, '"$1" "$2" list > /dev/full').stderr).to.contain('cannot write the output').and.not.contain('committed');
    // Failures print nothing on stdout: their own exit code, not 3 (an empty write to /dev/full fails too).
    for (const [script, code] of [
      ['"$1" "$2" nosuchcommand > /dev/full', 2],
      ['"$1" "$2" list --bogus > /dev/full', 2],
      ['"$1" "$2" check k 192.0.2.300 > /dev/full', 2],
      ['KEYWARD_NO_FAST_PATH=1 "$1" "$2" check k 192.0.2.300 > /dev/full', 2],
      ['"$1" "$2" revoke 10.9.9.9 > /dev/full', 2],
      ['"$1" "$2" keys create k --type api > /dev/full', 2],
      ['echo 192.0.2.1 | "$1" "$2" check k - --print denied > /dev/full', 0],
      ['"$1" "$2" activate --smtp --quiet > /dev/full; echo "exit $?" >&2; exit 0', 0],
    ] as Array<[string, number]>) {
      const run = shell(ws, script);
      expect(run.code, `${script}: ${run.stderr}`).to.equal(code);
      expect(run.stderr, script).not.to.contain('cannot write the output');
    }
  });

  it("control characters typed into oclif's own usage errors are escaped", () => {
    const {ws} = keyed();
    for (const args of [
      ['list', HOSTILE],
      ['list', `--${HOSTILE}`],
      ['export', '--format', HOSTILE],
      ['help', HOSTILE],
    ]) {
      const run = ws.run(args, {now: NOW});
      expect(run.code, args.join(' ')).to.equal(2);
      expect(run.stderr, args.join(' ')).not.to.match(/[\u0007\u001b]/);
    }
  });

  it("--notify-command's failure is reported with its stderr escaped", () => {
    const {ws} = keyed();
    ok(ws.run(['authorize', '192.0.2.0/24'], {now: NOW}));
    ok(ws.run(['activate', '--api', '--force'], {now: NOW}));
    const notify = `printf '${HOSTILE.replace(/\u001b/g, '\\033').replace(/\u0007/g, '\\007')}' >&2; exit 1`;
    const learn = ws.run(['learn', '-', '--notify-command', notify], {now: NOW, input: `k 203.0.113.5 ${NOW}\n`});
    expect(learn.code, learn.stderr).to.equal(0);
    expect(learn.stderr)
      .to.contain('exit 1')
      .and.contain('evil')
      .and.not.match(/[\u0007\u001b]/);
  });

  it('a store whose key name holds control characters is refused on load (exit 3), naming the field', () => {
    const {ws} = keyed();
    const store = ws.storeJson();
    store.keys[0].name = HOSTILE;
    writeFileSync(ws.store, JSON.stringify(store));
    const run = ws.run(['keys', 'list'], {now: NOW});
    expect(run.code).to.equal(3);
    expect(run.stderr)
      .to.contain('keys[0].name')
      .and.not.match(/[\u0007\u001b]/);
  });
});

describe('--json with a label holding a C1 control or a bidi override', () => {
  it("writes them escaped (\\uXXXX) in every command's JSON, the value unchanged for a reader, the fast path and oclif's alike", () => {
    const ws = Workspace.create();
    const label = 'ev\u009b2Jil\u202ekey\u0085';
    ok(ws.run(['authorize', '10.0.0.1', '--label', label]));
    ok(ws.run(['keys', 'create', 'billing', '--type', 'api', '--allow', '192.0.2.0/24', '--json']));
    ok(ws.run(['authorize', '192.0.2.0/24', '--key', 'billing', '--label', label]));
    const raw = /[\u0080-\u009f\u202e]/;
    const cases = [
      ['list', '--json'],
      ['list', '--json', '--account'],
      ['list', '--json', '--key', 'billing'],
      ['authorize', '10.0.0.1', '--label', `${label}!`, '--json'],
      ['export', '--format', 'json'],
    ];
    for (const args of cases) {
      const r = ok(ws.run(args));
      expect(r.stdout, args.join(' ')).not.to.match(raw);
      expect(r.stdout, args.join(' ')).to.contain('\\u009b2Jil\\u202ekey\\u0085');
      expect(JSON.stringify(JSON.parse(r.stdout)), `${args.join(' ')}: the value read back`).to.contain(JSON.stringify(label).slice(1, -1));
    }
    // bin/run.js's fast path for a plain `list --json` writes what oclif's command writes.
    expect(ok(ws.run(['list', '--json'])).stdout).to.equal(ok(ws.run(['list', '--json'], {env: {KEYWARD_NO_FAST_PATH: '1'}})).stdout);
  });
});
