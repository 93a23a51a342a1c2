/** CrowdSec: the CSV `cscli allowlists import` reads (value,expiration,comment). */
import {ExportRow} from '../effective-list.js';
import {csvField, lines} from './text.js';

/** `cscli` durations (go-cs-lib cstime): days first, then h, m, s; whole seconds, rounded down. */
export function crowdsecDuration(ms: number): string {
  let s = Math.max(0, Math.floor(ms / 1000));
  const days = Math.floor(s / 86_400);
  s -= days * 86_400;
  const h = Math.floor(s / 3600);
  s -= h * 3600;
  const m = Math.floor(s / 60);
  s -= m * 60;
  const parts = [days > 0 ? `${days}d` : '', h > 0 ? `${h}h` : '', m > 0 ? `${m}m` : '', s > 0 ? `${s}s` : ''].join('');
  return parts === '' ? '0s' : parts;
}

/** Expirations are durations from `now`, the moment of export. */
export function renderCrowdsec(rows: readonly ExportRow[], now: Date): string {
  return lines([
    'value,expiration,comment',
    ...rows.map((r) => {
      const expiration = r.expiresAt === null ? '' : crowdsecDuration(Date.parse(r.expiresAt) - now.getTime());
      return [r.prefix.toString(), expiration, r.label].map(csvField).join(',');
    }),
  ]);
}
