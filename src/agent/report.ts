// What the agent writes for a pod: the status document of each machine state, and core/v1 Events
// so `kubectl describe pod` tells the pod's story.
import type { PodEventRecord, PodReport } from '../../machines/pod.ts';
import type { Condition, CoreEvent, Pod, PodStatus } from '../api/types.ts';
import { rfc3339 } from '../store/time.ts';

/** The pod status for a machine report, keeping what the report does not own. */
export function statusFor(pod: Pod, r: PodReport, extra: { podIP?: string; hostIP?: string; restartCount: number; now: number }): PodStatus {
  const t = rfc3339(extra.now);
  const old = pod.status ?? {};
  const cond = (type: string, status: boolean, reason?: string, message?: string): Condition => {
    const prev = old.conditions?.find((c) => c.type === type);
    const s = status ? 'True' : 'False';
    const c: Condition = { type, status: s, lastProbeTime: null, lastTransitionTime: prev && prev.status === s && prev.lastTransitionTime ? prev.lastTransitionTime : t };
    if (reason) c.reason = reason;
    if (message) c.message = message;
    return c;
  };
  const running = r.phase === 'Running';
  const scheduled = old.conditions?.find((c) => c.type === 'PodScheduled') ?? { type: 'PodScheduled', status: 'True', lastTransitionTime: t };
  const status: PodStatus = {
    ...old,
    phase: r.phase,
    conditions: [
      cond('Initialized', true),
      cond('Ready', r.ready, r.ready ? undefined : r.reason, r.ready ? undefined : r.message),
      cond('ContainersReady', r.ready, r.ready ? undefined : r.reason, r.ready ? undefined : r.message),
      scheduled,
    ],
    containerStatuses: pod.spec.containers.map((c) => ({
      name: c.name,
      image: c.image ?? '',
      imageID: '',
      ready: r.ready,
      started: running,
      restartCount: extra.restartCount,
      state: running && r.ready
        ? { running: { startedAt: old.startTime ?? t } }
        : r.phase === 'Failed'
          ? { terminated: { exitCode: 1, reason: r.reason ?? 'Error', message: r.message ?? '', finishedAt: t } }
          : { waiting: { reason: r.reason ?? 'ContainerCreating', message: r.message ?? '' } },
    })),
  };
  if (r.reason && !r.ready && r.phase === 'Failed') {
    status.reason = r.reason;
    status.message = r.message;
  } else {
    delete status.reason;
    delete status.message;
  }
  if (running && !old.startTime) status.startTime = t;
  if (extra.podIP) {
    status.podIP = extra.podIP;
    status.podIPs = [{ ip: extra.podIP }];
  }
  if (extra.hostIP) {
    status.hostIP = extra.hostIP;
    status.hostIPs = [{ ip: extra.hostIP }];
  }
  return status;
}

/** A core/v1 Event about `pod`, reported by the agent of `node`. */
export function eventFor(pod: Pod, e: PodEventRecord, node: string, now: number): CoreEvent {
  const t = rfc3339(now);
  return {
    apiVersion: 'v1',
    kind: 'Event',
    // Named as Kubernetes names them: <object>.<unix nanoseconds in hex>.
    metadata: { name: `${pod.metadata.name}.${eventSuffix(now)}`, namespace: pod.metadata.namespace },
    involvedObject: { apiVersion: 'v1', kind: 'Pod', namespace: pod.metadata.namespace, name: pod.metadata.name, uid: pod.metadata.uid },
    reason: e.reason,
    message: e.message,
    type: e.type ?? 'Normal',
    source: { component: 'reddwarf-agent', host: node },
    reportingComponent: 'reddwarf-agent',
    reportingInstance: node,
    firstTimestamp: t,
    lastTimestamp: t,
    count: 1,
  };
}

let lastSuffix = 0n;

/** A unique, increasing hex suffix from the time (two events in one ms still differ). */
function eventSuffix(now: number): string {
  let n = BigInt(Math.floor(now)) * 1_000_000n;
  if (n <= lastSuffix) n = lastSuffix + 1n;
  lastSuffix = n;
  return n.toString(16);
}
