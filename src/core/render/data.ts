/** The data formats, read back by `sync` and other tools: plain (one entry a line), CSV and JSON. */
import {ExportRow, jsonRows} from '../effective-list.js';
import {csvField, JSON_RAW, lines} from './text.js';

export function renderPlain(rows: readonly ExportRow[]): string {
  return lines(rows.map((r) => r.prefix.toString()));
}

/** The fields of `list --json`, with the characters JSON leaves raw that a terminal or a JavaScript parser would act on escaped. */
export function renderJson(rows: readonly ExportRow[]): string {
  return `${JSON.stringify(jsonRows(rows), null, 2).replace(JSON_RAW, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)}\n`;
}

export function renderCsv(rows: readonly ExportRow[]): string {
  return lines([
    'entry,scope,source,label,addedAt,expiresAt',
    ...rows.map((r) => [r.prefix.toString(), r.scope, r.source, r.label, r.addedAt, r.expiresAt].map(csvField).join(',')),
  ]);
}
