// Builders for the scheduler tests: nodes and pods as the API stores them, their facts, and a
// fresh store with an in-process Client (and schedulers over it).
import { SimulatedClock } from 'xstate';
import type { Node, Pod, Taint, Toleration } from '../../src/api/model/types.ts';
import { nodeFacts, podFacts, type NodeFacts, type PodFacts } from '../../src/scheduler/facts.ts';
import { startScheduler, type Scheduler, type SchedulerOptions } from '../../src/scheduler/scheduler.ts';
import type { Client } from '../../src/client/client.ts';
import { LocalClient } from '../../src/client/local.ts';
import { openStore } from '../helpers/server.ts';
import type { LmdbStore } from '../../src/store/lmdb.ts';

export interface NodeSpec {
  cpu?: string;
  memory?: string;
  pods?: string;
  ready?: 'True' | 'False' | 'Unknown' | 'none';
  labels?: Record<string, string>;
  taints?: Taint[];
  unschedulable?: boolean;
}

/** A Node as an agent registers it: 4 CPU, 8Gi, 110 pods, Ready unless told otherwise. */
export function node(name: string, o: NodeSpec = {}): Node {
  const n: Node = {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name, labels: { 'kubernetes.io/hostname': name, ...o.labels } },
    spec: {},
    status: {
      capacity: { cpu: o.cpu ?? '4', memory: o.memory ?? '8Gi', pods: o.pods ?? '110' },
      allocatable: { cpu: o.cpu ?? '4', memory: o.memory ?? '8Gi', pods: o.pods ?? '110' },
      conditions: o.ready === 'none' ? [] : [{ type: 'Ready', status: o.ready ?? 'True', reason: 'KubeletReady' }],
    },
  };
  if (o.taints) (n.spec as { taints?: Taint[] }).taints = o.taints;
  if (o.unschedulable) (n.spec as { unschedulable?: boolean }).unschedulable = true;
  return n;
}

export interface PodSpecOpts {
  namespace?: string;
  uid?: string;
  /** Requests of the one container; omit for none. */
  cpu?: string;
  memory?: string;
  /** Several containers' requests instead. */
  containers?: { cpu?: string; memory?: string }[];
  brand?: string;
  nodeSelector?: Record<string, string>;
  tolerations?: Toleration[];
  nodeName?: string;
  phase?: 'Pending' | 'Running' | 'Succeeded' | 'Failed';
  deletionTimestamp?: string;
  schedulerName?: string;
}

/** A Pod with one container per requested shape. */
export function pod(name: string, o: PodSpecOpts = {}): Pod {
  const shapes = o.containers ?? [{ cpu: o.cpu, memory: o.memory }];
  const p: Pod = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: o.namespace ?? 'default', uid: o.uid ?? `uid-${name}` },
    spec: {
      containers: shapes.map((s, i) => {
        const requests: Record<string, string> = {};
        if (s.cpu !== undefined) requests.cpu = s.cpu;
        if (s.memory !== undefined) requests.memory = s.memory;
        return { name: `c${i}`, image: 'illumos', ...(Object.keys(requests).length > 0 ? { resources: { requests } } : {}) };
      }),
    },
    status: { phase: o.phase ?? 'Pending' },
  };
  if (o.brand !== undefined) p.metadata.annotations = { 'reddwarf.io/zone-brand': o.brand };
  if (o.nodeSelector) p.spec.nodeSelector = o.nodeSelector;
  if (o.tolerations) p.spec.tolerations = o.tolerations;
  if (o.nodeName !== undefined) p.spec.nodeName = o.nodeName;
  if (o.deletionTimestamp) p.metadata.deletionTimestamp = o.deletionTimestamp;
  if (o.schedulerName) p.spec.schedulerName = o.schedulerName;
  return p;
}

/** Facts of a node built by node(). */
export const nodeF = (name: string, o?: NodeSpec): NodeFacts => nodeFacts(node(name, o));

/** Facts of a pod built by pod(). */
export const podF = (name: string, o?: PodSpecOpts): PodFacts => podFacts(pod(name, o));

/** A list of node facts, as the view holds them. */
export const nodeList = (...nodes: NodeFacts[]): NodeFacts[] => nodes;

/** A fresh store (with `default`) and an in-process Client over it. */
export async function cluster(): Promise<{ store: LmdbStore; client: LocalClient; close: () => Promise<void> }> {
  const { store, close } = await openStore();
  return { store, client: new LocalClient(store), close };
}

type Cluster = Awaited<ReturnType<typeof cluster>>;

export interface SchedulingCluster extends Cluster {
  /** Starts a scheduler (on a simulated clock and the cluster's client unless `o` says otherwise). */
  scheduler(o?: Partial<SchedulerOptions>): Scheduler;
}

/** Runs `fn` on a fresh cluster; then stops the schedulers it started and closes the store. */
export async function withCluster(fn: (c: SchedulingCluster) => Promise<void>): Promise<void> {
  const c = await cluster();
  const started: Scheduler[] = [];
  try {
    await fn({
      ...c,
      scheduler: (o) => {
        const s = startScheduler({ client: c.client, clock: new SimulatedClock(), ...o });
        started.push(s);
        return s;
      },
    });
  } finally {
    await Promise.all(started.map((s) => s.stop()));
    await c.close();
  }
}

/** `inner` with some of its methods replaced. */
export function override(inner: Client, methods: Partial<Client>): Client {
  return {
    get: (...a) => inner.get(...a),
    list: (...a) => inner.list(...a),
    create: (...a) => inner.create(...a),
    update: (...a) => inner.update(...a),
    updateStatus: (...a) => inner.updateStatus(...a),
    patch: (...a) => inner.patch(...a),
    delete: (...a) => inner.delete(...a),
    finalize: (...a) => inner.finalize(...a),
    bind: (...a) => inner.bind(...a),
    watch: (...a) => inner.watch(...a),
    ...methods,
  } as Client;
}

/** Waits (in small real steps, never a long sleep) until `check` returns a value that is not undefined/false. */
export async function eventually<T>(check: () => T | undefined | false | Promise<T | undefined | false>, what: string, ms = 5000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await check();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** Lets pending promise callbacks and immediates run. */
export async function turns(n = 3): Promise<void> {
  for (let i = 0; i < n; i++) await new Promise((r) => setImmediate(r));
}
