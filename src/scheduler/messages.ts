// The scheduler's words, in Kubernetes' own phrasing so `kubectl describe pod` reads as people expect.
import type { Taint } from '../api/model/types.ts';

/** Filter failure reasons (the per-node texts counted in a FitError). */
export const REASON = {
  notReady: 'node(s) were not ready',
  unschedulable: 'node(s) were unschedulable',
  tooManyPods: 'Too many pods',
  cpu: 'Insufficient cpu',
  memory: 'Insufficient memory',
  selector: "node(s) didn't match Pod's node affinity/selector",
  brand: (brand: string): string => `node(s) didn't support zone brand "${brand}"`,
  noBrands: 'node(s) offered no zone brand',
  taint: (t: Taint): string => `node(s) had untolerated taint {${t.key}: ${t.value ?? ''}}`,
} as const;

/** Kubernetes' ErrNoNodesAvailable. */
export const NO_NODES_MESSAGE = 'no nodes available to schedule pods';

/**
 * Kubernetes' FitError text: "0/3 nodes are available: 1 Insufficient cpu, 2 node(s) didn't match
 * Pod's node affinity/selector." — "<count> <reason>" strings sorted as strings, as upstream does.
 * A pod-level reason (Kubernetes' PreFilter message) replaces the per-node histogram.
 */
export function fitErrorMessage(nodes: number, reasons: ReadonlyMap<string, number>, podReason?: string): string {
  let msg = `0/${nodes} nodes are available:`;
  if (podReason !== undefined) return `${msg} ${podReason}.`;
  const parts = [...reasons].map(([reason, count]) => `${count} ${reason}`).sort();
  if (parts.length > 0) msg += ` ${parts.join(', ')}.`;
  return msg;
}

/** The Normal `Scheduled` event's message. */
export const scheduledMessage = (namespace: string, name: string, node: string): string => `Successfully assigned ${namespace}/${name} to ${node}`;

/** A FailedScheduling message for a bind the API refused for a reason other than a race. */
export const bindRejectedMessage = (why: string): string => `Binding rejected: ${why}`;
