// Heap and CPU of 10,000 live pod actors: spawn, Pending → Running, a few reconcile ticks, stop.
//
// The actors are the product's own machines: machines/cluster.ts (the agent's pod host) spawning
// machines/pod.ts, as src/agent/pods.ts does, but with the runtime effects provided as cheap
// in-memory promises (provision and check resolve at once, report and record only count), so
// what is measured is the actor system and not the zone runtime, the store or the API. One
// SimulatedClock on every root drives the pods' 30 s reconcile `after` tick: --ticks ticks pass
// without waiting. Each tick fires every pod's timer (Idle → Checking), runs the checkZone
// promise and returns to Idle, re-arming the timer.
//
// Layouts (each in its own child process with --expose-gc, so heaps do not mix):
//   flat     one cluster actor with all --pods pods as children: the agent as it is today with
//            --max-pods 10000 (XSTATE.md §0.2: O(children) per spawn/stop, O(pending timers) per
//            actor stop, incl. every finished promise).
//   nodes    one root with ⌈pods / --per-node⌉ (110) cluster actors as "node" parents, the pods
//            spread under them: one actor system, so still one scheduler holding every timer.
//   systems  ⌈pods / --per-node⌉ independent cluster roots (one actor system per node agent, the
//            shape of a fleet of agents with the default --max-pods 110), one shared clock.
// Baseline (in each child, before the actors): the same number of plain objects with the pod
// context's shape, in a Map by `pod/<key>`, with a state string and a timer on the same
// SimulatedClock, driven through the same provision → Running → N ticks with the same promises.
// `heap_ratio` / `*_cpu_ratio` are actor ÷ baseline, measured in one process.
//
// Heap = heapUsed after repeated global.gc(), from before the pods' inputs are made (so a pod's
// key and uid strings count, in both the actors and the baseline) to all Running; the inputs
// array itself is dropped before the second reading. heap_left_after_stop ≈ 0 means no leak.
// The driver forks each layout with --expose-gc; to run one layout by hand:
//   REDDWARF_BENCH_ROLE=layout REDDWARF_BENCH_LAYOUT=flat node --expose-gc --import tsx bench/actors.ts
// CPU = process.cpuUsage() user+system (ms) of the phase, wall = performance.now().
//
// Usage: node --import tsx bench/actors.ts [--pods 10000] [--ticks 3] [--tick-ms 30000]
//        [--layouts systems,nodes,flat] [--flat-pods 2000] [--per-node 110] [--warmup 300]
//        [--timeout-seconds 300]
// The flat layout is O(N²) in spawn and stop (measured: 10,000 pods take ~95 s to spawn and ~70 s
// to stop on a loaded 2-core box), so by default it runs with --flat-pods 2000 to keep the whole
// bench near two minutes; `--layouts flat --flat-pods 10000` measures it at full size. Compare
// `spawn.first_tenth_us_per_actor` with `last_tenth_us_per_actor`: equal for a constant cost per
// spawn, growing with N for the flat layout.
// Progress goes to stderr; the last line of stdout is one JSON object.
import { fork } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { availableParallelism, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { createActor, enqueueActions, fromPromise, setup, SimulatedClock, type AnyActorRef } from 'xstate';
import { clusterMachine, type PodActor } from '../machines/cluster.ts';
import { podMachine, type PodInput, type PodReport, type ZoneHealth, type ZoneUp } from '../machines/pod.ts';

const ROLE_ENV = 'REDDWARF_BENCH_ROLE';
const LAYOUT_ENV = 'REDDWARF_BENCH_LAYOUT';
const LAYOUTS = ['systems', 'nodes', 'flat'] as const;
type Layout = (typeof LAYOUTS)[number];

const { values: args } = parseArgs({
  options: {
    pods: { type: 'string', default: '10000' },
    ticks: { type: 'string', default: '3' },
    'tick-ms': { type: 'string', default: '30000' },
    layouts: { type: 'string', default: LAYOUTS.join(',') },
    'flat-pods': { type: 'string', default: '2000' },
    'per-node': { type: 'string', default: '110' },
    warmup: { type: 'string', default: '300' },
    'timeout-seconds': { type: 'string', default: '300' },
  },
});
const ALL_PODS = Number(args.pods);
const FLAT_PODS = Number(args['flat-pods']);
const PODS = process.env[LAYOUT_ENV] === 'flat' ? FLAT_PODS : ALL_PODS;
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

const counters = { provisioned: 0, running: 0, checks: 0, records: 0, failures: 0 };
const ipOf = (n: number): string => `10.${88 + (n >>> 16)}.${(n >>> 8) & 255}.${n & 255}`;

const benchPod = podMachine.provide({
  actors: {
    provisionZone: fromPromise<ZoneUp, { key: string }>(async () => ({ podIP: ipOf(counters.provisioned++) })),
    checkZone: fromPromise<ZoneHealth, { key: string }>(async () => {
      counters.checks++;
      return 'running';
    }),
    restartZone: fromPromise<ZoneUp, { key: string }>(async () => ({ podIP: ipOf(counters.provisioned++) })),
    shutdownZone: fromPromise<void, { key: string; graceMs: number }>(async () => {}),
    haltZone: fromPromise<void, { key: string }>(async () => {}),
    deprovisionZone: fromPromise<{ problems: string[] }, { key: string }>(async () => ({ problems: [] })),
    finalizePod: fromPromise<void, { key: string; uid: string }>(async () => {}),
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
  actors: { pod: benchPod },
  actions: {
    childFailed: (_, { actorId, error }) => {
      counters.failures++;
      if (counters.failures <= 3) progress(`actor ${actorId} failed: ${String(error)}`);
    },
  },
});

/** A root whose children are cluster actors used as per-node pod parents (layout `nodes`). */
const nodesRoot = setup({
  types: {} as { context: { groups: number }; input: { groups: number }; events: { type: `xstate.error.actor.${string}`; actorId: string; error: unknown } },
  actors: { group: hostLogic },
}).createMachine({
  context: ({ input }) => ({ groups: input.groups }),
  entry: enqueueActions(({ enqueue, context }) => {
    for (let g = 0; g < context.groups; g++) enqueue.spawnChild('group', { id: `node-${g}`, systemId: `node-pods/${g}` });
  }),
  on: {
    'xstate.error.actor.*': {
      actions: () => {
        counters.failures++;
      },
    },
  },
});

interface Host {
  /** Binds pod `i`. */
  bind(i: number, input: PodInput): void;
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
  if (layout === 'flat') {
    const root = createActor(hostLogic, { systemId: 'cluster', clock });
    watchErrors(root);
    root.start();
    return {
      bind: (_i, input) => root.send({ type: 'POD_BOUND', input }),
      pods: () => podsOf([root]),
      pendingTimers: () => timers([root]),
      stop: () => root.stop(),
    };
  }
  if (layout === 'nodes') {
    const root = createActor(nodesRoot, { input: { groups }, clock });
    watchErrors(root);
    root.start();
    const refs = Array.from({ length: groups }, (_, g) => root.system.get(`node-pods/${g}`) as AnyActorRef);
    return {
      bind: (i, input) => refs[Math.floor(i / PER_NODE)]?.send({ type: 'POD_BOUND', input }),
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

const inputOf = (i: number, prefix: string): PodInput => ({ key: `bench/${prefix}-${i}`, uid: randomUUID(), restartPolicy: 'Always', reconcileMs: TICK_MS });

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
    const p: PlainPod = { key: input.key, uid: input.uid, restartPolicy: input.restartPolicy, restartCount: 0, adopt: 'new', backoffMs: 10_000, graceMs: 30_000, reconcileMs: input.reconcileMs ?? 30_000, podIP: undefined, removed: false, problems: [], state: 'Provisioning' };
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

async function layoutMain(layout: Layout): Promise<void> {
  progress(`warm-up: ${WARMUP} pods`);
  await runBaseline(WARMUP, 'warm', false);
  await runActors(layout, WARMUP, 'warm', false);
  const baseline = await runBaseline(PODS, 'b', true);
  const actors = await runActors(layout, PODS, 'p', true);
  const sum = (xs: { cpu_ms: number }[]): number => xs.reduce((a, x) => a + x.cpu_ms, 0);
  const ratio = (a: number, b: number): number => (b > 0 ? round(a / b, 2) : 0);
  const result = {
    layout,
    pods: PODS,
    parents: layout === 'flat' ? 1 : Math.ceil(PODS / PER_NODE),
    actor_systems: layout === 'systems' ? Math.ceil(PODS / PER_NODE) : 1,
    ...actors,
    baseline,
    heap_ratio: ratio(actors.heap_per_actor_bytes, baseline.heap_per_object_bytes),
    running_cpu_ratio: ratio(actors.to_running.cpu_ms, baseline.to_running.cpu_ms),
    tick_cpu_ratio: ratio(sum(actors.ticks), sum(baseline.ticks)),
    peak_rss_mb: Math.round(process.resourceUsage().maxRSS / 1024),
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
    progress(`${layout}: ${layout === 'flat' ? FLAT_PODS : ALL_PODS} pods, ${TICKS} ticks of ${TICK_MS} ms (simulated), ≤ ${PER_NODE} pods per parent where it applies`);
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
    params: { pods: ALL_PODS, flat_pods: FLAT_PODS, ticks: TICKS, tick_ms: TICK_MS, per_node: PER_NODE, warmup: WARMUP, clock: 'SimulatedClock', effects: 'in-memory promises resolving at once' },
    total_s: round((performance.now() - t0) / 1000),
    results,
  }));
}

const role = process.env[ROLE_ENV];
(role === 'layout' ? layoutMain(process.env[LAYOUT_ENV] as Layout) : driverMain()).catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
