/** The firewalls' formats: nftables interval sets and ipset hash:net sets, both replaced in one transaction. */
import {holdsSecret, InputError, show} from '../errors.js';
import {ExportRow} from '../effective-list.js';
import {Prefix} from '../prefix.js';
import {outermost} from '../set-ops.js';
import {commentText, comments, lines} from './text.js';

/** Set and table names for the firewall formats. */
export interface FirewallNames {
  /** nftables table (family inet). */
  table: string;
  /** Base name of the sets: NAME_v4 and NAME_v6 (ipset also uses NAME_v4_tmp, NAME_v6_tmp while loading). */
  set: string;
}

export const DEFAULT_NAMES: FirewallNames = {table: 'keyward', set: 'keyward_allow'};

/** Longest base set name: ipset names have at most 31 characters, and "_v4_tmp" takes 7. */
export const MAX_SET_NAME = 24;
const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Checks a table or set name given on the command line; throws an InputError. */
export function checkFirewallName(what: 'table' | 'set', name: string): void {
  const max = what === 'set' ? MAX_SET_NAME : 64;
  // A pasted secret would be written into the file, four times (found by an outside tester).
  if (holdsSecret(name)) throw new InputError(`--${what} ${show(name)} looks like a key secret and cannot be a name`);
  if (!NAME.test(name) || name.length > max) {
    throw new InputError(`--${what} ${JSON.stringify(name)} is not a usable name: use 1 to ${max} letters, digits and "_", not starting with a digit`);
  }
}

/**
 * An nftables script for `nft -f`: declares table inet TABLE with interval
 * sets SET_v4 and SET_v6, flushes them and fills them, in one transaction,
 * leaving the table's other sets and chains alone. Interval sets refuse
 * nested elements, so entries inside another entry are left out (the outer
 * one holds their addresses).
 */
export function renderNftables(rows: readonly ExportRow[], header: readonly string[], names: FirewallNames): string {
  const kept = outermost(rows.map((r) => r.prefix)).map((i) => rows[i]);
  const out = [...comments(header)];
  const sets = [
    {name: `${names.set}_v4`, type: 'ipv4_addr', rows: kept.filter((r) => r.prefix.family === 4)},
    {name: `${names.set}_v6`, type: 'ipv6_addr', rows: kept.filter((r) => r.prefix.family === 6)},
  ];
  out.push(`table inet ${names.table} {`);
  for (const set of sets) out.push(`\tset ${set.name} {`, `\t\ttype ${set.type}`, '\t\tflags interval', '\t}');
  out.push('}');
  for (const set of sets) out.push(`flush set inet ${names.table} ${set.name}`);
  const filled = sets.filter((s) => s.rows.length > 0);
  if (filled.length > 0) {
    out.push(`table inet ${names.table} {`);
    for (const set of filled) {
      out.push(`\tset ${set.name} {`, `\t\ttype ${set.type}`, '\t\tflags interval', '\t\telements = {');
      for (const r of set.rows) out.push(`\t\t\t${r.prefix.toString()},${commentText(r.label) === '' ? '' : ` # ${commentText(r.label)}`}`);
      out.push('\t\t}', '\t}');
    }
    out.push('}');
  }
  return lines(out);
}

/**
 * ipset's hash:net takes prefix lengths 1–32 (1–128): /0 is written as its two
 * halves.
 */
function ipsetEntries(prefix: Prefix): string[] {
  if (prefix.bits > 0) return [prefix.toString()];
  return prefix.family === 4 ? ['0.0.0.0/1', '128.0.0.0/1'] : ['::/1', '8000::/1'];
}

/** ipset's maxelem for a set of up to 2^20 entries: every keyward export of such a set makes it with this one. */
const IPSET_DEFAULT_MAXELEM = 1 << 20;

/**
 * Room in an ipset set: 2^20 entries, or the next power of two that holds
 * them, so that re-creating it with -exist matches while its size stays in
 * one such range (crossing one is said in the file: see renderIpset).
 */
function ipsetMaxElem(count: number): number {
  let max = IPSET_DEFAULT_MAXELEM;
  while (max < count) max *= 2;
  return max;
}

/**
 * An `ipset restore` script: for each family, creates the set (hash:net) if
 * it is missing, fills a temporary set and swaps it in, so that rules using
 * the set see the old contents or the new, never a half-filled set.
 */
export function renderIpset(rows: readonly ExportRow[], header: readonly string[], names: FirewallNames): string {
  const out = [...comments(header)];
  for (const [family, suffix, inet] of [
    [4, 'v4', 'inet'],
    [6, 'v6', 'inet6'],
  ] as const) {
    const set = `${names.set}_${suffix}`;
    const tmp = `${set}_tmp`;
    const mine = rows.filter((r) => r.prefix.family === family);
    const entries = mine.flatMap((r) => ipsetEntries(r.prefix));
    const maxelem = ipsetMaxElem(entries.length);
    const params = `hash:net family ${inet} hashsize 1024 maxelem ${maxelem}`;
    if (maxelem > IPSET_DEFAULT_MAXELEM) {
      // (`create -exist` fails for a set of the same name made with another maxelem: ipset swap takes any.)
      out.push(
        `# ${set} needs maxelem ${maxelem} for its ${entries.length} entries; a set made with another refuses this file ("set with the same name already exists"): re-make it once with`,
        `#   ipset create ${set}_new ${params}; ipset swap ${set}_new ${set}; ipset destroy ${set}_new`,
      );
    }
    out.push(`destroy ${tmp} -exist`, `create ${set} ${params} -exist`, `create ${tmp} ${params}`);
    for (const r of mine) {
      if (commentText(r.label) !== '') out.push(`# ${commentText(r.label)}`);
      for (const e of ipsetEntries(r.prefix)) out.push(`add ${tmp} ${e} -exist`);
    }
    out.push(`swap ${tmp} ${set}`, `destroy ${tmp}`);
  }
  return lines(out);
}
