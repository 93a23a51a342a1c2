// What dist/keyward.cjs bundles in place of ejs (`npm run bundle`, esbuild's
// --alias:ejs). oclif renders help texts (`<%= config.bin %> authorize ...`)
// with ejs, which compiles each template with `new Function`, and calls
// `new Function` as it loads: under `node --disallow-code-generation-from-strings`
// every command that went through oclif stopped with an internal error.
// Every template keyward ships (its commands' texts, its plugins', oclif's own
// usage line) is one form: a property path in `<%= %>`, HTML-escaped as ejs
// escapes it, or in `<%- %>`, as it is. Those are rendered here; any other
// ejs syntax is refused, by name. test/cli/templates.test.ts holds every
// shipped text to ejs's own rendering.
'use strict';

const TAG = /<%([=-])\s*([A-Za-z_$][\w$]*(?:\.[A-Za-z_$][\w$]*)*)\s*%>/g;
const ESCAPES = {'&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&#34;', "'": '&#39;'};

/** `template` with each `<%= path %>` replaced by the value at `path` in `data`, as ejs.render does. */
function render(template, data = {}) {
  const text = String(template);
  if (text.replace(TAG, '').includes('<%')) throw new Error(`help template not supported (only <%= name.path %>): ${JSON.stringify(text.slice(0, 80))}`);
  return text.replace(TAG, (_, kind, path) => {
    const value = valueAt(data, path);
    if (value === undefined || value === null) return '';
    return kind === '-' ? String(value) : String(value).replace(/[&<>"']/g, (c) => ESCAPES[c]);
  });
}

/** The value at `path` (`config.bin`) in `data`; a missing first name is an error, as it is in ejs. */
function valueAt(data, path) {
  const [first, ...rest] = path.split('.');
  if (!(first in data)) throw new ReferenceError(`${first} is not defined in a help template`);
  let value = data[first];
  for (const name of rest) value = value[name];
  return value;
}

module.exports = {render};
