/** The data formats, read back by `sync` and other tools: plain (one entry a line), CSV and JSON. */
import {byEffect, ExportRow, jsonRows} from '../effective-list.js';
import {csvField, JSON_RAW, lines} from './text.js';

/** An entry as the plain and CSV formats write it: a deny entry with `!` before it (as `sync` reads it). */
const entryText = (r: ExportRow) => `${r.effect === 'deny' ? '!' : ''}${r.prefix.toString()}`;

/** Deny entries first, as `!ENTRY`. */
export function renderPlain(rows: readonly ExportRow[]): string {
  const {deny, allow} = byEffect(rows);
  return lines([...deny, ...allow].map(entryText));
}

/** The fields of `list --json`, with the characters JSON leaves raw that a terminal or a JavaScript parser would act on escaped. */
export function renderJson(rows: readonly ExportRow[]): string {
  return `${JSON.stringify(jsonRows(rows), null, 2).replace(JSON_RAW, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)}\n`;
}

export function renderCsv(rows: readonly ExportRow[]): string {
  return lines([
    'entry,scope,source,label,addedAt,expiresAt',
    ...[...byEffect(rows).deny, ...byEffect(rows).allow].map((r) => [entryText(r), r.scope, r.source, r.label, r.addedAt, r.expiresAt].map(csvField).join(',')),
  ]);
}
