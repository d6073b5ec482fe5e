// The scheduling loop: pods without a node come in through the pods informer, wait in the queue, are
// placed against the in-memory view, assumed there (so the next decision sees them) and bound
// through pods/binding without waiting; a pod that fits nowhere is marked Unschedulable, gets a
// FailedScheduling event and backs off until its timer ends or the cluster changes.
import { hostname } from 'node:os';
import type { Node, Pod } from '../api/model/types.ts';
import type { Client, ClientWatchEvent } from '../client/client.ts';
import { startInformer } from '../client/informer.ts';
import { rfc3339 } from '../store/time.ts';
import { realClock, type Clock } from '../time/clock.ts';
import { markUnschedulable } from './conditions.ts';
import { isConflict, isNotFound } from './errors.ts';
import { podFacts, podKey, type PodFacts } from './facts.ts';
import { bindRejectedMessage, scheduledMessage } from './messages.ts';
import { feasibleNodesToFind, place } from './placement.ts';
import { DEFAULT_BACKOFF, SchedulingQueue, type BackoffOptions } from './queue.ts';
import { EventRecorder } from './recorder.ts';
import { createView, holdsResources, type View } from './view.ts';

/** The name pods without `spec.schedulerName` are meant for. */
export const DEFAULT_SCHEDULER_NAME = 'default-scheduler';

/** How to start the scheduling loop. */
export interface SchedulerOptions {
  /** The only way the scheduler reads and writes: in-process or remote, it cannot tell. */
  client: Client;
  /** Backoff timers and event timestamps; tests pass a simulated clock. */
  clock?: Clock;
  log?: (m: string) => void;
  /** Pods whose spec.schedulerName names another scheduler are left alone. */
  schedulerName?: string;
  backoff?: BackoffOptions;
  /** Binds in flight at once; decisions pause beyond it. */
  maxInflight?: number;
  /**
   * Kubernetes' percentageOfNodesToScore: a decision stops once this share of the nodes (at
   * least 100) fit. 0, the default, adapts to the cluster size (all of ≤ 100 nodes, 10% of 5,000);
   * 100 always examines every node.
   */
  percentageOfNodesToScore?: number;
}

/** Counters since start. */
export interface SchedulerStats {
  /** Successful binds. */
  bound: number;
  /** Decisions that found no node. */
  unschedulable: number;
  /** Binds refused because the pod changed, was bound elsewhere or is being deleted. */
  conflicts: number;
  /** Binds whose pod had been deleted. */
  gone: number;
  /** Binds that failed otherwise. */
  errors: number;
  /** Scheduled events dropped because too many were waiting to be written. */
  eventsDropped: number;
}

/** A running scheduling loop. */
export interface Scheduler {
  /** The in-memory view the decisions read. */
  readonly view: View;
  /** Resolves once nodes and pods have been listed and scheduling has started. */
  readonly synced: Promise<void>;
  stats(): SchedulerStats & { queued: number; waiting: number; inflight: number };
  /** Resolves when no pod is active and no write is in flight (pods in backoff may remain). */
  idle(): Promise<void>;
  /** Stops watching and scheduling; resolves when the writes in flight have settled. */
  stop(): Promise<void>;
}

// A decision is pure memory; binding is I/O. Yield to the event loop after this long so watch
// events and bind completions are not starved by a long queue.
const SLICE_MS = 20;
const DEFAULT_MAX_INFLIGHT = 512;

/** Whether this pod waits for this scheduler: no node yet, not terminating, not finished. */
export function wantsScheduling(pod: Pod, schedulerName = DEFAULT_SCHEDULER_NAME): boolean {
  if (!pod.spec || pod.spec.nodeName) return false;
  if (pod.metadata.deletionTimestamp) return false;
  const phase = pod.status?.phase;
  if (phase === 'Succeeded' || phase === 'Failed') return false;
  return ((pod.spec.schedulerName as string | undefined) || DEFAULT_SCHEDULER_NAME) === schedulerName;
}

/** Whether an update could change where the pod fits (anything but status and bookkeeping). */
function relevantChange(prev: Pod, next: Pod): boolean {
  return JSON.stringify(prev.spec) !== JSON.stringify(next.spec)
    || JSON.stringify(prev.metadata.labels) !== JSON.stringify(next.metadata.labels)
    || JSON.stringify(prev.metadata.annotations) !== JSON.stringify(next.metadata.annotations);
}

/**
 * What the informer keeps of a bound pod: the view reads its node, requests and phase; nothing
 * reads the rest, and thousands of bound pods are most of the cache. Pending pods stay whole (a
 * status write sends the whole pod back).
 */
