// The pod's PodScheduled condition as the scheduler reports it: False/Unschedulable with the
// FitError text while no node fits (True is written by the binding itself, src/api/model/pod/binding.ts).
import type { Condition, Pod } from '../api/model/types.ts';
import type { Client } from '../client/client.ts';
import { setCondition } from '../api/model/pod/binding.ts';
import { isConflict, isNotFound } from './errors.ts';

/** What became of a status write. */
export type StatusOutcome = 'written' | 'unchanged' | 'conflict' | 'gone';

/** The PodScheduled=False condition for `message`. */
export function unschedulableCondition(message: string, now: string): Condition {
  return { type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message, lastProbeTime: null, lastTransitionTime: now };
}

/**
 * Sets PodScheduled=False/Unschedulable on the version of the pod the decision was made for; a pod
 * that changed meanwhile is left alone (its next attempt writes again), and an unchanged condition
 * is not rewritten, so retries do not churn resourceVersions.
 */
export async function markUnschedulable(client: Client, pod: Pod, message: string, now: string): Promise<StatusOutcome> {
  const current = pod.status?.conditions?.find((c) => c.type === 'PodScheduled');
  if (current?.status === 'False' && current.reason === 'Unschedulable' && current.message === message) return 'unchanged';
  const next: Pod = { ...pod, status: { ...pod.status, conditions: setCondition(pod.status?.conditions, unschedulableCondition(message, now)) } };
  try {
    await client.updateStatus('pods', next);
    return 'written';
  } catch (e) {
    if (isConflict(e)) return 'conflict';
    if (isNotFound(e)) return 'gone';
    throw e;
  }
}
