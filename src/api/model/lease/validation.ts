// Lease validation in kube-apiserver's wording (pkg/apis/coordination/validation).
import { cause, type StatusCause } from '../status.ts';
import type { KubeObject } from '../types.ts';
import { validateObjectMeta } from '../validation.ts';

type Rec = Record<string, unknown>;
const isRecord = (v: unknown): v is Rec => v !== null && typeof v === 'object' && !Array.isArray(v);

/** Causes for a Lease: a subdomain name, leaseDurationSeconds > 0, leaseTransitions ≥ 0, preferredHolder only with a strategy. */
export function validateLease(lease: KubeObject): StatusCause[] {
  const causes = validateObjectMeta(lease.metadata, true, 'subdomain');
  const spec = lease.spec;
  if (!isRecord(spec)) return causes;
  const duration = spec.leaseDurationSeconds;
  if (typeof duration === 'number' && duration <= 0) causes.push(cause.invalid('spec.leaseDurationSeconds', duration, 'must be greater than 0'));
  const transitions = spec.leaseTransitions;
  if (typeof transitions === 'number' && transitions < 0) causes.push(cause.invalid('spec.leaseTransitions', transitions, 'must be greater than or equal to 0'));
  const { strategy, preferredHolder } = spec;
  if (typeof strategy === 'string' && strategy !== '' && strategy !== 'OldestEmulationVersion') {
    causes.push(cause.notSupported('spec.strategy', strategy, ['OldestEmulationVersion']));
  }
  if (typeof preferredHolder === 'string' && preferredHolder !== '' && !(typeof strategy === 'string' && strategy !== '')) {
    causes.push(cause.forbidden('spec.preferredHolder', 'may only be specified if `strategy` is defined'));
  }
  return causes;
}
