// Loads dist/keyward.cjs (the bundle bin/run.js runs every command but a plain
// `check` through) the way require() would, with one difference: the compiled
// code comes from the V8 code cache the build writes beside it
// (dist/keyward.cjs.cache), because compiling the 600 kB bundle was some 25 ms
// of every command's start (docs/performance.md, "Issue 15, round 2:
// start-up"). The cache is used only when its stamp (the bundle's size and
// modification time) is the bundle's as it is now, and V8 refuses one made by
// another Node or with other flags: either way the bundle is then compiled
// from its text, as require() would.
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const vm = require('node:vm');
const Module = require('node:module');

/** The length of the stamp in front of the cached code. */
const STAMP = 64;

/** The bundle's file as it is now: its size and modification time. */
function stampOf(file) {
  const stat = fs.statSync(file);
  return `${stat.size} ${stat.mtimeMs}`.padEnd(STAMP);
}

function compile(file, cachedData) {
  return new vm.Script(Module.wrap(fs.readFileSync(file, 'utf8')), {filename: file, cachedData});
}

/** Runs the compiled bundle as the CommonJS module `file`, in require()'s cache, as require() would. */
function evaluate(script, file) {
  const module = new Module(file, null);
  module.filename = file;
  module.paths = Module._nodeModulePaths(path.dirname(file));
  // The bundle's import()s (finishBundle): code compiled by vm.Script, from a cache above all, cannot import().
  module.keywardImport = (specifier) => import(specifier);
  Module._cache[file] = module;
  try {
    script.runInThisContext().call(module.exports, module.exports, Module.createRequire(file), module, file, path.dirname(file));
  } catch (error) {
    delete Module._cache[file];
    throw error;
  }
  module.loaded = true;
  return module.exports;
}

/** The cached code of `file`, when the cache beside it was made from it as it is now. */
function cachedCode(file) {
  let data;
  try {
    data = fs.readFileSync(`${file}.cache`);
  } catch {
    return undefined;
  }
  return data.subarray(0, STAMP).toString('latin1') === stampOf(file) ? data.subarray(STAMP) : undefined;
}

/** The exports of the bundle `file` (an absolute path): what require(file) would give. */
exports.loadBundle = (file) => Module._cache[file]?.exports ?? evaluate(compile(file, cachedCode(file)), file);

/**
 * The build, after esbuild made the bundle `file`: its import()s made calls of
 * keywardImport (the footer, see package.json), which imports with the
 * loader's import() (code compiled by vm.Script cannot import(); V8 keeps no
 * import callback in cached code); then its code cache written: the bundle
 * run, every command and hook in it evaluated, and the code V8 compiled
 * meanwhile cached.
 */
exports.finishBundle = (file) => {
  file = path.resolve(file);
  const text = fs.readFileSync(file, 'utf8').replaceAll('await import(', 'await keywardImport(');
  // What is left is oclif's message "import() failed to load" and the footer's import() for a bundle loaded
  // by require(): any other import( would be a call not made over.
  const left = text.replaceAll('"import()"', '').replace(': import(specifier); }', '').match(/[^\w$.]import\(.{0,40}/g);
  if (left) throw new Error(`${file}: an import() the build did not make a call of keywardImport: ${left.join(' | ')}`);
  fs.writeFileSync(file, text);
  const script = compile(file);
  const bundle = evaluate(script, file);
  bundle.oclif();
  for (const name of Object.keys(bundle.COMMANDS)) void bundle.COMMANDS[name];
  void [bundle.commandNotFoundHook, bundle.postrunHook];
  fs.writeFileSync(`${file}.cache`, Buffer.concat([Buffer.from(stampOf(file), 'latin1'), script.createCachedData()]));
};
