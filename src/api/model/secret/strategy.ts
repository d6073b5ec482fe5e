// Secret policy: `stringData` is folded into `data` on every write (as kube-apiserver's v1
// conversion does) and never stored; `type` defaults to Opaque; no status, no generation.
import { StoreError } from '../errors.ts';
import type { Strategy } from '../strategy.ts';
import type { KubeObject } from '../types.ts';
import { SECRET_TYPES, validateSecret, validateSecretUpdate } from './validation.ts';

// Go's encoding/json decodes []byte with base64.StdEncoding: padded, standard alphabet; it skips \r and \n.
const BASE64_RE = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

const cannot = (why: string): Error => new StoreError('BadRequest', 'secrets', '', `Secret in version "v1" cannot be handled as a Secret: ${why}`);

/**
 * Checks `data` is a map of base64 strings and merges `stringData` into it (stringData wins on a
 * shared key). Refuses (BadRequest) as kube-apiserver's decoder does.
 */
export function foldStringData(secret: KubeObject): void {
  const data = secret.data ?? {};
  if (typeof data !== 'object' || data === null || Array.isArray(data)) throw cannot('data must be a map of keys to base64 strings');
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(data as Record<string, unknown>)) {
    if (v === null) continue;
    if (typeof v !== 'string') throw cannot(`data[${k}] must be a base64 string`);
    const clean = v.replace(/[\r\n]/g, '');
    if (!BASE64_RE.test(clean)) throw cannot(`illegal base64 data in data[${k}]`);
    out[k] = clean;
  }
  const stringData = secret.stringData;
  if (stringData !== undefined && stringData !== null) {
    if (typeof stringData !== 'object' || Array.isArray(stringData)) throw cannot('stringData must be a map of keys to strings');
    for (const [k, v] of Object.entries(stringData as Record<string, unknown>)) {
      if (typeof v !== 'string') throw cannot(`stringData[${k}] must be a string`);
      out[k] = Buffer.from(v, 'utf8').toString('base64');
    }
  }
  delete secret.stringData;
  if (Object.keys(out).length > 0) secret.data = out;
  else delete secret.data;
  if (secret.type === undefined || secret.type === null || secret.type === '') secret.type = SECRET_TYPES.opaque;
}

export const secretStrategy: Strategy = {
  tracksGeneration: false,
  prepareForCreate: foldStringData,
  prepareForUpdate: (next) => foldStringData(next),
  prepareForStatusUpdate() {},
  validate: validateSecret,
  validateUpdate: validateSecretUpdate,
};
