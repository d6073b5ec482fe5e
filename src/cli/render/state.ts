// What reddwarf says a pod is doing, from what the agent writes (src/agent/report.ts):
// Pending → Provisioning → Running, or ErrImagePull / ImagePullBackOff, CrashLoopBackOff, Failed,
// Succeeded, Terminating.
import type { Pod } from '../../api/model/types.ts';
import { zoneName } from '../../api/model/zone-names.ts';

export type PodState = 'Pending' | 'Provisioning' | 'ErrImagePull' | 'ImagePullBackOff' | 'Running' | 'CrashLoopBackOff' | 'Failed' | 'Succeeded' | 'Terminating';

const waitingReasons = (pod: Pod): string[] =>
  (pod.status?.containerStatuses ?? []).map((c) => (c.state as { waiting?: { reason?: string } } | undefined)?.waiting?.reason ?? '').filter(Boolean);

const readyCondition = (pod: Pod) => pod.status?.conditions?.find((c) => c.type === 'Ready');

/** The pod's state. */
export function podState(pod: Pod): PodState {
  if (pod.metadata.deletionTimestamp) return 'Terminating';
  const phase = pod.status?.phase;
  if (phase === 'Failed') return 'Failed';
  if (phase === 'Succeeded') return 'Succeeded';
  const reasons = [readyCondition(pod)?.reason ?? '', ...waitingReasons(pod)];
  if (reasons.includes('CrashLoopBackOff')) return 'CrashLoopBackOff';
  if (phase === 'Running') return 'Running';
  if (!pod.spec.nodeName) return 'Pending';
  for (const r of ['ImagePullBackOff', 'ErrImagePull'] as const) if (reasons.includes(r)) return r;
  // The agent's first word on a bound pod: its images are pulled and its zone made (kubelet's ContainerCreating).
  if (reasons.includes('ContainerCreating') || reasons.includes('Provisioning')) return 'Provisioning';
  return 'Pending';
}

/** Why the pod is not running, when the agent said. */
export function podReason(pod: Pod): string {
  const s = pod.status;
  if (s?.reason || s?.message) return [s.reason, s.message].filter(Boolean).join(': ');
  const ready = readyCondition(pod);
  if (ready && ready.status !== 'True' && (ready.reason || ready.message)) return [ready.reason, ready.message].filter(Boolean).join(': ');
  return '';
}

/** The zone that runs (or will run) the pod. */
export function podZone(pod: Pod): string {
  return zoneName(pod.metadata.namespace ?? 'default', pod.metadata.name ?? '');
}

/** Total restarts over the pod's containers. */
export function podRestarts(pod: Pod): number {
  return (pod.status?.containerStatuses ?? []).reduce((n, c) => n + (typeof c.restartCount === 'number' ? c.restartCount : 0), 0);
}
