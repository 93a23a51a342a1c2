/**
 * Colour: allow green, deny red, warnings yellow, the same in every command;
 * none under NO_COLOR or off a terminal, some under FORCE_COLOR, never in
 * machine output. (Tables: tables.test.ts.)
 */
import {expect} from 'chai';
import {colourWanted} from '../../src/cli/render.js';
import {inProcessShowsAll, NOW, RunResult, Workspace} from './harness.js';

const ESC = '\u001b[';
const GREEN = '\u001b[32m';
const RED = '\u001b[31m';
const YELLOW = '\u001b[33m';

/** Runs `body` with the environment changed, and puts it back. */
function withEnv<T>(env: Record<string, string | undefined>, body: () => T): T {
  const saved = Object.fromEntries(Object.keys(env).map((k) => [k, process.env[k]]));
  for (const [k, v] of Object.entries(env)) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
  try {
    return body();
  } finally {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
}

describe('colour', () => {
  describe('colourWanted', () => {
    const tty = {isTTY: true} as NodeJS.WriteStream;
    const pipe = {isTTY: false} as NodeJS.WriteStream;
    const cases: [Record<string, string | undefined>, NodeJS.WriteStream, boolean][] = [
      [{NO_COLOR: undefined, FORCE_COLOR: undefined, TERM: 'xterm-256color'}, tty, true],
      [{NO_COLOR: undefined, FORCE_COLOR: undefined}, pipe, false],
      [{NO_COLOR: '1', FORCE_COLOR: undefined}, tty, false],
      [{NO_COLOR: '', FORCE_COLOR: undefined, TERM: 'xterm-256color'}, tty, true],
      // A terminal that says it cannot show colour (Emacs's shell), unless colour is forced.
      [{NO_COLOR: undefined, FORCE_COLOR: undefined, TERM: 'dumb'}, tty, false],
      [{NO_COLOR: undefined, FORCE_COLOR: '1', TERM: 'dumb'}, tty, true],
      [{NO_COLOR: undefined, FORCE_COLOR: '1'}, pipe, true],
      [{NO_COLOR: undefined, FORCE_COLOR: ''}, pipe, true],
      [{NO_COLOR: undefined, FORCE_COLOR: '0'}, tty, false],
      [{NO_COLOR: undefined, FORCE_COLOR: 'false'}, tty, false],
      [{NO_COLOR: '1', FORCE_COLOR: '1'}, pipe, false],
    ];
    for (const [env, stream, wanted] of cases) {
      it(`${JSON.stringify(env)} on ${stream.isTTY ? 'a terminal' : 'a pipe'}: ${wanted ? 'colour' : 'none'}`, () => {
        expect(withEnv(env, () => colourWanted(stream))).to.equal(wanted);
      });
    }
  });

  describe('every command', function () {
    this.timeout(240_000);
    /** The state every case starts from: two keys, an office range, a learned network, API blocking on, one blocked address. */
    const setup: string[][] = [
      ['keys', 'create', 'billing', '--type', 'api'],
      ['keys', 'create', 'relay', '--type', 'smtp', '--allow', '198.51.100.0/24'],
      ['authorize', '203.0.113.0/24', '--label', 'office'],
      ['learn', 'events.log'],
      ['activate', '--api', '--force'],
      ['learn', 'refused.log'],
    ];
    /** One use of every command, each on its own copy of that state. */
    const script: string[][] = [
      ['keys', 'create', 'ci', '--type', 'api'],
      ['authorize', '100.64.0.0/10', '--label', 'office'],
      ['learn', 'refused-again.log'],
      ['activate', '--smtp', '--force'],
      ['check', 'billing', '203.0.113.7', '198.18.0.5'],
      ['status'],
      ['list'],
      ['keys', 'list'],
      ['blocked'],
      ['sync', 'allowlist.txt', '--yes'],
      ['export', '--format', 'json'],
      ['history'],
      ['revoke', '203.0.113.0/24', '--yes'],
      ['deny', '198.18.0.0/24', '--label', 'abuse'],
      ['disable', '203.0.113.0/24'],
      ['enable', '203.0.113.0/24'],
      ['deactivate', '--api', '--yes'],
      ['prune'],
      ['keys', 'rotate', 'billing', '--yes'],
      ['keys', 'revoke', 'relay', '--yes'],
      ['check', 'nosuchkey', '192.0.2.1'],
    ];
    type Mode = 'NO_COLOR' | 'FORCE_COLOR' | 'FORCE_COLOR --json';
    const modes: Mode[] = ['NO_COLOR', 'FORCE_COLOR', 'FORCE_COLOR --json'];
    const results = new Map<Mode, RunResult[]>(modes.map((m) => [m, []]));

    before(async () => {
      const base = Workspace.create();
      const files = {
        'events.log': 'billing 192.0.2.10 2026-01-01T00:00:00Z\n',
        'refused.log': 'billing 198.18.0.5\n',
        'refused-again.log': 'billing 198.18.0.6\n',
        'allowlist.txt': '203.0.113.0/24 # office\n198.51.100.0/24\n',
      };
      for (const [name, text] of Object.entries(files)) base.file(name, text);
      for (const args of setup) {
        const r = base.run(args, {now: NOW});
        expect(r.code, `set-up: keyward ${args.join(' ')}\n${r.stderr}`).to.equal(0);
      }
      const store = base.storeBytes()!;
      const jobs = modes.flatMap((mode) => script.map((args, i) => ({mode, args, i})));
      // A few at a time: every run is a process of its own.
      let next = 0;
      const worker = async () => {
        while (next < jobs.length) {
          const {mode, args, i} = jobs[next++];
          const ws = Workspace.create();
          ws.file('store.json', store);
          for (const [name, text] of Object.entries(files)) ws.file(name, text);
          const env = mode === 'NO_COLOR' ? {} : {NO_COLOR: undefined, FORCE_COLOR: '1'};
          const line = mode === 'FORCE_COLOR --json' ? [...args, '--json'] : args;
          // (In-process where a subprocess would show nothing more: see harness.ts.)
          results.get(mode)![i] = inProcessShowsAll(line, {env}) ? ws.run(line, {now: NOW, env}) : await ws.start(line, {now: NOW, env});
        }
      };
      await Promise.all([worker(), worker(), worker(), worker()]);
    });

    const run = (mode: Mode, args: string[]): RunResult => results.get(mode)![script.findIndex((a) => a.join(' ') === args.join(' '))];

    it('covers every command keyward has', async () => {
      const {Config} = await import('@oclif/core');
      const {fileURLToPath} = await import('node:url');
      const config = await Config.load({root: fileURLToPath(new URL('../..', import.meta.url)), devPlugins: false, userPlugins: false});
      const own = config.commands.filter((c) => !c.hidden && c.pluginName === config.name).map((c) => c.id);
      const covered = new Set(script.map((args) => (args[0] === 'keys' ? `keys:${args[1]}` : args[0])));
      // serve runs until a signal; its no-colour check is in serve.test.ts.
      covered.add('serve');
      expect(
        own.filter((id) => !covered.has(id)),
        'commands with no colour case here',
      ).to.deep.equal([]);
    });

    it('ran as expected (exit codes)', () => {
      for (const mode of results.keys()) {
        script.forEach((args, i) => {
          const r = results.get(mode)![i];
          const expected = args[0] === 'check' ? (args[1] === 'billing' ? 1 : 2) : 0;
          expect(r.code, `${mode}: keyward ${args.join(' ')}\n${r.stdout}\n${r.stderr}`).to.equal(expected);
        });
      }
    });

    it('prints no colour code under NO_COLOR, on stdout or stderr', () => {
      script.forEach((args, i) => {
        const r = results.get('NO_COLOR')![i];
        expect(r.stdout + r.stderr, `keyward ${args.join(' ')}`).not.to.contain(ESC);
      });
    });

    it('never colours machine output, even under FORCE_COLOR', () => {
      script.forEach((args, i) => {
        const r = results.get('FORCE_COLOR --json')![i];
        expect(r.stdout, `keyward ${args.join(' ')} --json`).not.to.contain(ESC);
        if (r.stdout.length > 0) expect(() => JSON.parse(r.stdout), `keyward ${args.join(' ')} --json`).not.to.throw();
      });
    });

    it('under FORCE_COLOR: allow green, deny red, warnings yellow, errors red', () => {
      const check = run('FORCE_COLOR', ['check', 'billing', '203.0.113.7', '198.18.0.5']);
      expect(check.stdout).to.contain(`${GREEN}allow`);
      expect(check.stdout).to.contain(`${RED}deny`);
      expect(check.stderr, 'the "denied" warning').to.contain(`${YELLOW}1 of 2 addresses denied`);
      const learn = run('FORCE_COLOR', ['learn', 'refused-again.log']);
      expect(learn.stderr, 'a newly blocked address is a warning').to.contain(`${YELLOW}blocked 198.18.0.6`);
      const status = run('FORCE_COLOR', ['status']);
      expect(status.stdout).to.contain(`${GREEN}`).and.to.contain('active');
      expect(status.stdout, 'latest blocked, refused').to.contain(`${RED}latest blocked`);
      // A table in a pipe is TSV, data for the next program: never coloured (tables.test.ts has the terminal).
      const keys = run('FORCE_COLOR', ['keys', 'list']);
      expect(keys.stdout).to.contain('\tactive\t').and.not.contain(ESC);
      const authorize = run('FORCE_COLOR', ['authorize', '100.64.0.0/10', '--label', 'office']);
      expect(authorize.stdout, 'what is let in is green').to.contain(`${GREEN}  100.64.0.0/10`);
      const revoke = run('FORCE_COLOR', ['revoke', '203.0.113.0/24', '--yes']);
      expect(revoke.stderr, 'revoke while blocking is active warns').to.contain(YELLOW);
      const deny = run('FORCE_COLOR', ['deny', '198.18.0.0/24', '--label', 'abuse']);
      expect(deny.stdout, 'what is refused is red').to.contain(`${RED}  198.18.0.0/24`);
      expect(revoke.stdout, 'what is taken away is red').to.contain(`${RED}  203.0.113.0/24`);
      const error = run('FORCE_COLOR', ['check', 'nosuchkey', '192.0.2.1']);
      expect(error.stderr.startsWith(`${RED}keyward:`), error.stderr).to.equal(true);
    });

    it('has no colour off a terminal when neither variable is set', () => {
      const ws = Workspace.create();
      expect(ws.run(['authorize', '192.0.2.1']).code).to.equal(0);
      const out = ws.run(['check', 'nosuchkey', '192.0.2.1'], {env: {NO_COLOR: undefined}});
      expect(out.code).to.equal(2);
      expect(out.stderr).not.to.contain(ESC);
    });
  });
});
