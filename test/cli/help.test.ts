/**
 * Every command a user can list (keyward's own and the plugins') explains
 * itself in --help: a description and at least two examples that run it.
 * A new command without them fails here.
 */
import {Config} from '@oclif/core';
import {expect} from 'chai';
import {fileURLToPath} from 'node:url';
import {RunResult, Workspace} from './harness.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** The commands as oclif sees them (from the built manifest), hidden ones left out. */
async function visibleCommands() {
  const config = await Config.load({root: ROOT, devPlugins: false, userPlugins: false});
  return {config, commands: config.commands.filter((c) => !c.hidden).sort((a, b) => a.id.localeCompare(b.id))};
}

const exampleText = (e: string | {command: string; description?: string}) => (typeof e === 'string' ? e : e.command);

describe('help', () => {
  it('every command has a description and at least two examples that run it', async () => {
    const {commands} = await visibleCommands();
    expect(
      commands.map((c) => c.id),
      'the command list',
    ).to.include.members(['authorize', 'check', 'learn', 'keys:create', 'autocomplete']);
    const problems: string[] = [];
    for (const c of commands) {
      const description = (c.description ?? '').trim();
      if (description.length < 20) problems.push(`${c.id}: no description (static description = \`…\`)`);
      const examples = (c.examples ?? []).map(exampleText);
      if (examples.length < 2) problems.push(`${c.id}: ${examples.length} example(s), at least 2 wanted`);
      for (const e of examples) {
        if (!e.includes('<%= config.bin %>') && !e.includes('keyward')) problems.push(`${c.id}: example does not run keyward: ${e}`);
      }
    }
    expect(problems, problems.join('\n')).to.deep.equal([]);
  });

  it('--help of each command shows its description and examples', async function () {
    this.timeout(180_000);
    const {config, commands} = await visibleCommands();
    const ws = Workspace.create();
    const ids = commands.map((c) => c.id);
    // Four at a time: each is a process of its own.
    const results: RunResult[] = [];
    let next = 0;
    const worker = async () => {
      while (next < ids.length) {
        const i = next++;
        results[i] = await ws.start([...ids[i].split(':'), '--help'], {env: {COLUMNS: '100'}, timeoutMs: 60_000});
      }
    };
    await Promise.all([worker(), worker(), worker(), worker()]);
    results.forEach((out, i) => {
      const id = ids[i];
      expect(out.code, `${id} --help\n${out.stderr}`).to.equal(0);
      expect(out.stdout, `${id} --help`).to.match(/^DESCRIPTION$/m);
      const examples = out.stdout.slice(out.stdout.search(/^EXAMPLES$/m));
      expect(examples, `${id} --help has an EXAMPLES section`).to.match(/^EXAMPLES$/m);
      const shown = examples.match(new RegExp(`^\\s+\\$ .*${config.bin}`, 'gm')) ?? [];
      expect(shown.length, `${id} --help examples:\n${examples}`).to.be.at.least(2);
      expect(out.stdout, 'no template left unrendered').not.to.contain('<%');
    });
  });
});
