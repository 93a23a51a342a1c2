/**
 * The help is a contract too: every command's USAGE names exactly its flags
 * and arguments, every example in every --help runs on a prepared store with
 * the exit code it documents (0 unless the example says `# … exit N …`), and
 * every `keyward COMMAND --flag` that a message, hint or README line tells an
 * operator to type names a command and flags that exist.
 */
import {readdirSync, readFileSync, statSync} from 'node:fs';
import path from 'node:path';
import {fileURLToPath} from 'node:url';
import {Command, Config} from '@oclif/core';
import {expect} from 'chai';
import {NOW, RunResult, Workspace} from './harness.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const BIN = '<%= config.bin %>';

type Example = string | {command: string; description?: string};
const exampleText = (e: Example) => (typeof e === 'string' ? e : e.command);

/** Every command a user can list (keyward's own and the plugins'), hidden ones left out. */
async function commands(): Promise<Command.Loadable[]> {
  const config = await Config.load({root: ROOT, devPlugins: false, userPlugins: false});
  return config.commands.filter((c) => !c.hidden).sort((a, b) => a.id.localeCompare(b.id));
}

/** Shell words and operators of one command line: quotes kept together, `#` starts a comment. */
export function shellWords(line: string): {words: string[]; comment: string} {
  const words: string[] = [];
  let word: string | null = null;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i];
    if (ch === "'" || ch === '"') {
      const end = line.indexOf(ch, i + 1);
      if (end < 0) throw new Error(`unbalanced ${ch} in: ${line}`);
      word = (word ?? '') + line.slice(i + 1, end);
      i = end;
    } else if (/\s/.test(ch)) {
      if (word !== null) words.push(word);
      word = null;
    } else if (ch === '#' && word === null) {
      return {words, comment: line.slice(i + 1).trim()};
    } else if (word === null && (ch === '|' || ch === '&' || ch === ';' || ch === '>')) {
      const two = line.slice(i, i + 2);
      const op = two === '&&' || two === '||' ? two : ch;
      words.push(op);
      i += op.length - 1;
    } else word = (word ?? '') + ch;
  }
  if (word !== null) words.push(word);
  return {words, comment: ''};
}

/** The commands of a line split at |, &&, || and ;, each with its words and a `> FILE` redirection. */
function pipeline(words: string[]): {words: string[]; to?: string}[] {
  const segments: {words: string[]; to?: string}[] = [{words: []}];
  for (let i = 0; i < words.length; i++) {
    const w = words[i];
    if (['|', '&&', '||', ';'].includes(w)) segments.push({words: []});
    else if (w === '>') segments.at(-1)!.to = words[++i];
    else segments.at(-1)!.words.push(w);
  }
  return segments.filter((s) => s.words.length > 0);
}

/** The exit code a line documents: `# … exit N …`, else 0; null for one that runs until stopped. */
function documentedExit(comment: string): number | null {
  if (/runs until stopped/.test(comment)) return null;
  const exit = /\bexit (\d+)\b/.exec(comment);
  return exit === null ? 0 : Number(exit[1]);
}

interface Usage {
  flags: Set<string>;
  args: Set<string>;
  variadic: Set<string>;
}

/** What the USAGE section of a --help names: flags (by long name or -c), the bare upper-case words (arguments), and which are shown with `...`. */
function usageOf(help: string, command: Command.Loadable): Usage {
  const section = /^USAGE\n([\s\S]*?)\n\n/m.exec(help);
  if (section === null) throw new Error(`${command.id}: no USAGE section`);
  const byChar = new Map(Object.entries(command.flags).flatMap(([name, f]) => (f.char ? [[f.char as string, name]] : [])));
  const usage: Usage = {flags: new Set(), args: new Set(), variadic: new Set()};
  const text = section[1].replaceAll(/[[\]()|]/g, ' ');
  const tokens = text.split(/\s+/).filter(Boolean);
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i];
    if (t === '$' || t === 'keyward' || command.id.split(':').includes(t)) continue;
    const long = /^--([a-z][\w-]*)$/.exec(t);
    const short = /^-([a-zA-Z])$/.exec(t);
    if (long || short) {
      const name = long ? long[1] : (byChar.get(short![1]) ?? `-${short![1]}`);
      usage.flags.add(name);
      const flag = command.flags[name];
      // The value a flag takes (NAME, <value>, api|smtp) is not an argument.
      if (flag?.type === 'option' && tokens[i + 1] !== undefined && !tokens[i + 1].startsWith('-')) i++;
      continue;
    }
    const arg = /^([A-Z][A-Z0-9_-]*)(\.\.\.)?$/.exec(t);
    if (arg) {
      usage.args.add(arg[1]);
      if (arg[2]) usage.variadic.add(arg[1]);
    }
  }
  return usage;
}

