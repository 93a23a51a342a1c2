// The entry of dist/keyward.cjs, the bundle that bin/run.js runs every command
// but a plain `check` through (`npm run bundle`, esbuild; docs/performance.md,
// "Issue 15, round 2: start-up"): oclif's parts and keyward's commands and
// hooks in one file, because resolving and loading some 150 small modules one
// by one was most of a command's start-up. It is built from dist/ (tsc's
// output); bin/run.js hands oclif a configuration whose commands ("explicit"
// strategy) and hooks are the getters below, so that only the command run is
// evaluated: esbuild evaluates a module require()d in a getter when the getter
// is read. The ids are oclif's (test/cli/startup.test.ts holds them to the
// manifest).
const command = (load) => ({get: () => load().default, enumerable: true});

exports.COMMANDS = Object.defineProperties(
  {},
  {
    activate: command(() => require('../dist/commands/activate.js')),
    authorize: command(() => require('../dist/commands/authorize.js')),
    blocked: command(() => require('../dist/commands/blocked.js')),
    check: command(() => require('../dist/commands/check.js')),
    'complete-keys': command(() => require('../dist/commands/complete-keys.js')),
    deactivate: command(() => require('../dist/commands/deactivate.js')),
    deny: command(() => require('../dist/commands/deny.js')),
    disable: command(() => require('../dist/commands/disable.js')),
    enable: command(() => require('../dist/commands/enable.js')),
    export: command(() => require('../dist/commands/export.js')),
    history: command(() => require('../dist/commands/history.js')),
    learn: command(() => require('../dist/commands/learn.js')),
    list: command(() => require('../dist/commands/list.js')),
    prune: command(() => require('../dist/commands/prune.js')),
    revoke: command(() => require('../dist/commands/revoke.js')),
    serve: command(() => require('../dist/commands/serve.js')),
    status: command(() => require('../dist/commands/status.js')),
    sync: command(() => require('../dist/commands/sync.js')),
    'keys:create': command(() => require('../dist/commands/keys/create.js')),
    'keys:list': command(() => require('../dist/commands/keys/list.js')),
    'keys:revoke': command(() => require('../dist/commands/keys/revoke.js')),
    'keys:rotate': command(() => require('../dist/commands/keys/rotate.js')),
  },
);

// The hooks of .oclifrc, one export each (oclif looks a hook up by its identifier among the exports).
Object.defineProperties(exports, {
  commandNotFoundHook: command(() => require('../dist/hooks/command-not-found.js')),
  postrunHook: command(() => require('../dist/hooks/completion-values.js')),
});

/** The export of each hook of .oclifrc, by event. */
exports.HOOKS = {command_not_found: 'commandNotFoundHook', postrun: 'postrunHook'};

/** oclif's runner and its error handler, from the same (bundled) oclif as the commands. */
exports.oclif = () => ({
  run: require('@oclif/core/run').run,
  handle: require('@oclif/core/handle').handle,
  // What `handle` ends the process through (test/cli/in-process.ts stubs it).
  Exit: require('@oclif/core/handle').Exit,
});
