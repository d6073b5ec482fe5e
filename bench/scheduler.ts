// Scheduler throughput and latency, in process: an LMDB store in a temporary directory, the
// in-process Client, and the scheduler placing --pods pods (100m / 128Mi each) on a cluster of
// 100 nodes, then of 5,000 nodes (64 CPU, 256Gi, 110 pods each). Two runs per cluster size, each
// on a fresh store:
//
// - backlog: the pods exist before the scheduler starts (a restart, or a burst that outran it);
//   binds_per_s = pods / (last bound − scheduler start), its list and sync included. This is the
//   scheduler's own throughput, and what the goals (≥ 5,000/s @100, ≥ 2,000/s @5,000) judge.
// - stream: the scheduler is started and synced, then the pods are created --concurrency at a
//   time as fast as the store acknowledges them, while it runs; binds_per_s = pods / (last bound
//   − first created). Creates and binds share one process and one store, so this is bounded by
//   the create rate (bench/api.ts measures that); its latency is what a user watching sees.
//
// A separate pods watch stamps each pod when it appears (ADDED) and when it is bound (MODIFIED
// with spec.nodeName): latency = bound − added. Every bind also writes a Scheduled Event (queued
// behind binds, dropped past a backlog of 1,000 as client-go does: events_dropped), and every
// write is a durable LMDB commit (concurrent writes share one), as in `serve`.
//
// Usage: node --import tsx bench/scheduler.ts [--pods 10000] [--concurrency 200] [--sizes 100,5000]
//   [--modes backlog,stream]
// Progress goes to stderr; the last line of stdout is one JSON object with a pass/fail per goal.
import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { Node, Pod } from '../src/api/model/types.ts';
import { LocalClient } from '../src/client/local.ts';
import { startScheduler } from '../src/scheduler/scheduler.ts';
import { LmdbStore } from '../src/store/lmdb.ts';

const { values: args } = parseArgs({
  options: {
    pods: { type: 'string', default: '10000' },
    concurrency: { type: 'string', default: '200' },
    sizes: { type: 'string', default: '100,5000' },
    modes: { type: 'string', default: 'backlog,stream' },
  },
});

type Mode = 'backlog' | 'stream';

interface Run {
  mode: Mode;
  nodes: number;
  pods: number;
  bound: number;
  seconds: number;
  binds_per_s: number;
  p50_ms: number;
  p99_ms: number;
  max_ms: number;
  /** Scheduler start to synced (backlog runs: the list of every pod included in `seconds`). */
  sync_ms: number;
  /** Process CPU (user + system) from scheduler start to the last bind, per 1,000 binds (stream runs: pod creates included). */
  cpu_ms_per_1000_binds: number;
  unschedulable: number;
  conflicts: number;
  events_dropped: number;
  /** The busiest node's pod count (max pods is 110). */
  max_pods_on_a_node: number;
  heap_mb: number;
}

const progress = (m: string): void => void process.stderr.write(`${m}\n`);

function nodeBody(name: string): Node {
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name, labels: { 'kubernetes.io/hostname': name, 'reddwarf.io/zone-brands': 'lx_sparse' } },
    status: {
      capacity: { cpu: '64', memory: '256Gi', pods: '110' },
      allocatable: { cpu: '64', memory: '256Gi', pods: '110' },
      conditions: [{ type: 'Ready', status: 'True', reason: 'KubeletReady' }],
    },
  };
}

function podBody(name: string): Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: 'default', labels: { app: 'bench' } },
    spec: { containers: [{ name: 'main', image: 'illumos', resources: { requests: { cpu: '100m', memory: '128Mi' } } }] },
  };
}

/** Runs `n` calls of `f`, `concurrency` at a time. */
async function pool(n: number, concurrency: number, f: (i: number) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(concurrency, n) }, async () => {
    while (next < n) await f(next++);
  }));
}

function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] as number;
}

const round = (x: number, digits = 1): number => Math.round(x * 10 ** digits) / 10 ** digits;

