/**
 * The oclif plugins keyward ships: "did you mean" for a mistyped command
 * (never a question without a terminal: a suggestion on stderr and exit 2 at
 * once) and shell completion.
 */
import {spawn, spawnSync} from 'node:child_process';
import {existsSync, readFileSync} from 'node:fs';
import path from 'node:path';
import {fileURLToPath} from 'node:url';
import {expect} from 'chai';
import {suggest} from '../../src/hooks/command-not-found.js';
import {Workspace} from './harness.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const BIN = path.join(ROOT, 'bin', 'run.js');

describe('mistyped commands', () => {
  const ws = Workspace.create();

  it('are matched to the command meant: by prefix, else by a few edits, word for word', () => {
    const ids = ['activate', 'authorize', 'blocked', 'check', 'keys:create', 'keys:list', 'learn', 'list', 'status'];
    const isTopic = (word: string) => word === 'keys';
    const cases: [string, string, string | null][] = [
      ['chek:billing:2001:db8::1', 'chek', 'check'],
      ['keys:creat:ci', 'keys:creat', 'keys:create'],
      ['stauts', 'stauts', 'status'],
      ['lst', 'lst', 'list'],
      ['auth', 'auth', 'authorize'],
      ['act', 'act', 'activate'],
      ['xyzzy:a:b', 'xyzzy', null],
      ['keys:zzzz:x', 'keys:zzzz', null],
      ['a', 'a', null],
    ];
    for (const [id, typed, meant] of cases) expect(suggest(id, ids, isTopic), id).to.deep.equal({typed, meant});
  });

  it('suggest the closest command on stderr and exit 2 by themselves when stdin is not a terminal', async () => {
    // stdin a pipe that stays open: a question would wait on it for ever.
    const child = spawn(process.execPath, [BIN, 'chek', 'billing', '192.0.2.1'], {
      env: {...process.env, NODE_OPTIONS: '', NO_COLOR: '1', KEYWARD_STORE: ws.store},
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (t: string) => (stdout += t));
    child.stderr.setEncoding('utf8').on('data', (t: string) => (stderr += t));
    const code = await new Promise<number | null>((resolve, reject) => {
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(new Error(`still running after 45 s with stdin open: it waits for input\n${stdout}\n${stderr}`));
      }, 45_000);
      child.on('close', (c) => {
        clearTimeout(timer);
        resolve(c);
      });
    });
    child.stdin.end();
    expect(code, stderr).to.equal(2);
    expect(stdout).to.equal('');
    expect(stderr).to.contain('chek is not a keyward command. Did you mean check?');
    expect(stderr).to.contain('keyward check --help');
    expect(stderr, 'no question').not.to.match(/\(Y\/n\)/);
    expect(stderr, 'the arguments are not repeated').not.to.contain('192.0.2.1');
  });

  it('behave the same with a pipe on stdin, and under a topic', async () => {
    const [piped, topic, far] = await ws.runAll([['stauts'], ['keys', 'creat', 'ci'], ['frobnicate']], {input: 'y\n'});
    expect(piped.code, piped.stderr).to.equal(2);
    expect(piped.stderr).to.contain('Did you mean status?');
    expect(piped.stdout, 'the piped "y" did not run status').to.equal('');
    expect(topic.code, topic.stderr).to.equal(2);
    expect(topic.stderr).to.contain('keys creat is not a keyward command. Did you mean keys create?');
    expect(far.code, far.stderr).to.equal(2);
    expect(far.stderr).to.contain('frobnicate is not a keyward command.');
    expect(far.stderr, 'nothing close: no guess').not.to.contain('Did you mean');
    expect(far.stderr).to.contain('see `keyward --help`');
  });

  it('take `help [COMMAND]` as --help, which every command has', async () => {
    const [all, one] = await ws.runAll([['help'], ['help', 'keys', 'create']]);
    expect(all.code, all.stderr).to.equal(0);
    expect(all.stdout)
      .to.match(/^COMMANDS$/m)
      .and.to.contain('authorize');
    expect(one.code, one.stderr).to.equal(0);
    expect(one.stdout).to.contain('$ keyward keys create NAME');
  });

  it('never echo a secret or a control sequence typed where the command goes', () => {
    const secret = 'ab'.repeat(20);
    const out = ws.run([secret, '192.0.2.1']);
    expect(out.code).to.equal(2);
    expect(out.stderr).not.to.contain(secret);
    expect(out.stderr).to.contain('abab…abab');
    const escape = ws.run(['\u001b[2Jx']);
    expect(escape.code).to.equal(2);
    expect(escape.stderr).not.to.contain('\u001b');
    expect(escape.stderr).to.contain('\\u001b[2Jx');
  });

  describe('on a terminal (through script(1))', function () {
    const hasScript = spawnSync('script', ['--version'], {encoding: 'utf8'}).status === 0;

    /** Runs keyward on a pseudo-terminal and answers the question with `answer`. */
    function onTerminal(args: string, answer: string): Promise<{code: number | null; output: string}> {
      const env: NodeJS.ProcessEnv = {...process.env, NO_COLOR: '1', KEYWARD_STORE: ws.store};
      delete env.NODE_OPTIONS;
      delete env.FORCE_COLOR;
      return new Promise((resolve, reject) => {
        const child = spawn('script', ['-qec', `${JSON.stringify(process.execPath)} ${JSON.stringify(BIN)} ${args}`, '/dev/null'], {env, stdio: 'pipe'});
        let output = '';
        let answered = false;
        const timer = setTimeout(() => {
          child.kill('SIGKILL');
          reject(new Error(`no end within 30 s:\n${output}`));
        }, 30_000);
        child.stdout.setEncoding('utf8').on('data', (text: string) => {
          output += text;
          if (!answered && output.includes('Did you mean')) {
            answered = true;
            child.stdin.write(answer);
          }
        });
        child.on('close', (code) => {
          clearTimeout(timer);
          resolve({code, output});
        });
      });
    }

    before(function () {
      if (!hasScript) {
        console.log('      (skipped: script(1) from util-linux is not installed)');
        this.skip();
      }
    });

    it('ask "Did you mean …?" and run the suggestion when the answer is yes', async () => {
      // v2: status reads an existing store (a missing one is exit 3).
      expect(ws.run(['authorize', '192.0.2.1']).code).to.equal(0);
      const yes = await onTerminal('stauts', 'y\r');
      expect(yes.output).to.contain('Did you mean status?');
      expect(yes.output, 'status ran').to.match(/smtp\s+inactive/);
      expect(yes.code).to.equal(0);
    });

    it('exit 2 when the answer is no', async () => {
      const no = await onTerminal('stauts', 'n\r');
      expect(no.output).to.contain('Did you mean status?');
      expect(no.output).not.to.match(/smtp\s+inactive/);
      expect(no.code).to.equal(2);
    });
  });
});

