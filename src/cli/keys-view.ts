/** How keys are shown: the JSON of `keys list` and the once-only secret of create and rotate. */
import {KeyRecord} from '../core/model.js';
import {paint} from './render.js';

export function keyJson(k: KeyRecord) {
  return {
    name: k.name,
    type: k.type,
    hint: k.hint,
    status: k.status,
    createdAt: k.createdAt,
    rotatedAt: k.rotatedAt,
    allow: k.allow.map((r) => r.entry),
  };
}

/** The only place a secret is ever printed: stdout, once, with a warning on stderr. */
export async function renderSecret(k: KeyRecord, secret: string, verb: 'created' | 'rotated'): Promise<string> {
  const c = await paint(process.stderr);
  process.stderr.write(`${c.green(`key ${k.name} (${k.type}) ${verb}`)}; its secret is shown this once and cannot be recovered:\n`);
  return secret;
}
