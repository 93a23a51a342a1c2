/**
 * The README's first command ends in `npm run demo` (scripts/demo.sh): the
 * tool's main job on a throw-away store. It must keep working as the
 * commands change (it once sent a new key's secret to /dev/null, which
 * keyward now refuses).
 */
import {spawnSync} from 'node:child_process';
import path from 'node:path';
import {fileURLToPath} from 'node:url';

import {expect} from 'chai';

import {environment} from './harness.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

describe('npm run demo (scripts/demo.sh)', () => {
  it('creates a key, authorizes, activates, checks three addresses (one denied) and shows the status', () => {
    const env = environment('', {env: {KEYWARD_STORE: undefined}});
    const run = spawnSync('sh', [path.join(ROOT, 'scripts', 'demo.sh')], {cwd: ROOT, env, encoding: 'utf8', timeout: 60_000});
    expect(run.status, run.stderr).to.equal(0);
    expect(run.stdout).to.contain('allow  203.0.113.7').and.contain('deny   198.51.100.9').and.contain('api   active');
    expect(run.stderr).to.contain('one address was denied').and.contain('billing.secret');
  });
});
