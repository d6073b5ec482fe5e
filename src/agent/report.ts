// What the agent writes for a pod: the status document of each machine state, and core/v1 Events
// so `kubectl describe pod` tells the pod's story.
import type { PodEventRecord, PodReport } from '../../machines/pod.ts';
import type { Condition, Container, CoreEvent, Pod, PodStatus } from '../api/model/types.ts';
import type { ContainerRuntimeStatus } from '../runtime/runtime.ts';
import { rfc3339 } from '../store/time.ts';

/** What the agent knows of one container beside the machine's report: the supervisor's word and its image. */
export interface ContainerFacts {
  runtime?: ContainerRuntimeStatus;
  /** The manifest digest it runs (`containerStatuses[].imageID`). */
  imageID?: string;
}

export interface StatusExtras {
  podIP?: string;
  hostIP?: string;
  /** Zone restarts (the machine's count); a container's own restarts come from the supervisor. */
  restartCount: number;
  now: number;
  containers?: ReadonlyMap<string, ContainerFacts>;
}

/**
 * The pod status for a machine report, keeping what the report does not own. Each container's
 * state is the supervisor's when it has one (running, CrashLoopBackOff, terminated with its exit
 * code), else what the pod's state implies; the pod is Ready when the zone runs and every
 * container does.
 */
export function statusFor(pod: Pod, r: PodReport, extra: StatusExtras): PodStatus {
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
  const facts = extra.containers ?? new Map<string, ContainerFacts>();
  const zoneUp = r.phase === 'Running' && r.ready;
  const notUp = r.reason ?? 'ContainerCreating';
  const inits = (pod.spec.initContainers ?? []).map((c) => containerStatus(c, facts.get(c.name), r, false, extra.restartCount, old.startTime ?? t, t, zoneUp ? 'PodInitializing' : notUp));
  const initialized = inits.every((s) => isCompleted(s));
  const apps = pod.spec.containers.map((c) => containerStatus(c, facts.get(c.name), r, zoneUp && initialized, extra.restartCount, old.startTime ?? t, t, !zoneUp ? notUp : 'PodInitializing'));
  const notReady = apps.filter((s) => !s.ready).map((s) => s.name);
  const ready = zoneUp && initialized && notReady.length === 0;
  const why = !zoneUp ? { reason: r.reason, message: r.message } : { reason: 'ContainersNotReady', message: `containers with unready status: [${notReady.join(' ')}]` };
  const scheduled = old.conditions?.find((c) => c.type === 'PodScheduled') ?? { type: 'PodScheduled', status: 'True', lastTransitionTime: t };
  const status: PodStatus = {
    ...old,
    phase: r.phase,
    conditions: [
      cond('Initialized', initialized, initialized ? undefined : 'ContainersNotInitialized', initialized ? undefined : `containers with incomplete status: [${inits.filter((s) => !isCompleted(s)).map((s) => s.name).join(' ')}]`),
      cond('Ready', ready, ready ? undefined : why.reason, ready ? undefined : why.message),
      cond('ContainersReady', ready, ready ? undefined : why.reason, ready ? undefined : why.message),
      scheduled,
    ],
    containerStatuses: apps,
  };
  if (inits.length > 0) status['initContainerStatuses'] = inits;
  else delete status['initContainerStatuses'];
  if (r.reason && r.phase === 'Failed') {
    status.reason = r.reason;
    status.message = r.message;
  } else {
    delete status.reason;
    delete status.message;
  }
  if (r.phase === 'Running' && !old.startTime) status.startTime = t;
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

type ContainerStatus = Record<string, unknown> & { name: string; ready: boolean; state: Record<string, unknown> };

const isCompleted = (s: ContainerStatus): boolean => (s.state['terminated'] as { exitCode?: number } | undefined)?.exitCode === 0;

/** One entry of containerStatuses / initContainerStatuses, as kubelet writes it. */
function containerStatus(c: Container, f: ContainerFacts | undefined, r: PodReport, canRun: boolean, zoneRestarts: number, podStart: string, now: string, waitingReason: string): ContainerStatus {
  const rt = f?.runtime;
  const base = { name: c.name, image: c.image ?? '', imageID: f?.imageID ?? '' };
  if (!rt) {
    // No supervisor word (not started, the mock runtime, a supervisor yet to report): the pod's state.
    const ended = r.phase === 'Failed' || r.phase === 'Succeeded';
    let state: Record<string, unknown>;
    if (ended) state = { terminated: { exitCode: r.phase === 'Succeeded' ? 0 : 1, reason: r.phase === 'Succeeded' ? 'Completed' : r.reason ?? 'Error', message: r.message ?? '', finishedAt: now } };
    else if (canRun) state = { running: { startedAt: podStart } };
    else {
      const waiting: Record<string, string> = { reason: waitingReason };
      if (r.message && !['ContainerCreating', 'PodInitializing'].includes(waitingReason)) waiting['message'] = r.message;
      state = { waiting };
    }
    return { ...base, ready: canRun && !ended, started: canRun && !ended, restartCount: zoneRestarts, state };
  }
  const out: ContainerStatus = { ...base, ready: false, started: rt.state === 'running', restartCount: rt.restartCount, state: {} };
  if (rt.state === 'running') {
    out.state = { running: { startedAt: rt.startedAt ?? podStart } };
    out.ready = r.phase === 'Running';
  } else if (rt.state === 'terminated') {
    out.state = { terminated: terminated(rt.exitCode ?? 0, rt.signal ?? 0, rt.reason, rt.startedAt, rt.finishedAt, rt.message) };
  } else {
    const waiting: Record<string, string> = { reason: rt.reason ?? 'ContainerCreating' };
    if (rt.message) waiting['message'] = rt.message;
    out.state = { waiting };
  }
  if (rt.last) out['lastState'] = { terminated: terminated(rt.last.exitCode, rt.last.signal, rt.last.reason, rt.last.startedAt, rt.last.finishedAt) };
  else out['lastState'] = {};
  return out;
}

function terminated(exitCode: number, signal: number, reason: string | undefined, startedAt?: string, finishedAt?: string, message?: string): Record<string, unknown> {
  const t: Record<string, unknown> = { exitCode, reason: reason ?? (exitCode === 0 ? 'Completed' : 'Error') };
  if (signal) t['signal'] = signal;
  if (message) t['message'] = message;
  if (startedAt) t['startedAt'] = startedAt;
  if (finishedAt) t['finishedAt'] = finishedAt;
  return t;
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
