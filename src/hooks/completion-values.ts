/**
 * Completion of values, which @oclif/plugin-autocomplete 3.x does not do in
 * bash (its bash function completes command names and flag names only): after
 * `keyward autocomplete` has written the bash function, this postrun hook
 * appends a function that completes the values of every flag with options
 * (`--format <TAB>`, `--channel <TAB>`), key names (`--key <TAB>`,
 * `keys rotate <TAB>`, `check <TAB>`, read from the store by the hidden
 * `keyward complete-keys`) and store paths, and falls back to the plugin's
 * function for everything else. zsh gets flag options from the plugin itself.
 */
import {appendFile, readFile} from 'node:fs/promises';
import path from 'node:path';
import type {Command, Config, Hook} from '@oclif/core';

/** Commands whose first argument is a key name. */
const KEY_ARGUMENT = ['check', 'keys rotate', 'keys revoke'];

const MARK = '# keyward: values of flags and key names';

const quote = (text: string) => `'${text.replaceAll("'", "'\\''")}'`;

/** The bash code that completes values: one case per command and flag. */
export function bashValues(commands: readonly Command.Loadable[], bin: string): string {
  const fn = `_${bin}_autocomplete`;
  const cases: string[] = [];
  const ids: string[] = [];
  for (const c of commands) {
    if (c.hidden) continue;
    const id = c.id.replaceAll(':', ' ');
    ids.push(id);
    for (const [name, flag] of Object.entries(c.flags)) {
      if (flag.hidden) continue;
      const spellings = [`--${name}`, ...(flag.char ? [`-${flag.char}`] : [])].map((s) => quote(`${id} ${s}`)).join('|');
      const options = flag.type === 'option' ? (flag as {options?: readonly string[]}).options : undefined;
      if (options && options.length > 0) cases.push(`    ${spellings}) opts=${quote(options.join(' '))} ;;`);
      else if (name === 'key') cases.push(`    ${spellings}) opts="$(_${bin}_key_names)" ;;`);
      else if (name === 'store' || name === 'file' || name === 'output') cases.push(`    ${spellings}) COMPREPLY=($(compgen -f -- "$cur")); return 0 ;;`);
    }
  }
  // Longest ids first: "keys rotate" before "keys".
  ids.sort((a, b) => b.split(' ').length - a.split(' ').length);
  return `
${MARK} (added by keyward's completion hook)
_${bin}_key_names()
{
  local store="" i
  for ((i = 1; i < \${#COMP_WORDS[@]} - 1; i++)); do
    [[ "\${COMP_WORDS[i]}" == --store ]] && store="\${COMP_WORDS[i+1]}"
  done
  if [[ -n "$store" ]]; then "\${COMP_WORDS[0]}" complete-keys --store "$store" 2>/dev/null
  else "\${COMP_WORDS[0]}" complete-keys 2>/dev/null; fi
}

_${bin}_values()
{
  local cur="\${COMP_WORDS[COMP_CWORD]}" prev="" cmd="" opts="" id i n positional=0
  ((COMP_CWORD > 1)) && prev="\${COMP_WORDS[COMP_CWORD-1]}"
  for id in ${ids.map(quote).join(' ')}; do
    n=$(wc -w <<<"$id")
    if [[ "\${COMP_WORDS[*]:1:n}" == "$id" ]] && ((COMP_CWORD > n)); then cmd="$id"; break; fi
  done
  [[ -z "$cmd" ]] && return 1
  case "$cmd $prev" in
${cases.join('\n')}
  esac
  if [[ -z "$opts" && "$cur" != -* ]]; then
    for ((i = n + 1; i < COMP_CWORD; i++)); do
      [[ "\${COMP_WORDS[i]}" == -* ]] && continue
      [[ "\${COMP_WORDS[i-1]}" == -* && "\${COMP_WORDS[i-1]}" != -- ]] && continue
      positional=$((positional + 1))
    done
    case "$cmd" in
      ${KEY_ARGUMENT.map(quote).join('|')}) ((positional == 0)) && opts="$(_${bin}_key_names)" ;;
    esac
  fi
  [[ -z "$opts" ]] && return 1
  COMPREPLY=($(compgen -W "$opts" -- "$cur"))
  return 0
}

_${bin}_complete()
{
  _${bin}_values || ${fn}
}

complete -F _${bin}_complete ${bin}
`;
}

/** Appends the value completion to the bash function the plugin wrote (once: the plugin rewrites the file each time). */
export async function addBashValues(config: Config): Promise<void> {
  const file = path.join(config.cacheDir, 'autocomplete', 'functions', 'bash', `${config.bin}.bash`);
  const text = await readFile(file, 'utf8').catch(() => null);
  if (text === null || text.includes(MARK)) return;
  await appendFile(file, bashValues(config.commands, config.bin));
}

const hook: Hook<'postrun'> = async function (options) {
  if (options.Command.id !== 'autocomplete' && options.Command.id !== 'autocomplete:create') return;
  await addBashValues(options.config as Config);
};

export default hook;
