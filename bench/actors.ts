// Heap and CPU of 10,000 live pod actors: spawn, Pending → Running, a few reconcile ticks, stop;
// then 40,000 pods of churn.
//
// The actors are the product's own machines: machines/cluster.ts (the agent's pod host) with its
// pods in shards of ≤ SHARD_SIZE (machines/pod-shard.ts) spawning machines/pod.ts, as
// src/agent/pods.ts does, but with the runtime effects provided as cheap in-memory promises
// (provision and check resolve at once, report and record only count), so what is measured is the
// actor system and not the zone runtime, the store or the API. One SimulatedClock on every root
// drives the shards' 30 s reconcile tick: --ticks ticks pass without waiting. Each tick sends every
// pod RECONCILE (Idle → Checking), runs the checkZone promise and returns to Idle.
//
// Layouts (each in its own child process with --expose-gc, so heaps do not mix):
//   agent    one cluster root, the pods in its shards: the agent as src/agent/pods.ts runs it.
//   systems  ⌈pods / --per-node⌉ independent cluster roots (one actor system per node agent, the
//            shape of a fleet of agents with the default --max-pods 110), one shared clock.
// Churn (agent layout only): --churn pods in rounds of --churn-round: bind, Running, delete
// (shutdown → deprovision → finalize → the shard stops the actor), with heap samples after gc
// every --churn-sample pods; churn_heap_slope_bytes_per_pod ≈ 0 means flat (a leak of per-pod
// event types was ~184 B/pod, XSTATE.md §1.9).
// Baseline (in each child, before the actors): the same number of plain objects with the pod
// context's shape, in a Map by `pod/<key>`, with a state string and a timer on the same
// SimulatedClock, driven through the same provision → Running → N ticks with the same promises.
// `heap_ratio` / `*_cpu_ratio` are actor ÷ baseline, measured in one process.
//
// Goals (issue 14, `goals` in the JSON, agent layout): spawn ≥ 10,000 pods/s, stop with 10,000
// live pods ≤ 1.5 s, heap with 10,000 pods ≤ 150 MB, flat over 40,000 pods of churn.
//
// Heap = heapUsed after repeated global.gc(), from before the pods' inputs are made (so a pod's
// key and uid strings count, in both the actors and the baseline) to all Running; the inputs
// array itself is dropped before the second reading. heap_left_after_stop ≈ 0 means no leak.
// The driver forks each layout with --expose-gc; to run one layout by hand:
//   REDDWARF_BENCH_ROLE=layout REDDWARF_BENCH_LAYOUT=agent node --expose-gc --import tsx bench/actors.ts
// CPU = process.cpuUsage() user+system (ms) of the phase, wall = performance.now().
//
// Usage: node --import tsx bench/actors.ts [--pods 10000] [--ticks 3] [--tick-ms 30000]
//        [--layouts agent,systems] [--per-node 110] [--warmup 2000] [--churn 40000]
//        [--churn-round 1000] [--churn-sample 10000] [--timeout-seconds 300]
// Compare `spawn.first_tenth_us_per_actor` with `last_tenth_us_per_actor`: equal for a constant
// cost per spawn, growing with N for a layout whose parents grow with N.
// Progress goes to stderr; the last line of stdout is one JSON object.
import { fork } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { availableParallelism, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { createActor, fromPromise, SimulatedClock, type AnyActorRef } from 'xstate';
import { clusterMachine, hostingPods, SHARD_SIZE, type PodActor } from '../machines/cluster.ts';
import { podMachine, type PodInput, type PodReport, type ZoneHealth, type ZoneUp } from '../machines/pod.ts';

const ROLE_ENV = 'REDDWARF_BENCH_ROLE';
const LAYOUT_ENV = 'REDDWARF_BENCH_LAYOUT';
const LAYOUTS = ['agent', 'systems'] as const;
type Layout = (typeof LAYOUTS)[number];

const { values: args } = parseArgs({
  options: {
    pods: { type: 'string', default: '10000' },
    ticks: { type: 'string', default: '3' },
    'tick-ms': { type: 'string', default: '30000' },
    layouts: { type: 'string', default: LAYOUTS.join(',') },
    'per-node': { type: 'string', default: '110' },
    warmup: { type: 'string', default: '2000' },
    churn: { type: 'string', default: '40000' },
    'churn-round': { type: 'string', default: '1000' },
    'churn-sample': { type: 'string', default: '10000' },
    'timeout-seconds': { type: 'string', default: '300' },
  },
});
const PODS = Number(args.pods);
const CHURN = Number(args.churn);
const CHURN_ROUND = Number(args['churn-round']);
const CHURN_SAMPLE = Number(args['churn-sample']);
const TICKS = Number(args.ticks);
const TICK_MS = Number(args['tick-ms']);
const PER_NODE = Number(args['per-node']);
const WARMUP = Number(args.warmup);

const round = (x: number, digits = 1): number => Number(x.toFixed(digits));
const progress = (m: string): void => void process.stderr.write(`[bench:actors${process.env[LAYOUT_ENV] ? ` ${process.env[LAYOUT_ENV]}` : ''}] ${m}\n`);
const turn = (): Promise<void> => new Promise((r) => setImmediate(r));

/** heapUsed after full collections (the child runs with --expose-gc). */
async function heap(): Promise<number> {
  const gc = globalThis.gc;
  if (!gc) throw new Error('run with node --expose-gc (the driver does this for its children)');
  for (let i = 0; i < 6; i++) {
    gc();
    await turn();
  }
  return process.memoryUsage().heapUsed;
}

/** Wall (ms) and CPU (user+system ms) of one phase. */
class Phase {
  private readonly t0 = performance.now();
  private readonly c0 = process.cpuUsage();
  done(): { wall_ms: number; cpu_ms: number } {
    const c = process.cpuUsage(this.c0);
    return { wall_ms: round(performance.now() - this.t0), cpu_ms: round((c.user + c.system) / 1000) };
  }
}

// ---------------------------------------------------------------------------------------------
// The pod logic with in-memory effects.

const counters = { provisioned: 0, running: 0, checks: 0, records: 0, failures: 0, finalized: 0 };
const ipOf = (n: number): string => `10.${88 + (n >>> 16)}.${(n >>> 8) & 255}.${n & 255}`;

const benchPod = podMachine.provide({
  actors: {
    pullImages: fromPromise<void, { key: string }>(async () => {}),
    provisionZone: fromPromise<ZoneUp, { key: string }>(async () => ({ podIP: ipOf(counters.provisioned++) })),
    checkZone: fromPromise<ZoneHealth, { key: string }>(async () => {
      counters.checks++;
      return 'running';
    }),
    restartZone: fromPromise<ZoneUp, { key: string }>(async () => ({ podIP: ipOf(counters.provisioned++) })),
    shutdownZone: fromPromise<void, { key: string; graceMs: number }>(async () => {}),
    haltZone: fromPromise<void, { key: string }>(async () => {}),
    deprovisionZone: fromPromise<{ problems: string[] }, { key: string }>(async () => ({ problems: [] })),
    finalizePod: fromPromise<void, { key: string; uid: string }>(async () => {
      counters.finalized++;
    }),
  },
  actions: {
    report: (_, r: PodReport) => {
      if (r.phase === 'Running' && r.ready) counters.running++;
    },
    record: () => {
      counters.records++;
    },
  },
});

const hostLogic = clusterMachine.provide({
  actors: { shard: hostingPods(benchPod, TICK_MS) },
  actions: {
    childFailed: (_, { actorId, error }) => {
      counters.failures++;
      if (counters.failures <= 3) progress(`actor ${actorId} failed: ${String(error)}`);
    },
  },
});

interface Host {
  /** Binds pod `i`. */
  bind(i: number, input: PodInput): void;
  /** Deletes a pod (agent layout). */
  delete?(key: string): void;
  pods(): PodActor[];
  pendingTimers(): number;
  stop(): void;
}

function build(layout: Layout, clock: SimulatedClock, pods: number): Host {
  const groups = Math.max(1, Math.ceil(pods / PER_NODE));
  const watchErrors = (a: AnyActorRef): void => {
    a.subscribe({ error: (e) => progress(`root actor failed: ${String(e)}`) });
  };
  const podsOf = (systems: AnyActorRef[]): PodActor[] => {
    const out: PodActor[] = [];
    for (const r of systems) for (const [id, ref] of Object.entries(r.system.getAll())) if (id.startsWith('pod/')) out.push(ref as PodActor);
    return out;
  };
  const timers = (systems: AnyActorRef[]): number => systems.reduce((n, r) => n + Object.keys(r.system.getSnapshot()._scheduledEvents).length, 0);
  if (layout === 'agent') {
    const root = createActor(hostLogic, { systemId: 'cluster', clock });
    watchErrors(root);
    root.start();
    return {
      bind: (_i, input) => root.send({ type: 'POD_BOUND', input }),
      delete: (key) => root.send({ type: 'POD_DELETING', key, graceMs: 30_000 }),
      pods: () => podsOf([root]),
      pendingTimers: () => timers([root]),
      stop: () => root.stop(),
    };
  }
  const roots = Array.from({ length: groups }, () => {
    const r = createActor(hostLogic, { systemId: 'cluster', clock });
    watchErrors(r);
    r.start();
    return r;
  });
  return {
    bind: (i, input) => roots[Math.floor(i / PER_NODE)]?.send({ type: 'POD_BOUND', input }),
    pods: () => podsOf(roots),
    pendingTimers: () => timers(roots),
    stop: () => {
      for (const r of roots) r.stop();
    },
  };
}

const inputOf = (i: number, prefix: string): PodInput => ({ key: `bench/${prefix}-${i}`, uid: randomUUID(), restartPolicy: 'Always' });

/** Yields until `cond` holds (promise actors settle on the microtask queue, timers on the clock). */
async function until(what: string, cond: () => boolean, limitMs = 600_000): Promise<void> {
  const end = performance.now() + limitMs;
  while (!cond()) {
    if (performance.now() > end) throw new Error(`timed out waiting for ${what}`);
    await turn();
  }
}

const allIdle = (h: Host): boolean => h.pods().every((p) => p.getSnapshot().matches({ Running: 'Idle' }));

interface ActorRun {
  spawn: { wall_ms: number; cpu_ms: number; actors_per_s: number; first_tenth_us_per_actor: number; last_tenth_us_per_actor: number };
  to_running: { wall_ms: number; cpu_ms: number; pods_per_s: number };
  ticks: { wall_ms: number; cpu_ms: number; checks: number }[];
  stop: { wall_ms: number; cpu_ms: number };
  heap_before_bytes: number;
  heap_running_bytes: number;
  heap_after_ticks_bytes: number;
  heap_after_stop_bytes: number;
  heap_per_actor_bytes: number;
  heap_growth_over_ticks_bytes: number;
  heap_left_after_stop_bytes: number;
  pending_timers_running: number;
  failures: number;
}

/** The pods through spawn → Running → ticks → stop, measured when `measure` is set. */
async function runActors(layout: Layout, n: number, prefix: string, measure: boolean): Promise<ActorRun> {
  // Before the inputs: a pod's key and uid strings, which its context keeps, count as its cost.
  const h0 = measure ? await heap() : 0;
  const checks0 = counters.checks;
  const failures0 = counters.failures;
  // Everything that references the actors lives in here, so the last reading sees what they leave.
  const drive = async () => {
    const inputs = Array.from({ length: n }, (_, i) => inputOf(i, prefix));
    const clock = new SimulatedClock();
    const host = build(layout, clock, n);
    const running0 = counters.running;
    const whole = new Phase();
    const spawnPhase = new Phase();
    const tenth = Math.max(1, Math.floor(n / 10));
    const marks: number[] = [];
    for (let i = 0; i < n; i++) {
      if (i === tenth || i === n - tenth) marks.push(performance.now());
      host.bind(i, inputs[i] as PodInput);
    }
    const spawn = spawnPhase.done();
    const spawnEnd = performance.now();
    const firstTenth = (((marks[0] ?? spawnEnd) - (spawnEnd - spawn.wall_ms)) * 1000) / tenth;
    const lastTenth = ((spawnEnd - (marks[1] ?? spawnEnd)) * 1000) / tenth;
    if (measure) progress(`spawned ${n} pod actors in ${spawn.wall_ms} ms (cpu ${spawn.cpu_ms} ms)`);
    await until('all pods Running', () => counters.running - running0 >= n);
    const toRunning = whole.done();
    if (measure) progress(`${n} pods Running after ${toRunning.wall_ms} ms (cpu ${toRunning.cpu_ms} ms)`);
    inputs.length = 0;
    const pendingTimers = host.pendingTimers();
    const h1 = measure ? await heap() : 0;
    const ticks: ActorRun['ticks'] = [];
    for (let t = 0; t < TICKS; t++) {
      const before = counters.checks;
      const p = new Phase();
      clock.increment(TICK_MS);
      await until(`tick ${t + 1}`, () => counters.checks - before >= n && allIdle(host));
      ticks.push({ ...p.done(), checks: counters.checks - before });
      if (measure) progress(`tick ${t + 1}: ${n} checks in ${ticks[t]?.wall_ms} ms (cpu ${ticks[t]?.cpu_ms} ms)`);
    }
    const h2 = measure ? await heap() : 0;
    const stopPhase = new Phase();
    host.stop();
    const stop = stopPhase.done();
    if (measure) progress(`stopped all in ${stop.wall_ms} ms (cpu ${stop.cpu_ms} ms)`);
    return { spawn, firstTenth, lastTenth, toRunning, pendingTimers, h1, ticks, h2, stop };
  };
  const { spawn, firstTenth, lastTenth, toRunning, pendingTimers, h1, ticks, h2, stop } = await drive();
  const h3 = measure ? await heap() : 0;
  if (counters.checks - checks0 < n * TICKS) throw new Error(`only ${counters.checks - checks0} checks for ${n} pods × ${TICKS} ticks`);
  return {
    spawn: { ...spawn, actors_per_s: Math.round(n / (spawn.wall_ms / 1000)), first_tenth_us_per_actor: round(firstTenth), last_tenth_us_per_actor: round(lastTenth) },
    to_running: { ...toRunning, pods_per_s: Math.round(n / (toRunning.wall_ms / 1000)) },
    ticks,
    stop,
    heap_before_bytes: h0,
    heap_running_bytes: h1,
    heap_after_ticks_bytes: h2,
    heap_after_stop_bytes: h3,
    heap_per_actor_bytes: Math.round((h1 - h0) / n),
    heap_growth_over_ticks_bytes: h2 - h1,
    heap_left_after_stop_bytes: h3 - h0,
    pending_timers_running: pendingTimers,
    failures: counters.failures - failures0,
  };
}

// ---------------------------------------------------------------------------------------------
// Baseline: plain objects with the pod context's shape, the same promises and clock timers.

interface PlainPod {
  key: string;
  uid: string;
  restartPolicy: string;
  restartCount: number;
  adopt: string;
  backoffMs: number;
  graceMs: number;
  reconcileMs: number;
  podIP?: string;
  lastError?: string;
  removed: boolean;
  problems: string[];
  state: 'Provisioning' | 'Idle' | 'Checking';
  timer?: number;
}

interface BaselineRun {
  spawn: { wall_ms: number; cpu_ms: number; objects_per_s: number };
  to_running: { wall_ms: number; cpu_ms: number };
  ticks: { wall_ms: number; cpu_ms: number }[];
  stop: { wall_ms: number; cpu_ms: number };
  heap_per_object_bytes: number;
  heap_left_after_stop_bytes: number;
}

async function runBaseline(n: number, prefix: string, measure: boolean): Promise<BaselineRun> {
  const clock = new SimulatedClock();
  // Before the inputs: a pod's key and uid strings, which its context keeps, count as its cost.
  const h0 = measure ? await heap() : 0;
  const inputs = Array.from({ length: n }, (_, i) => inputOf(i, prefix));
  const pods = new Map<string, PlainPod>();
  let running = 0;
  let checks = 0;
  const provision = async (): Promise<ZoneUp> => ({ podIP: ipOf(counters.provisioned++) });
  const check = async (): Promise<ZoneHealth> => 'running';
  const arm = (p: PlainPod): void => {
    p.timer = clock.setTimeout(() => {
      p.state = 'Checking';
      void check().then(() => {
        checks++;
        p.state = 'Idle';
        arm(p);
      });
    }, p.reconcileMs);
  };
  const whole = new Phase();
  const spawnPhase = new Phase();
  for (const input of inputs) {
    const p: PlainPod = { key: input.key, uid: input.uid, restartPolicy: input.restartPolicy, restartCount: 0, adopt: 'new', backoffMs: 10_000, graceMs: 30_000, reconcileMs: TICK_MS, podIP: undefined, removed: false, problems: [], state: 'Provisioning' };
    pods.set(`pod/${input.key}`, p);
    void provision().then((up) => {
      p.podIP = up.podIP;
      p.state = 'Idle';
      running++;
      arm(p);
    });
  }
  const spawn = spawnPhase.done();
  await until('baseline Running', () => running >= n);
  const toRunning = whole.done();
  inputs.length = 0;
  const h1 = measure ? await heap() : 0;
  const ticks: BaselineRun['ticks'] = [];
  for (let t = 0; t < TICKS; t++) {
    const before = checks;
    const p = new Phase();
    clock.increment(TICK_MS);
    await until('baseline tick', () => checks - before >= n);
    ticks.push(p.done());
  }
  const stopPhase = new Phase();
  for (const p of pods.values()) if (p.timer !== undefined) clock.clearTimeout(p.timer);
  pods.clear();
  const stop = stopPhase.done();
  const h3 = measure ? await heap() : 0;
  if (measure) progress(`baseline: ${n} plain objects, ${Math.round((h1 - h0) / n)} B each; Running in ${toRunning.wall_ms} ms, ticks ${ticks.map((t) => t.wall_ms).join('/')} ms`);
  return {
    spawn: { ...spawn, objects_per_s: Math.round(n / (spawn.wall_ms / 1000)) },
    to_running: toRunning,
    ticks,
    stop,
    heap_per_object_bytes: Math.round((h1 - h0) / n),
    heap_left_after_stop_bytes: h3 - h0,
  };
}

// ---------------------------------------------------------------------------------------------

interface ChurnRun {
  pods: number;
  wall_ms: number;
  cpu_ms: number;
  pods_per_s: number;
  heap_samples_bytes: { after_pods: number; heap_bytes: number }[];
  heap_slope_bytes_per_pod: number;
  live_actors_after: number;
}

/** --churn pods through their whole life in rounds, heap sampled every --churn-sample pods. */
async function runChurn(): Promise<ChurnRun> {
  const clock = new SimulatedClock();
  const host = build('agent', clock, CHURN_ROUND);
  const samples: ChurnRun['heap_samples_bytes'] = [{ after_pods: 0, heap_bytes: await heap() }];
  const p = new Phase();
  let sampleCpu = 0;
  for (let done = 0; done < CHURN;) {
    const n = Math.min(CHURN_ROUND, CHURN - done);
    const running0 = counters.running;
    const finalized0 = counters.finalized;
    const keys: string[] = [];
    for (let i = 0; i < n; i++) {
      const input = inputOf(done + i, 'churn');
      keys.push(input.key);
      host.bind(done + i, input);
    }
    await until('churn round Running', () => counters.running - running0 >= n);
    for (const k of keys) host.delete?.(k);
    await until('churn round finalized', () => counters.finalized - finalized0 >= n && host.pods().length === 0);
    done += n;
    if (done % CHURN_SAMPLE === 0 || done === CHURN) {
      const c = process.cpuUsage();
      samples.push({ after_pods: done, heap_bytes: await heap() });
      const spent = process.cpuUsage(c);
      sampleCpu += (spent.user + spent.system) / 1000;
      progress(`churn: ${done} pods, heap ${(samples.at(-1)?.heap_bytes ?? 0) / 2 ** 20 | 0} MB`);
    }
  }
  const phase = p.done();
  const live = host.pods().length;
  host.stop();
  // The slope over everything after the first sample (the first round warms caches up).
  const tail = samples.slice(1);
  const first = tail[0];
  const last = tail.at(-1);
  const slope = first && last && last.after_pods > first.after_pods ? (last.heap_bytes - first.heap_bytes) / (last.after_pods - first.after_pods) : 0;
  return {
    pods: CHURN,
    wall_ms: phase.wall_ms,
    cpu_ms: round(phase.cpu_ms - sampleCpu),
    pods_per_s: Math.round(CHURN / (phase.wall_ms / 1000)),
    heap_samples_bytes: samples,
    heap_slope_bytes_per_pod: round(slope),
    live_actors_after: live,
  };
}

/** Issue 14's goals for the agent's actors, each with the measured value and pass/fail. */
function goals(actors: ActorRun, churn: ChurnRun | undefined): Record<string, { goal: string; value: number | null; pass: boolean }> {
  const heapMb = round(actors.heap_running_bytes / 2 ** 20);
  return {
    spawn_pods_per_s: { goal: '>= 10000', value: actors.spawn.actors_per_s, pass: actors.spawn.actors_per_s >= 10_000 },
    stop_ms: { goal: '<= 1500', value: actors.stop.wall_ms, pass: actors.stop.wall_ms <= 1500 },
    heap_running_mb: { goal: '<= 150', value: heapMb, pass: heapMb <= 150 },
    // Flat: well under the ~184 B/pod of the per-child done-event leak, nothing left live.
    churn_heap_slope_bytes_per_pod: { goal: `<= 20 over ${CHURN} pods`, value: churn ? churn.heap_slope_bytes_per_pod : null, pass: churn !== undefined && churn.heap_slope_bytes_per_pod <= 20 && churn.live_actors_after === 0 },
  };
}

async function layoutMain(layout: Layout): Promise<void> {
  progress(`warm-up: ${WARMUP} pods`);
  await runBaseline(WARMUP, 'warm', false);
  await runActors(layout, WARMUP, 'warm', false);
  const baseline = await runBaseline(PODS, 'b', true);
  const actors = await runActors(layout, PODS, 'p', true);
  const churn = layout === 'agent' && CHURN > 0 ? await runChurn() : undefined;
  const sum = (xs: { cpu_ms: number }[]): number => xs.reduce((a, x) => a + x.cpu_ms, 0);
  const ratio = (a: number, b: number): number => (b > 0 ? round(a / b, 2) : 0);
  const result = {
    layout,
    pods: PODS,
    parents: layout === 'agent' ? Math.ceil(PODS / SHARD_SIZE) : Math.ceil(PODS / PER_NODE),
    actor_systems: layout === 'systems' ? Math.ceil(PODS / PER_NODE) : 1,
    ...actors,
    baseline,
    heap_ratio: ratio(actors.heap_per_actor_bytes, baseline.heap_per_object_bytes),
    running_cpu_ratio: ratio(actors.to_running.cpu_ms, baseline.to_running.cpu_ms),
    tick_cpu_ratio: ratio(sum(actors.ticks), sum(baseline.ticks)),
    peak_rss_mb: Math.round(process.resourceUsage().maxRSS / 1024),
    ...(churn ? { churn } : {}),
    ...(layout === 'agent' ? { goals: goals(actors, churn) } : {}),
  };
  if (process.send) process.send({ op: 'result', result });
  else console.log(JSON.stringify(result));
}

async function driverMain(): Promise<void> {
  const layouts = (args.layouts ?? '').split(',').map((s) => s.trim()).filter(Boolean) as Layout[];
  for (const l of layouts) if (!LAYOUTS.includes(l)) throw new Error(`unknown layout ${l}; use ${LAYOUTS.join(', ')}`);
  const load0 = loadavg()[0] ?? 0;
  const t0 = performance.now();
  const results: Record<string, unknown> = {};
  for (const layout of layouts) {
    progress(`${layout}: ${PODS} pods, ${TICKS} ticks of ${TICK_MS} ms (simulated), ≤ ${layout === 'agent' ? SHARD_SIZE : PER_NODE} pods per parent`);
    const execArgv = [...process.execArgv.filter((a) => a !== '--expose-gc'), '--expose-gc'];
    const child = fork(fileURLToPath(import.meta.url), process.argv.slice(2), { execArgv, env: { ...process.env, [ROLE_ENV]: 'layout', [LAYOUT_ENV]: layout }, stdio: ['ignore', 2, 2, 'ipc'] });
    results[layout] = await new Promise((resolve) => {
      let got: unknown;
      const timer = setTimeout(() => {
        progress(`${layout}: no result after ${args['timeout-seconds']} s; killing it`);
        child.kill('SIGKILL');
      }, Number(args['timeout-seconds']) * 1000);
      child.on('message', (m: { op: string; result: unknown }) => {
        if (m.op === 'result') got = m.result;
      });
      child.on('exit', (code, signal) => {
        clearTimeout(timer);
        resolve(got ?? { error: `child exited with ${code ?? signal} before reporting` });
      });
    });
  }
  console.log(JSON.stringify({
    bench: 'actors',
    node: process.version,
    cpus: availableParallelism(),
    platform: `${process.platform}-${process.arch}`,
    loadavg_1m: [round(load0, 2), round(loadavg()[0] ?? 0, 2)],
    params: { pods: PODS, ticks: TICKS, tick_ms: TICK_MS, shard_size: SHARD_SIZE, per_node: PER_NODE, warmup: WARMUP, churn: CHURN, churn_round: CHURN_ROUND, clock: 'SimulatedClock', effects: 'in-memory promises resolving at once' },
    total_s: round((performance.now() - t0) / 1000),
    goals: (results['agent'] as { goals?: unknown } | undefined)?.goals ?? null,
    goals_pass: Object.values((results['agent'] as { goals?: Record<string, { pass: boolean }> } | undefined)?.goals ?? { none: { pass: false } }).every((g) => g.pass),
    results,
  }));
}

const role = process.env[ROLE_ENV];
(role === 'layout' ? layoutMain(process.env[LAYOUT_ENV] as Layout) : driverMain()).catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