function slimIfBound(pod: Pod): Pod {
  if (!pod.spec?.nodeName) return pod;
  const m = pod.metadata;
  const metadata: Pod['metadata'] = { name: m.name, namespace: m.namespace, uid: m.uid, resourceVersion: m.resourceVersion };
  if (m.deletionTimestamp) metadata.deletionTimestamp = m.deletionTimestamp;
  const slim: Pod = { metadata, spec: { nodeName: pod.spec.nodeName, containers: pod.spec.containers } };
  if (pod.status?.phase) slim.status = { phase: pod.status.phase };
  return slim;
}

const keyOf = (pod: Pod): string => podKey(pod.metadata.namespace ?? '', pod.metadata.name ?? '');

/** Starts scheduling through `opts.client` until stop() is called. */
export function startScheduler(opts: SchedulerOptions): Scheduler {
  const client = opts.client;
  const clock = opts.clock ?? realClock;
  const log = opts.log ?? (() => {});
  const name = opts.schedulerName ?? DEFAULT_SCHEDULER_NAME;
  const maxInflight = opts.maxInflight ?? DEFAULT_MAX_INFLIGHT;
  const view = createView();
  const recorder = new EventRecorder(client, clock, { component: name, instance: `${name}-${hostname()}`, log });
  /** The newest version seen of every pod waiting for a node. */
  const pending = new Map<string, Pod>();
  const stats: Omit<SchedulerStats, 'eventsDropped'> = { bound: 0, unschedulable: 0, conflicts: 0, gone: 0, errors: 0 };
  let stopped = false;
  let started = false;
  let pumpQueued = false;
  let inflight = 0;
  let ops = 0;
  let idleWaiters: (() => void)[] = [];
  /** Where the next decision starts in the node list, so sampled decisions take turns. */
  let nextStart = 0;

  const queue = new SchedulingQueue(clock, () => wake(), opts.backoff ?? DEFAULT_BACKOFF);
  view.on('capacity', () => {
    queue.flush();
  });

  function wake(): void {
    if (pumpQueued || !started || stopped) return;
    pumpQueued = true;
    setImmediate(pump);
  }

  function isIdle(): boolean {
    return !pumpQueued && inflight === 0 && ops === 0 && (stopped || !started || !queue.hasActive());
  }

  function settle(): void {
    if (idleWaiters.length === 0 || !isIdle()) return;
    const waiters = idleWaiters;
    idleWaiters = [];
    for (const w of waiters) w();
  }

  /** Runs a write in the background, counted until it settles; its failures are logged. */
  function track(p: Promise<unknown>, what: string): void {
    ops++;
    p.catch((e: unknown) => log(`scheduler: ${what} failed: ${(e as Error).message}`)).finally(() => {
      ops--;
      settle();
    });
  }

  function pump(): void {
    pumpQueued = false;
    const start = performance.now();
    while (!stopped && inflight < maxInflight) {
      const key = queue.pop();
      if (key === undefined) break;
      scheduleOne(key);
      if (performance.now() - start > SLICE_MS) {
        wake();
        break;
      }
    }
    settle();
  }

  /** Whether the key still belongs to the pod this decision was for (not a successor of the same name). */
  function owns(facts: PodFacts): boolean {
    const current = pending.get(facts.key);
    return current === undefined || current.metadata.uid === facts.uid;
  }

  function drop(key: string): void {
    pending.delete(key);
    queue.remove(key);
    void recorder.forget(key);
  }

  function scheduleOne(key: string): void {
    const pod = pending.get(key);
    if (!pod || !wantsScheduling(pod, name)) return drop(key);
    const facts = podFacts(pod);
    const { nodeList, usageList } = view.getSnapshot().context;
    const enough = feasibleNodesToFind(nodeList.length, opts.percentageOfNodesToScore);
    const decision = place(facts, nodeList, usageList, { start: nextStart, enough });
    nextStart = nodeList.length > 0 ? (nextStart + decision.examined) % nodeList.length : 0;
    if (!decision.fits) return unschedulable(pod, facts, decision.message);
    view.trigger.assumed({ pod: facts, node: decision.node });
    bind(pod, facts, decision.node);
  }

  function unschedulable(pod: Pod, facts: PodFacts, message: string): void {
    stats.unschedulable++;
    const delay = queue.backoff(facts.key);
    if (queue.attempts(facts.key) === 1) log(`scheduler: pod ${facts.key} is unschedulable: ${message} (retrying in ${delay / 1000}s or when the cluster changes)`);
    track(markUnschedulable(client, pod, message, rfc3339(clock.now())), `status of pod ${facts.key}`);
    track(recorder.record(pod, 'Warning', 'FailedScheduling', message), `event for pod ${facts.key}`);
  }

  function bind(pod: Pod, facts: PodFacts, node: string): void {
    inflight++;
    const done = client.bind(facts.namespace, facts.name, { nodeName: node, uid: facts.uid, resourceVersion: facts.resourceVersion }).then(
      () => {
        stats.bound++;
        if (owns(facts)) {
          pending.delete(facts.key);
          queue.remove(facts.key);
        }
        if (stopped) return;
        track(recorder.post(pod, 'Normal', 'Scheduled', scheduledMessage(facts.namespace, facts.name, node)), `event for pod ${facts.key}`);
        void recorder.forget(facts.key);
      },
      (e: unknown) => {
        view.trigger.forgotten({ key: facts.key, uid: facts.uid });
        // A new pod of the same name owns the key now: the old one's failure is not its business.
        if (stopped || !owns(facts)) return;
        return bindFailed(pod, facts, e);
      },
    );
    track(done.finally(() => {
      inflight--;
      wake();
    }), `bind of pod ${facts.key}`);
  }

  async function bindFailed(pod: Pod, facts: PodFacts, e: unknown): Promise<void> {
    if (isNotFound(e)) {
      stats.gone++;
      return drop(facts.key);
    }
    if (!isConflict(e)) {
      stats.errors++;
      queue.backoff(facts.key);
      log(`scheduler: binding pod ${facts.key} failed: ${(e as Error).message}`);
      track(recorder.record(pod, 'Warning', 'FailedScheduling', bindRejectedMessage((e as Error).message)), `event for pod ${facts.key}`);
      return;
    }
    // Changed, deleted or bound by someone else meanwhile: look at it again rather than wait
    // for the watch, which may lag behind the answer to the bind.
    stats.conflicts++;
    let fresh: Pod;
    try {
      fresh = await client.get<Pod>('pods', facts.namespace, facts.name);
    } catch (err) {
      if (isNotFound(err)) return drop(facts.key);
      queue.backoff(facts.key);
      throw err;
    }
    if (stopped || !owns(facts)) return;
    if (fresh.metadata.uid !== facts.uid || !wantsScheduling(fresh, name)) {
      // Bound elsewhere, terminating, or replaced by a new pod of the same name (which the watch
      // will announce): this decision is over.
      return drop(facts.key);
    }
    pending.set(facts.key, fresh);
    if (fresh.metadata.resourceVersion !== facts.resourceVersion) queue.requeue(facts.key);
    else queue.backoff(facts.key);
  }

  function onPod(e: ClientWatchEvent<Pod>): void {
    const pod = e.object;
    const key = keyOf(pod);
    if (e.type === 'DELETED') {
      view.trigger.podGone({ key });
      return drop(key);
    }
    // Most pods hold nothing yet and were never placed: nothing for the view to do.
    if (holdsResources(pod) || view.getSnapshot().context.placed.has(key)) view.trigger.podSeen({ pod });
    if (!wantsScheduling(pod, name)) {
      if (pending.has(key) || queue.has(key)) drop(key);
      return;
    }
    const prev = pending.get(key);
    pending.set(key, pod);
    if (prev && prev.metadata.uid !== pod.metadata.uid) queue.remove(key);
    if (!prev || !queue.has(key)) queue.add(key);
    else if (relevantChange(prev, pod)) queue.activate(key);
  }

  function onNode(e: ClientWatchEvent<Node>): void {
    if (e.type === 'DELETED') view.trigger.nodeGone({ name: e.object.metadata.name ?? '' });
    else view.trigger.nodeSeen({ node: e.object });
  }

  const informerLog = (m: string): void => log(`scheduler: ${m}`);
  const nodes = startInformer<Node>({ client, resource: 'nodes', clock, log: informerLog, event: onNode });
  const pods = startInformer<Pod>({ client, resource: 'pods', clock, log: informerLog, transform: slimIfBound, event: onPod });
  // Deciding before both lists are in would call pods unschedulable on an empty view.
  const synced = Promise.all([nodes.synced, pods.synced]).then(() => {
    if (stopped) return;
    started = true;
    wake();
  });

  return {
    view,
    synced,
    stats: () => {
      const c = queue.counts();
      return { ...stats, eventsDropped: recorder.dropped, queued: c.active + c.popped, waiting: c.backoff, inflight };
    },
    idle: () =>
      synced.then(() => new Promise<void>((resolve) => {
        idleWaiters.push(resolve);
        // Let already-published events and queued pumps run before judging.
        setImmediate(settle);
      })),
    stop: () => {
      stopped = true;
      nodes.stop();
      pods.stop();
      queue.stop();
      return new Promise<void>((resolve) => {
        idleWaiters.push(resolve);
        settle();
      });
    },
  };
}
