/**
 * src/templates.cjs, bundled in place of ejs (which needs `new Function`):
 * every help text keyward ships (its commands', its plugins', oclif's own
 * usage line) renders as ejs itself renders it, and any other ejs syntax is
 * refused rather than printed half rendered.
 */
import {readFileSync} from 'node:fs';
import {createRequire} from 'node:module';
import path from 'node:path';
import {fileURLToPath} from 'node:url';

import {expect} from 'chai';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const require = createRequire(import.meta.url);
const {render} = require('../../src/templates.cjs') as {render: (template: string, data: object) => string};
// The oracle: the ejs oclif itself depends on, found from oclif's own folder.
const ejs = createRequire(require.resolve('@oclif/core/package.json'))('ejs') as {render: (template: string, data: object) => string};

/** Every string in `value`, however deep. */
function strings(value: unknown, into: string[] = []): string[] {
  if (typeof value === 'string') into.push(value);
  else if (Array.isArray(value)) for (const item of value) strings(item, into);
  else if (value !== null && typeof value === 'object') for (const item of Object.values(value)) strings(item, into);
  return into;
}

describe('help templates without ejs (src/templates.cjs)', () => {
  it("renders every template of keyward's manifest and its plugins' as ejs does", () => {
    const manifests = [
      'oclif.manifest.json',
      ...['autocomplete', 'help', 'not-found', 'warn-if-update-available'].map((p) => `node_modules/@oclif/plugin-${p}/oclif.manifest.json`),
    ];
    const templates = [
      ...new Set([...manifests.flatMap((file) => strings(JSON.parse(readFileSync(path.join(ROOT, file), 'utf8')))), 'Usage: <%= command.id %> [-n <string> | -s <string>]']),
    ].filter((text) => text.includes('<%'));
    expect(templates.length, 'the manifest has templates (config.bin in examples)').to.be.greaterThan(20);
    const contexts = [
      {config: {bin: 'keyward', dirname: 'keyward'}, command: {id: 'keys:create'}},
      {config: {bin: 'a<b&"c\'>', dirname: 'x'}, command: {id: '<id>'}},
    ];
    for (const context of contexts) {
      for (const template of templates) expect(render(template, context), template).to.equal(ejs.render(template, context));
    }
  });

  it('escapes as ejs does in <%= %>, not in <%- %>; an absent value is empty', () => {
    const context = {x: {y: `<&"'>`}, n: null, u: undefined};
    const template = 'a <%= x.y %> <%-x.y%> <%= n %>|<%= u %>|<%=x.missing%>';
    expect(render(template, context)).to.equal(ejs.render(template, context)).and.to.equal('a &lt;&amp;&#34;&#39;&gt; <&"\'> ||');
  });

  it('refuses any other ejs syntax, and a name the context lacks, as errors rather than text', () => {
    for (const template of ['<% if (x) { %>y<% } %>', '<%= x + 1 %>', '<%# comment %>', '<%%= literal %>', '<%= x.y -%>', '<%_ x _%>']) {
      expect(() => render(template, {x: {y: 1}}), template).to.throw(/help template not supported/);
    }
    expect(() => render('<%= nothere.bin %>', {config: {}})).to.throw(ReferenceError);
  });
});
