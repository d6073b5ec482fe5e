// Query-string parameters of list, watch and write requests, checked as kube-apiserver checks them.
import { badRequest, invalid, cause } from '../api/model/status.ts';
import type { DeleteOptions } from '../api/model/types.ts';

/** An optional non-negative integer parameter; anything else is 400. */
export function intParam(q: URLSearchParams, name: string): number | undefined {
  const v = q.get(name);
  if (v === null || v === '') return undefined;
  if (!/^\d{1,15}$/.test(v)) throw badRequest(`invalid value for ${name}: ${JSON.stringify(v)} is not a non-negative integer`);
  return Number(v);
}

/** A boolean parameter as Go's strconv.ParseBool reads it. */
export function boolParam(q: URLSearchParams, name: string): boolean | undefined {
  const v = q.get(name);
  if (v === null || v === '') return undefined;
  if (['1', 't', 'T', 'true', 'TRUE', 'True'].includes(v)) return true;
  if (['0', 'f', 'F', 'false', 'FALSE', 'False'].includes(v)) return false;
  throw badRequest(`invalid value for ${name}: ${JSON.stringify(v)} is not a boolean`);
}

/** resourceVersion as the store's revision number: digits only (an opaque string to clients). */
export function revisionParam(q: URLSearchParams): number | undefined {
  const v = q.get('resourceVersion');
  if (v === null || v === '') return undefined;
  if (!/^\d{1,15}$/.test(v)) throw invalid('ListOptions', '', [cause.invalid('resourceVersion', v, 'must be a non-negative integer')], 'meta.k8s.io');
  return Number(v);
}

/** `dryRun=All` turns a write into a full check that stores nothing. */
export function dryRunParam(q: URLSearchParams): boolean {
  const values = q.getAll('dryRun');
  for (const v of values) if (v !== 'All') throw badRequest(`dryRun: Unsupported value: "${v}": supported values: "All"`);
  return values.length > 0;
}

export type FieldValidation = 'Strict' | 'Warn' | 'Ignore';

/** fieldValidation, defaulting to Warn as kube-apiserver does. */
export function fieldValidationParam(q: URLSearchParams): FieldValidation {
  const v = q.get('fieldValidation');
  if (v === null || v === '') return 'Warn';
  if (v === 'Strict' || v === 'Warn' || v === 'Ignore') return v;
  throw badRequest(`fieldValidation: Unsupported value: "${v}": supported values: "Ignore", "Strict", "Warn"`);
}

/** Merges DeleteOptions from a JSON body (if any) with the query-parameter form. */
export function deleteOptions(q: URLSearchParams, body: unknown): DeleteOptions {
  const opts: DeleteOptions = {};
  if (body !== undefined) {
    if (body === null || typeof body !== 'object' || Array.isArray(body)) throw badRequest('DeleteOptions must be a JSON object');
    const b = body as Record<string, unknown>;
    if (b.kind !== undefined && b.kind !== 'DeleteOptions') throw badRequest(`expected a DeleteOptions body, got kind ${JSON.stringify(b.kind)}`);
    if (b.gracePeriodSeconds !== undefined && b.gracePeriodSeconds !== null) {
      if (typeof b.gracePeriodSeconds !== 'number' || !Number.isInteger(b.gracePeriodSeconds)) throw badRequest('gracePeriodSeconds must be an integer');
      opts.gracePeriodSeconds = b.gracePeriodSeconds;
    }
    if (b.preconditions !== undefined && b.preconditions !== null) {
      const p = b.preconditions as Record<string, unknown>;
      if (typeof p !== 'object' || (p.uid !== undefined && typeof p.uid !== 'string') || (p.resourceVersion !== undefined && typeof p.resourceVersion !== 'string')) {
        throw badRequest('preconditions must hold string uid and resourceVersion');
      }
      opts.preconditions = { ...(p.uid ? { uid: p.uid as string } : {}), ...(p.resourceVersion ? { resourceVersion: p.resourceVersion as string } : {}) };
    }
    if (typeof b.propagationPolicy === 'string') opts.propagationPolicy = b.propagationPolicy;
    if (Array.isArray(b.dryRun)) opts.dryRun = b.dryRun.map(String);
  }
  const grace = q.get('gracePeriodSeconds');
  if (grace !== null && grace !== '') {
    if (!/^-?\d{1,9}$/.test(grace)) throw badRequest(`invalid value for gracePeriodSeconds: ${JSON.stringify(grace)}`);
    opts.gracePeriodSeconds = Number(grace);
  }
  const policy = q.get('propagationPolicy');
  if (policy) opts.propagationPolicy = policy;
  if (opts.propagationPolicy !== undefined && !['Orphan', 'Background', 'Foreground'].includes(opts.propagationPolicy)) {
    throw badRequest(`propagationPolicy: Unsupported value: "${opts.propagationPolicy}": supported values: "Background", "Foreground", "Orphan"`);
  }
  return opts;
}
