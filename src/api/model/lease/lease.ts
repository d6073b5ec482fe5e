// The Lease kind (coordination.k8s.io/v1) and the node heartbeat conventions built on it: each
// node agent holds a Lease named after its node in kube-node-lease and renews it (kubelet since 1.17).
import type { KubeObject } from '../types.ts';

/** The namespace of node Leases (Kubernetes' api.NamespaceNodeLease), created at startup. */
export const NODE_LEASE_NAMESPACE = 'kube-node-lease';

/** How long a node Lease is valid without renewal (kubelet's --node-lease-duration-seconds). */
export const NODE_LEASE_DURATION_SECONDS = 40;

export interface LeaseSpec {
  holderIdentity?: string;
  leaseDurationSeconds?: number;
  /** MicroTime: `2026-12-03T10:00:00.000000Z`. */
  acquireTime?: string;
  /** MicroTime: `2026-12-03T10:00:00.000000Z`. */
  renewTime?: string;
  leaseTransitions?: number;
  strategy?: string;
  preferredHolder?: string;
}

export interface Lease extends KubeObject {
  spec?: LeaseSpec & Record<string, unknown>;
}

/** `2026-12-03T10:00:00.123000Z` for a time in ms: metav1.MicroTime's wire form (RFC 3339, 6 fraction digits, UTC). */
export function microTime(ms: number): string {
  return new Date(ms).toISOString().replace(/(\.\d{3})Z$/, '$1000Z');
}

// Go parses MicroTime with the layout 2006-01-02T15:04:05.000000Z07:00: exactly six fraction digits.
const MICRO_TIME_RE = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})\.(\d{6})(Z|[+-]\d{2}:\d{2})$/;

/** The ms of a MicroTime string, or undefined when it is not one. Sub-millisecond digits are dropped. */
export function parseMicroTime(s: string): number | undefined {
  const m = MICRO_TIME_RE.exec(s);
  if (!m) return undefined;
  const [, y, mo, d, h, mi, sec, frac, zone] = m as unknown as [string, string, string, string, string, string, string, string, string];
  if (Number(mo) < 1 || Number(mo) > 12 || Number(d) < 1 || Number(d) > 31 || Number(h) > 23 || Number(mi) > 59 || Number(sec) > 59) return undefined;
  const ms = Date.parse(`${y}-${mo}-${d}T${h}:${mi}:${sec}.${frac.slice(0, 3)}${zone}`);
  return Number.isNaN(ms) ? undefined : ms;
}

/** The renewTime of a Lease in ms, or undefined when it has none. */
export function renewedAt(lease: Lease): number | undefined {
  const t = lease.spec?.renewTime;
  return typeof t === 'string' ? parseMicroTime(t) : undefined;
}