describe('shell completion', () => {
  const ws = Workspace.create();
  const cache = path.join(ws.dir, 'cache');

  it('autocomplete explains itself and prints a bash set-up line', async () => {
    const [help, script] = await ws.runAll(
      [
        ['autocomplete', '--help'],
        ['autocomplete', 'script', 'bash'],
      ],
      {env: {KEYWARD_CACHE_DIR: cache}},
    );
    expect(help.code, help.stderr).to.equal(0);
    expect(help.stdout).to.contain('$ keyward autocomplete bash');
    expect(script.code, script.stderr).to.equal(0);
    expect(script.stdout).to.contain(`KEYWARD_AC_BASH_SETUP_PATH=${path.join(cache, 'autocomplete', 'bash_setup')}`);
  });

  it('a cache folder it cannot make (under a file, or a home not writable) is exit 3 naming it, not an internal error', () => {
    const file = ws.file('not-a-folder', '');
    const run = ws.run(['autocomplete', 'bash'], {env: {KEYWARD_CACHE_DIR: path.join(file, 'cache')}});
    expect(run.code, run.stderr).to.equal(3);
    expect(run.stderr)
      .to.contain(`cannot mkdir ${path.join(file, 'cache')}`)
      .and.contain('(ENOTDIR)')
      .and.not.contain('internal error');
  });

  it('completes commands, topics and flags in bash', function () {
    if (spawnSync('bash', ['--version']).status !== 0) this.skip();
    const out = ws.run(['autocomplete', 'bash'], {env: {KEYWARD_CACHE_DIR: cache}});
    expect(out.code, out.stderr).to.equal(0);
    expect(out.stdout).to.contain('keyward autocomplete script bash');
    const setup = path.join(cache, 'autocomplete', 'bash_setup');
    expect(existsSync(setup), 'the completion cache was built').to.equal(true);
    expect(readFileSync(path.join(cache, 'autocomplete', 'functions', 'bash', 'keyward.bash'), 'utf8')).to.contain('keys:create');
    const complete = (words: string[]) => {
      const program = `source ${JSON.stringify(setup)}; COMP_WORDS=(${words.map((w) => JSON.stringify(w)).join(' ')}); COMP_CWORD=${words.length - 1}; _keyward_autocomplete; echo "\${COMPREPLY[*]}"`;
      const run = spawnSync('bash', ['-c', program], {encoding: 'utf8'});
      expect(run.status, run.stderr).to.equal(0);
      return run.stdout.trim();
    };
    expect(complete(['keyward', 'ch'])).to.equal('check');
    expect(complete(['keyward', 'keys', 'ro'])).to.equal('rotate');
    expect(complete(['keyward', 'check', '--nd'])).to.equal('--ndjson');
  });
});

describe('plugins a user installs', () => {
  it('are not looked for: a package.json in the data folder (where oclif keeps them), malformed or naming one, is never read', () => {
    const ws = Workspace.create();
    expect(ws.run(['authorize', '192.0.2.1']).code).to.equal(0);
    const dataDir = path.join(ws.dir, 'data');
    const pjsons = ['{not json', JSON.stringify({oclif: {plugins: [{type: 'user', name: 'keyward-plugin-evil', tag: 'latest'}]}})];
    for (const pjson of pjsons) {
      ws.file('data/package.json', pjson);
      for (const args of [['list'], ['list', '--json'], ['--help'], ['autocomplete', '--help'], ['status', '--json']]) {
        const result = ws.run(args, {env: {KEYWARD_DATA_DIR: dataDir}});
        expect({code: result.code, stderr: result.stderr}, `${args.join(' ')} with ${pjson}`).to.deep.equal({code: 0, stderr: ''});
      }
    }
  });
});