async function measure(mode: Mode, nodes: number, pods: number, concurrency: number): Promise<Run> {
  const dir = mkdtempSync(join(tmpdir(), 'reddwarf-bench-scheduler-'));
  const store = new LmdbStore({ path: join(dir, 'store'), compactEveryMs: 0, retainEvents: 100_000 });
  try {
    const client = new LocalClient(store);
    await client.create('namespaces', { metadata: { name: 'default' } });
    await pool(nodes, 500, (i) => client.create('nodes', nodeBody(`node-${String(i).padStart(5, '0')}`)));
    progress(`${nodes} nodes created`);

    const added = new Map<string, number>();
    const bound = new Map<string, number>();
    const perNode = new Map<string, number>();
    let allBound: () => void = () => {};
    const done = new Promise<void>((resolve) => (allBound = resolve));
    const stopWatch = client.watch<Pod>('pods', { resourceVersion: String(store.revision()) }, {
      event: (e) => {
        const name = e.object.metadata.name as string;
        const t = performance.now();
        if (!added.has(name)) added.set(name, t);
        const nodeName = e.object.spec?.nodeName;
        if (nodeName && !bound.has(name)) {
          bound.set(name, t);
          perNode.set(nodeName, (perNode.get(nodeName) ?? 0) + 1);
          if (bound.size === pods) allBound();
        }
      },
      closed: (why) => progress(`bench watch closed: ${why.message ?? ''}`),
    });

    const createPods = async (): Promise<void> => {
      const t = performance.now();
      await pool(pods, concurrency, (i) => client.create('pods', podBody(`p-${i}`)));
      progress(`${pods} pods created in ${round((performance.now() - t) / 1000, 2)} s`);
    };
    if (mode === 'backlog') await createPods();
    const start = performance.now();
    const cpuStart = process.cpuUsage();
    const scheduler = startScheduler({ client, log: (m) => progress(m) });
    await scheduler.synced;
    const syncMs = performance.now() - start;
    if (mode === 'stream') await createPods();
    const timeout = setTimeout(() => allBound(), 600_000);
    await done;
    clearTimeout(timeout);
    // CPU time of the whole process (scheduler, store, this watch): on a busy box it says more than wall time.
    const cpu = process.cpuUsage(cpuStart);
    let end = 0;
    for (const t of bound.values()) end = Math.max(end, t);
    stopWatch();
    await scheduler.idle();
    const stats = scheduler.stats();
    await scheduler.stop();

    const lat = new Float64Array([...bound].map(([name, t]) => t - (added.get(name) ?? t))).sort();
    const seconds = (end - (mode === 'stream' ? start + syncMs : start)) / 1000;
    return {
      mode,
      nodes,
      pods,
      bound: bound.size,
      seconds: round(seconds, 2),
      binds_per_s: Math.round(bound.size / seconds),
      p50_ms: round(percentile(lat, 50)),
      p99_ms: round(percentile(lat, 99)),
      max_ms: round(lat[lat.length - 1] ?? NaN),
      sync_ms: round(syncMs),
      cpu_ms_per_1000_binds: round((cpu.user + cpu.system) / 1000 / (bound.size / 1000)),
      unschedulable: stats.unschedulable,
      conflicts: stats.conflicts,
      events_dropped: stats.eventsDropped,
      max_pods_on_a_node: Math.max(...perNode.values()),
      heap_mb: Math.round(process.memoryUsage().heapUsed / 2 ** 20),
    };
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The goals: binds/s of the scheduler (backlog runs) per cluster size. */
const GOALS: Record<number, number> = { 100: 5000, 5000: 2000 };

const pods = Number(args.pods);
const concurrency = Number(args.concurrency);
const modes = args.modes.split(',') as Mode[];
const runs: Run[] = [];
for (const size of args.sizes.split(',').map(Number)) {
  for (const mode of modes) {
    progress(`--- ${mode}: ${size} nodes, ${pods} pods`);
    const run = await measure(mode, size, pods, concurrency);
    progress(JSON.stringify(run));
    runs.push(run);
  }
}
const goals = Object.entries(GOALS).flatMap(([size, goal]) => {
  const backlog = runs.find((r) => r.mode === 'backlog' && r.nodes === Number(size));
  if (!backlog) return [];
  const stream = runs.find((r) => r.mode === 'stream' && r.nodes === Number(size));
  return [{ goal: `binds/s @${size} nodes >= ${goal}`, binds_per_s: backlog.binds_per_s, pass: backlog.binds_per_s >= goal, stream_binds_per_s: stream?.binds_per_s ?? null, stream_pass: stream ? stream.binds_per_s >= goal : null }];
});
for (const g of goals) progress(`${g.pass ? 'PASS' : 'FAIL'} ${g.goal}: ${g.binds_per_s} (stream ${g.stream_binds_per_s ?? '-'})`);
console.log(JSON.stringify({ bench: 'scheduler', node: process.version, cpus: availableParallelism(), pods, concurrency, runs, goals, pass: goals.length > 0 && goals.every((g) => g.pass) }));
