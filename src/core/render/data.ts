/** The data formats, read back by `sync` and other tools: plain (one entry a line), CSV and JSON. */
import {byEffect, ExportRow, jsonRows} from '../effective-list.js';
import {csvField, jsonSafe, labelText, lines} from './text.js';

/** An entry as the plain and CSV formats write it: a deny entry with `!` before it (as `sync` reads it). */
const entryText = (r: ExportRow) => `${r.effect === 'deny' ? '!' : ''}${r.prefix.toString()}`;

/** Deny entries first, as `!ENTRY`; one entry a line, `ENTRY # label` when it has a label (the import line format, so that `sync` reads it back). */
export function renderPlain(rows: readonly ExportRow[]): string {
  const {deny, allow} = byEffect(rows);
  return lines(
    [...deny, ...allow].map((r) => {
      const label = labelText(r.label);
      return label === '' ? entryText(r) : `${entryText(r)} # ${label}`;
    }),
  );
}

/** The fields of `list --json` (deny rows first), with the characters JSON leaves raw that a terminal or a JavaScript parser would act on escaped. */
export function renderJson(rows: readonly ExportRow[]): string {
  // Deny rows first, as in every format.
  const {deny, allow} = byEffect(rows);
  return `${jsonSafe(JSON.stringify(jsonRows([...deny, ...allow]), null, 2))}\n`;
}

/** The CSV header line export writes (and `sync` recognises): the fields of `list --json`, group last. */
export const CSV_HEADER = 'entry,scope,source,label,addedAt,expiresAt,group';

export function renderCsv(rows: readonly ExportRow[]): string {
  const {deny, allow} = byEffect(rows);
  return lines([CSV_HEADER, ...[...deny, ...allow].map((r) => [entryText(r), r.scope, r.source, r.label, r.addedAt, r.expiresAt, r.group ?? null].map(csvField).join(','))]);
}