describe('help lint', function () {
  this.timeout(120_000);
  let all: Command.Loadable[] = [];
  const helps = new Map<string, string>();

  before(async () => {
    all = await commands();
    const ws = Workspace.create();
    for (const c of all) {
      const help = ws.run([...c.id.split(':'), '--help']);
      if (help.code !== 0) throw new Error(`${c.id} --help exited ${help.code}: ${help.stderr}`);
      helps.set(c.id, help.stdout);
    }
  });

  it("every USAGE line names exactly the command's flags and arguments, a single KEY never as variadic", () => {
    const problems: string[] = [];
    for (const c of all) {
      const usage = usageOf(helps.get(c.id)!, c);
      const flags = Object.entries(c.flags).filter(([, f]) => !f.hidden);
      for (const name of usage.flags) if (!(name in c.flags)) problems.push(`${c.id}: USAGE names --${name}, which is no flag of it`);
      for (const [name] of flags) if (!usage.flags.has(name)) problems.push(`${c.id}: --${name} is missing from USAGE`);
      // Values named after a flag are skipped above; what is left must be the arguments, by name.
      const argNames = Object.keys(c.args).map((a) => a.toUpperCase());
      const values = new Set(flags.map(([, f]) => (f as {helpValue?: string}).helpValue).filter(Boolean));
      for (const a of usage.args) if (!argNames.includes(a) && !values.has(a)) problems.push(`${c.id}: USAGE names ${a}, which is no argument of it`);
      for (const a of argNames) if (!usage.args.has(a)) problems.push(`${c.id}: argument ${a} is missing from USAGE`);
      // Only the last argument may repeat: KEY of check is one, its ADDRESS... many.
      for (const a of argNames.slice(0, -1)) if (usage.variadic.has(a)) problems.push(`${c.id}: USAGE shows ${a}... but it is one argument`);
    }
    expect(problems, problems.join('\n')).to.deep.equal([]);
  });

  it('the usage check itself catches a flag USAGE does not have, a stray --timestamp and KEY...', () => {
    const check = all.find((c) => c.id === 'check')!;
    const wrong = usageOf('USAGE\n  $ keyward check KEY... [ADDRESS...] [--timestamp]\n\n', check);
    expect([...wrong.flags]).to.deep.equal(['timestamp']);
    expect([...wrong.variadic]).to.include('KEY');
    expect(helps.get('check')).to.match(/\$ keyward check KEY ADDRESS\.\.\./);
    expect(helps.get('export'))
      .to.contain('[--no-timestamp]')
      .and.not.match(/\[--timestamp\]/);
  });

  it('every example is a command line: it starts with `$ ` or the bin, as oclif prints it with `$ `', () => {
    const problems: string[] = [];
    for (const c of all) {
      for (const e of (c.examples ?? []) as Example[]) {
        const text = exampleText(e);
        if (!text.startsWith(BIN) && !text.startsWith('$ ')) problems.push(`${c.id}: ${text}`);
      }
      const section = /^EXAMPLES\n([\s\S]*?)(?:\n[A-Z][A-Z ]+\n|$)/m.exec(helps.get(c.id)!);
      for (const line of (section?.[1] ?? '').split('\n')) {
        if (/\bkeyward\b/.test(line) && !/^\s+\$ /.test(line) && !/^\s{4,}/.test(line)) problems.push(`${c.id} --help: ${line.trim()}`);
      }
    }
    expect(problems, problems.join('\n')).to.deep.equal([]);
  });

  describe('every example runs on a prepared store with its documented exit code', () => {
    let prepared: Buffer;
    const files: Record<string, string> = {
      'access.log': `billing 203.0.113.9 ${NOW}\nbilling 192.0.2.77 ${NOW}\n`,
      'api.json': `${JSON.stringify({http_x_api_key: 'billing', remote_addr: '203.0.113.9', time_iso8601: NOW})}\n`,
      'mail.log': 'Nov 30 10:00:01 mail postfix/smtpd[2201]: 4F1A22C0123: client=mail.example.com[198.51.100.20], sasl_method=PLAIN, sasl_username=relay\n',
      'events.ndjson': `${JSON.stringify({key: 'billing', ip: '203.0.113.9', at: NOW})}\n`,
      'events.log': `billing 203.0.113.9 ${NOW}\n`,
      'allowlist.txt': '203.0.113.0/24 # office\n198.51.100.0/24\n',
      'retired.txt': '203.0.113.7\n',
      'keys/billing.txt': '203.0.113.0/24\n198.51.100.0/24\n',
      'addresses.txt': '203.0.113.7\n203.0.113.8\n',
      'ranges.txt': '198.51.100.64/26\n',
      'abusers.txt': '198.51.100.23\n192.0.2.99\n',
    };
    /** What the command before a `|` writes, by how it starts. */
    const producers: [RegExp, string][] = [
      [/^cat (\S+)$/, ''],
      [/^zcat /, files['access.log']],
      [/^git show main:allowlist\.txt$/, files['allowlist.txt']],
      [/^curl .*\| jq/, '192.0.2.128/25\n192.0.2.0/26\n'],
    ];

    before(() => {
      const ws = Workspace.create();
      const must = (r: RunResult) => {
        if (r.code !== 0) throw new Error(`preparing the store: exit ${r.code}\n${r.stderr}`);
      };
      must(ws.run(['keys', 'create', 'billing', '--type', 'api', '--allow', '203.0.113.0/24', '--allow', '198.51.100.0/24', '--allow', '198.51.100.7'], {now: NOW}));
      must(ws.run(['keys', 'create', 'relay', '--type', 'smtp', '--allow', '198.51.100.0/24'], {now: NOW}));
      must(ws.run(['keys', 'create', 'old-billing', '--type', 'api'], {now: NOW}));
      must(ws.run(['authorize', '203.0.113.0/24', '--label', 'office'], {now: NOW}));
      must(ws.run(['authorize', '203.0.113.7'], {now: NOW}));
      must(ws.run(['authorize', '192.0.2.128/25', '--group', 'github-actions'], {now: NOW}));
      must(ws.run(['deny', '10.66.0.0/16'], {now: NOW}));
      must(ws.run(['activate', '--api', '--yes'], {now: NOW}));
      must(ws.run(['learn', '-'], {now: NOW, input: `billing 192.0.2.66 ${NOW}\n`}));
      prepared = ws.storeBytes()!;
    });

    /** Runs the keyward commands of one example line in a fresh copy of the prepared store; returns what differs from what it documents. */
    function runExample(id: string, text: string): string[] {
      const line = text.replaceAll(BIN, 'keyward').replace(/^\$ /, '');
      const {words, comment} = shellWords(line.replace(/^\w+=\$\((.*)\)$/, '$1'));
      const wanted = documentedExit(comment);
      const segments = pipeline(words);
      const ours = segments.filter((s) => s.words[0] === 'keyward');
      if (ours.length === 0) return [`${id}: example runs no keyward: ${text}`];
      const ws = Workspace.create();
      ws.file('store.json', prepared);
      for (const [name, content] of Object.entries(files)) ws.file(name, content);
      const problems: string[] = [];
      for (const s of ours) {
        // Absolute paths (/var/log/…, /etc/nginx/…) become files of the workspace.
        const args = s.words.slice(1).map((w) => (w.startsWith('/') ? path.basename(w) : w));
        const last = s === ours.at(-1);
        if (wanted === null) {
          problems.push(...flagsExist(id, args));
          continue;
        }
        let input: string | undefined;
        const before = segments[segments.indexOf(s) - 1];
        if (args.includes('-') && before !== undefined && before.words[0] !== 'keyward') {
          const producer = before.words.join(' ');
          const upstream = line
            .slice(0, line.indexOf('keyward'))
            .replace(/\|\s*$/, '')
            .trim();
          const found = producers.find(([re]) => re.test(upstream) || re.test(producer));
          if (found === undefined) return [`${id}: example pipes from "${upstream}": give the help lint test its input`];
          const cat = /^cat (\S+)$/.exec(producer);
          input = cat ? files[cat[1]] : found[1];
          if (input === undefined) return [`${id}: example reads ${producer}: add that file to the help lint test`];
        }
        const run = ws.run(args, {now: NOW, input});
        if (s.to !== undefined) ws.file(s.to, run.stdout);
        const expected = last ? wanted : 0;
        if (run.code !== expected) problems.push(`${id}: \`${text}\` exited ${run.code}, documented ${expected}\n${run.stderr}`);
      }
      return problems;
    }

    /** For an example that never ends: its command and flags exist. */
    function flagsExist(id: string, args: string[]): string[] {
      const c = all.find((x) => x.id === id)!;
      return args.filter((a) => /^--?[a-z]/i.test(a)).flatMap((a) => (flagNamed(c, a) ? [] : [`${id}: example uses ${a}, which is no flag of it`]));
    }

    it('every example of every --help', () => {
      const problems: string[] = [];
      let ran = 0;
      for (const c of all) {
        // The plugin's own examples are its business; keyward's are ours.
        if (c.pluginName !== 'keyward') continue;
        for (const e of (c.examples ?? []) as Example[]) {
          problems.push(...runExample(c.id, exampleText(e)));
          ran++;
        }
      }
      expect(ran, 'examples run').to.be.at.least(60);
      expect(problems, problems.join('\n')).to.deep.equal([]);
    });

    it('the example runner catches a wrong exit code and a flag that does not exist', () => {
      expect(runExample('check', `${BIN} check billing 192.0.2.1`)).to.have.length(1);
      expect(runExample('check', `${BIN} check billing 192.0.2.1  # exit 1: denied`)).to.deep.equal([]);
      expect(runExample('learn', `${BIN} learn - --follow --timestamp  # runs until stopped`)).to.have.length(1);
    });
  });

  describe('every keyward command line a message or the README tells an operator to type exists', () => {
    /** `keyward COMMAND ...` runs in text: the command and the flags after it, until a delimiter. */
    function commandLines(text: string): string[] {
      // Up to a quote, a bracket or a shell operator: what follows belongs to another program.
      return [...text.matchAll(/\bkeyward ((?:keys )?[a-z][a-z-]*(?: (?![|&<>[])[^\s`'"),;:\\]+)*)/g)].map((m) => m[1]);
    }

    function check(where: string, line: string): string[] {
      const words = line.split(' ');
      const id = words[0] === 'keys' ? `keys:${words[1]}` : words[0];
      const c = all.find((x) => x.id === id);
      // `--nd<TAB>` is a completion being typed, not a flag.
      const flags = words.filter((w) => /^--?[a-z]/i.test(w) && !w.includes('<'));
      if (c === undefined) return flags.length > 0 || words[0] === 'keys' ? [`${where}: "keyward ${line}": no command ${id.replace(':', ' ')}`] : [];
      return flags.flatMap((f) => (flagNamed(c, f) ? [] : [`${where}: "keyward ${line}": ${f} is no flag of ${c.id.replace(':', ' ')}`]));
    }

    it('in src: every hint that names a command and its flags', () => {
      const problems: string[] = [];
      for (const file of sources(path.join(ROOT, 'src'))) {
        // Template parts (${…}) are values: a flag built from one (--${b.channel}) is checked by the tests of its message.
        const text = readFileSync(file, 'utf8').replaceAll(/\$\{[^}]*\}/g, '');
        for (const line of commandLines(text)) problems.push(...check(path.relative(ROOT, file), line));
      }
      expect(problems, problems.join('\n')).to.deep.equal([]);
    });

    it('in README.md and docs/*.md', () => {
      const problems: string[] = [];
      const docs = [path.join(ROOT, 'README.md'), ...readdirSync(path.join(ROOT, 'docs')).map((f) => path.join(ROOT, 'docs', f))].filter((f) => f.endsWith('.md'));
      for (const file of docs) {
        if (file.endsWith('commands.md')) continue; // generated from the commands themselves
        // docs/errors.md shows mistakes on purpose, with the messages they get: those lines name their typo.
        const typos = file.endsWith('errors.md') ? TYPOS : [];
        for (const line of commandLines(readFileSync(file, 'utf8'))) {
          if (typos.some((t) => line.split(' ').includes(t))) continue;
          problems.push(...check(path.relative(ROOT, file), line));
        }
      }
      expect(problems, problems.join('\n')).to.deep.equal([]);
    });

    it('catches a hint that names a flag a command does not have', () => {
      expect(check('test', 'sync --file FILE')).to.have.length(1);
      expect(check('test', 'export --timestamp')).to.have.length(1);
      expect(check('test', 'keys rotat billing')).to.have.length(1);
      expect(check('test', 'export --no-timestamp -o FILE')).to.deep.equal([]);
    });
  });
});

/** The typos docs/errors.md makes on purpose to show what keyward answers. */
const TYPOS = ['--acount'];

/** The flag a command line names (--name, --no-name of an allowNo flag, -c, --name=value), if the command has it. */
function flagNamed(c: Command.Loadable, given: string): boolean {
  const bare = given.replace(/=.*$/, '');
  if (bare === '--help' || bare === '-h') return true;
  if (/^-[a-zA-Z]$/.test(bare)) return Object.values(c.flags).some((f) => f.char === bare[1]);
  const name = bare.replace(/^--/, '');
  if (name in c.flags) return true;
  return name.startsWith('no-') && (c.flags[name.slice(3)] as {allowNo?: boolean} | undefined)?.allowNo === true;
}

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = path.join(dir, name);
    return statSync(full).isDirectory() ? sources(full) : full.endsWith('.ts') ? [full] : [];
  });
}
