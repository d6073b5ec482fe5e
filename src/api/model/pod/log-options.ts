// PodLogOptions from a pods/log (or node API containerLogs) query, checked as kube-apiserver's
// validation does (ValidatePodLogOptions).
import { badRequest, invalid } from '../status.ts';
import type { StatusCause } from '../status.ts';

export interface PodLogOptions {
  container?: string;
  follow?: boolean;
  previous?: boolean;
  sinceSeconds?: number;
  sinceTime?: string;
  timestamps?: boolean;
  tailLines?: number;
  limitBytes?: number;
  insecureSkipTLSVerifyBackend?: boolean;
}

const TRUE = ['1', 't', 'T', 'true', 'TRUE', 'True'];
const FALSE = ['0', 'f', 'F', 'false', 'FALSE', 'False'];
const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?(?:Z|[+-]\d{2}:\d{2})$/;

function bool(q: URLSearchParams, name: string): boolean | undefined {
  const v = q.get(name);
  if (v === null || v === '') return undefined;
  if (TRUE.includes(v)) return true;
  if (FALSE.includes(v)) return false;
  throw badRequest(`invalid value for ${name}: ${JSON.stringify(v)} is not a boolean`);
}

function int(q: URLSearchParams, name: string): number | undefined {
  const v = q.get(name);
  if (v === null || v === '') return undefined;
  if (!/^-?\d{1,15}$/.test(v)) throw badRequest(`invalid value for ${name}: ${JSON.stringify(v)} is not an integer`);
  return Number(v);
}

/** The options of a log request; 400 for values that do not parse, 422 for values out of range. */
export function parseLogOptions(q: URLSearchParams): PodLogOptions {
  const o: PodLogOptions = {};
  const container = q.get('container');
  if (container) o.container = container;
  for (const k of ['follow', 'previous', 'timestamps', 'insecureSkipTLSVerifyBackend'] as const) {
    const b = bool(q, k);
    if (b !== undefined) o[k] = b;
  }
  for (const k of ['sinceSeconds', 'tailLines', 'limitBytes'] as const) {
    const n = int(q, k);
    if (n !== undefined) o[k] = n;
  }
  const since = q.get('sinceTime');
  if (since !== null && since !== '') {
    if (!RFC3339.test(since) || Number.isNaN(Date.parse(since))) throw badRequest(`invalid value for sinceTime: ${JSON.stringify(since)} is not an RFC 3339 time`);
    o.sinceTime = since;
  }
  const causes: StatusCause[] = [];
  if (o.tailLines !== undefined && o.tailLines < 0) causes.push({ reason: 'FieldValueInvalid', field: 'tailLines', message: `Invalid value: ${o.tailLines}: must be greater than or equal to 0` });
  if (o.limitBytes !== undefined && o.limitBytes < 1) causes.push({ reason: 'FieldValueInvalid', field: 'limitBytes', message: `Invalid value: ${o.limitBytes}: must be greater than 0` });
  if (o.sinceSeconds !== undefined && o.sinceSeconds < 1) causes.push({ reason: 'FieldValueInvalid', field: 'sinceSeconds', message: `Invalid value: ${o.sinceSeconds}: must be greater than 0` });
  if (o.sinceSeconds !== undefined && o.sinceTime !== undefined) causes.push({ reason: 'FieldValueForbidden', field: '', message: 'Forbidden: at most one of `sinceTime` or `sinceSeconds` may be specified' });
  if (causes.length > 0) throw invalid('PodLogOptions', '', causes);
  return o;
}

/** The options as query parameters again (what the API server sends on to the node). */
export function logOptionsQuery(o: PodLogOptions): URLSearchParams {
  const q = new URLSearchParams();
  for (const k of ['follow', 'previous', 'timestamps'] as const) if (o[k]) q.set(k, 'true');
  for (const k of ['sinceSeconds', 'tailLines', 'limitBytes'] as const) if (o[k] !== undefined) q.set(k, String(o[k]));
  if (o.sinceTime !== undefined) q.set('sinceTime', o.sinceTime);
  return q;
}
