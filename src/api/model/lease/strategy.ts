// Lease policy (coordination.k8s.io/v1): a spec and no status, no generation. Fields of the wrong
// type and MicroTimes not in Go's layout are decode errors (BadRequest), as kube-apiserver answers them;
// times are stored in UTC, as the apiserver re-encodes them.
import { StoreError } from '../errors.ts';
import type { Strategy } from '../strategy.ts';
import type { KubeObject } from '../types.ts';
import { microTime, parseMicroTime } from './lease.ts';
import { validateLease } from './validation.ts';

const cannot = (why: string): Error => new StoreError('BadRequest', 'leases', '', `Lease in version "v1" cannot be handled as a Lease: ${why}`);
const unmarshal = (value: unknown, field: string, goType: string): Error =>
  cannot(`json: cannot unmarshal ${jsonType(value)} into Go struct field LeaseSpec.spec.${field} of type ${goType}`);

function jsonType(v: unknown): string {
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'object') return 'object';
  return typeof v === 'boolean' ? 'bool' : typeof v;
}

const STRINGS = ['holderIdentity', 'strategy', 'preferredHolder'] as const;
const INT32S = ['leaseDurationSeconds', 'leaseTransitions'] as const;
const MICRO_TIMES = ['acquireTime', 'renewTime'] as const;

/** Checks the spec's field types and MicroTimes (refuses with BadRequest) and normalises the times to UTC. */
export function decodeLeaseSpec(lease: KubeObject): void {
  const spec = lease.spec as unknown;
  if (spec === undefined || spec === null) return;
  if (typeof spec !== 'object' || Array.isArray(spec)) throw cannot(`json: cannot unmarshal ${jsonType(spec)} into Go struct field Lease.spec of type v1.LeaseSpec`);
  const s = spec as Record<string, unknown>;
  for (const f of STRINGS) if (s[f] !== undefined && s[f] !== null && typeof s[f] !== 'string') throw unmarshal(s[f], f, 'string');
  for (const f of INT32S) {
    const v = s[f];
    if (v === undefined || v === null) continue;
    if (typeof v !== 'number') throw unmarshal(v, f, 'int32');
    if (!Number.isInteger(v) || v < -(2 ** 31) || v >= 2 ** 31) throw unmarshal(v, f, 'int32');
  }
  for (const f of MICRO_TIMES) {
    const v = s[f];
    if (v === undefined || v === null) continue;
    if (typeof v !== 'string') throw unmarshal(v, f, 'v1.MicroTime');
    const ms = parseMicroTime(v);
    if (ms === undefined) throw cannot(`parsing time ${JSON.stringify(v)} as "2006-01-02T15:04:05.000000Z07:00": cannot parse ${JSON.stringify(v)} as a MicroTime (spec.${f})`);
    // Keep the microseconds a client sent; only the zone is normalised.
    s[f] = v.endsWith('Z') ? v : `${microTime(ms).slice(0, 20)}${v.slice(20, 26)}Z`;
  }
}

export const leaseStrategy: Strategy = {
  tracksGeneration: false,
  prepareForCreate: decodeLeaseSpec,
  prepareForUpdate: (next) => decodeLeaseSpec(next),
  prepareForStatusUpdate() {},
  validate: validateLease,
};
