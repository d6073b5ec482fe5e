// Pod startup latency: create → Running as a watching user sees it, at a steady create rate.
//
// This process runs what `reddwarf up` runs (src/cli/run.ts): runControlPlane (API server over
// HTTP, scheduler, node liveness) and a node agent (startAgent, the in-process LocalClient, the
// mock zone runtime) in a temporary data directory. A child process is the user: it opens a
// WebSocket watch on /api/v1/namespaces/default/pods, then POSTs pods open-loop at --rate per
// second for --seconds (1,000/s × 30 s = 30,000 pods by default), whatever the answers take,
// over keep-alive node:http sockets. Per pod it stamps the create's 201 (ack), the first event
// with spec.nodeName (bound) and the first MODIFIED with status.phase=Running; latency = Running − ack,
// both on the child's clock. Pods carry no resource requests and the node gets --max-pods above
// the pod count, so every pod fits on the one node (with `up`'s defaults only 110 would).
//
// Differences from `up`, on purpose: the mock runtime's step delay is --step-delay-ms (0 by
// default; `--step-delay-ms up` keeps `up`'s 20–50 ms per step), and --max-pods.
//
// Modes (--modes, default plain+statefile,inspect+statefile), each on a fresh data directory and
// a fresh stack, in this process one after the other:
//   plain      no inspection observer.
//   inspect    the same with `agent.pods.actor.system.inspect(observer)`, an observer that only
//              counts (XSTATE.md §1.6): what any attached inspector costs before it does any work.
//   +statefile suffix: the mock runtime exactly as `up` has it, its state log included (one
//              appended line per zone step, src/runtime/mock.ts). Without it the mock's private
//              save() is replaced with a no-op, to see what the state costs.
//
// Goals (issue 14, `goals` in the JSON, from the first mode with the state file): ≥ 1,000 pods/s
// sustained for 30 s (every pod Running, drain < 2 s), create→Running p99 ≤ 250 ms, and no growth
// of p50 with N (the last fifth's p50 ≤ 1.5 × the first fifth's + 10 ms).
//
// Reading it: created = 201s; running = pods seen Running before the end; backlog = creates sent −
// pods Running at a moment (an unanswered create counts: the API can be the queue);
// backlog_at_window_end is that when the last create was due (--seconds after the first),
// drain_s the time from then to the last Running. kept_up: every pod Running and drain_s < 2
// (the system keeps pace with the rate rather than queueing). ack = send → 201.
// latency_first_fifth/last_fifth p50 compare the start of the run with its end: growth means a
// cost that rises with the number of pods. Server side: event-loop delay of this process
// (p99/max), its CPU, peak RSS/heap, errors nothing caught, lines the stack logged, and how long
// the agent and the control plane took to stop with all pods live. The machine's other load moves
// these numbers a lot (loadavg_1m per mode is [start, end]); server.cpu_ms_per_pod and
// inspect_cpu_ratio move less than latencies do when the system is near saturation.
//
// Usage: node --import tsx bench/startup.ts [--seconds 30] [--rate 1000] [--drain-seconds 60]
//        [--modes plain+statefile,inspect+statefile] [--step-delay-ms N|up]
//        [--http auto|uws|node] [--max-pods N]
// Progress goes to stderr; the last line of stdout is one JSON object.
import { OpenLoop, postPod } from './lib/open-loop.ts';
import { ROLE_ENV, serveSpecs, SpecRunner } from './lib/child.ts';
import { rmSync, mkdtempSync } from 'node:fs';
import http from 'node:http';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import WebSocket from 'ws';


const round = (x: number, digits = 1): number => Number(x.toFixed(digits));

function percentile(sorted: Float64Array, q: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? NaN;
}

function stats(xs: number[]): { p50_ms: number; p99_ms: number; max_ms: number } {
  const s = Float64Array.from(xs).sort();
  return { p50_ms: round(percentile(s, 0.5)), p99_ms: round(percentile(s, 0.99)), max_ms: round(s[s.length - 1] ?? NaN) };
}

// ---------------------------------------------------------------------------------------------
// The user (child process): watch + open-loop creates.

interface LoadSpec {
  port: number;
  rate: number;
  seconds: number;
  drainSeconds: number;
  label: string;
}

interface LoadResult {
  planned: number;
  created: number;
  create_errors: number;
  first_create_error?: string;
  running: number;
  running_before_ack: number;
  latency: { p50_ms: number; p99_ms: number; max_ms: number };
  latency_first_fifth_p50_ms: number;
  latency_last_fifth_p50_ms: number;
  ack: { p50_ms: number; p99_ms: number; max_ms: number };
  bound: { p50_ms: number; p99_ms: number; max_ms: number };
  bound_to_running: { p50_ms: number; p99_ms: number; max_ms: number };
  create_rate_achieved: number;
  sender_max_lag_ms: number;
  backlog_at_window_end: number;
  last_ack_after_window_s: number;
  backlog_max: number;
  /** Acked − Running, sampled every second from the first create. */
  backlog_by_s: number[];
  drain_s: number | null;
  watch_events: number;
  watch_closed: string | null;
}

function podBody(name: string): Buffer {
  return Buffer.from(JSON.stringify({ apiVersion: 'v1', kind: 'Pod', metadata: { name, labels: { app: 'startup' } }, spec: { containers: [{ name: 'app', image: 'nginx:1.27' }] } }));
}

async function runLoad(s: LoadSpec): Promise<LoadResult> {
  const planned = Math.round(s.rate * s.seconds);
  const bound = new Float64Array(planned);
  const running = new Float64Array(planned);
  let runningCount = 0;
  let watchEvents = 0;
  let watchClosed: string | null = null;
  let lastRunningAt = 0;

  const base = `http://127.0.0.1:${s.port}/api/v1/namespaces/default/pods`;
  const list = (await (await fetch(base)).json()) as { metadata: { resourceVersion: string } };
  const ws = new WebSocket(`ws://127.0.0.1:${s.port}/api/v1/namespaces/default/pods?watch=1&resourceVersion=${list.metadata.resourceVersion}`, { perMessageDeflate: false });
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  ws.on('close', (code, reason) => {
    watchClosed = `${code} ${reason.toString()}`;
  });
  ws.on('message', (data: Buffer) => {
    const now = performance.now();
    watchEvents++;
    const e = JSON.parse(data.toString('utf8')) as { type: string; object: { metadata?: { name?: string }; spec?: { nodeName?: string }; status?: { phase?: string } } };
    const name = e.object.metadata?.name;
    if (!name?.startsWith('s-')) return;
    const i = Number(name.slice(2));
    if (!(i >= 0 && i < planned)) return;
    if (bound[i] === 0 && e.object.spec?.nodeName) bound[i] = now;
    if (e.type === 'MODIFIED' && running[i] === 0 && e.object.status?.phase === 'Running') {
      running[i] = now;
      runningCount++;
      lastRunningAt = now;
    }
  });

  const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
  const load = new OpenLoop(planned, s.rate, (i) => postPod(agent, s.port, podBody(`s-${i}`)));
  const { t0, sent, ack } = load;
  const backlog: number[] = [];
  const sampler = setInterval(() => backlog.push(load.next - runningCount), 1000);
  let reported = 0;
  await load.run(() => {
    if (load.next - reported >= 1000) {
      reported = load.next - (load.next % 1000);
      process.stderr.write(`[bench:startup ${s.label}] ${reported} creates sent, ${load.created} acked, ${runningCount} Running\n`);
    }
  });
  const windowEnd = t0 + s.seconds * 1000;
  await new Promise((r) => setTimeout(r, Math.max(0, windowEnd - performance.now())));
  const backlogAtWindowEnd = load.next - runningCount;
  await Promise.all(load.inFlight);
  const lastAck = performance.now();
  const { created, errors: createErrors, firstError, next, maxLagMs: maxLag } = load;
  process.stderr.write(`[bench:startup ${s.label}] all ${planned} creates answered after ${round((lastAck - t0) / 1000, 2)} s: ${created} created, ${runningCount} Running; draining up to ${s.drainSeconds} s\n`);
  const drainEnd = windowEnd + s.drainSeconds * 1000;
  let lastReport = performance.now();
  while (runningCount < created && performance.now() < drainEnd) {
    await new Promise((r) => setTimeout(r, 50));
    if (performance.now() - lastReport > 5000) {
      lastReport = performance.now();
      process.stderr.write(`[bench:startup ${s.label}] draining: ${runningCount} of ${created} Running\n`);
    }
  }
  clearInterval(sampler);
  backlog.push(next - runningCount);
  ws.close();
  agent.destroy();

  const latencies: number[] = [];
  const acks: number[] = [];
  const binds: number[] = [];
  const bindToRun: number[] = [];
  let beforeAck = 0;
  const order: { i: number; l: number }[] = [];
  for (let i = 0; i < planned; i++) {
    if (ack[i] === 0) continue;
    acks.push((ack[i] as number) - (sent[i] as number));
    if (bound[i] !== 0) binds.push((bound[i] as number) - (ack[i] as number));
    if (running[i] === 0) continue;
    if ((running[i] as number) < (ack[i] as number)) beforeAck++;
    const l = Math.max(0, (running[i] as number) - (ack[i] as number));
    latencies.push(l);
    order.push({ i, l });
    if (bound[i] !== 0) bindToRun.push((running[i] as number) - (bound[i] as number));
  }
  const fifth = Math.max(1, Math.floor(order.length / 5));
  const p50Of = (xs: { l: number }[]): number => stats(xs.map((x) => x.l)).p50_ms;
  return {
    planned,
    created,
    create_errors: createErrors,
    ...(firstError ? { first_create_error: firstError } : {}),
    running: runningCount,
    running_before_ack: beforeAck,
    latency: stats(latencies),
    latency_first_fifth_p50_ms: p50Of(order.slice(0, fifth)),
    latency_last_fifth_p50_ms: p50Of(order.slice(-fifth)),
    ack: stats(acks),
    bound: stats(binds),
    bound_to_running: stats(bindToRun),
    create_rate_achieved: round(created / ((lastAck - t0) / 1000)),
    sender_max_lag_ms: round(maxLag),
    backlog_at_window_end: backlogAtWindowEnd,
    last_ack_after_window_s: round((lastAck - windowEnd) / 1000, 2),
    backlog_max: Math.max(backlogAtWindowEnd, ...backlog),
    backlog_by_s: backlog,
    drain_s: runningCount >= created && created > 0 ? round(Math.max(0, lastRunningAt - windowEnd) / 1000, 2) : null,
    watch_events: watchEvents,
    watch_closed: watchClosed,
  };
}


// ---------------------------------------------------------------------------------------------
// The stack (this process).

const progress = (m: string): void => void process.stderr.write(`[bench:startup] ${m}\n`);

/** Errors nothing caught (the stack's, not the bench's): counted per mode and phase, not fatal. */
let phase = 'setup';
const uncaught: { phase: string; error: string }[] = [];
function onUncaught(e: unknown): void {
  const error = String((e as Error)?.message ?? e);
  uncaught.push({ phase, error });
  if (uncaught.length <= 5) progress(`uncaught during ${phase}: ${String((e as Error)?.stack ?? e)}`);
}

type User = SpecRunner<LoadSpec, LoadResult>;

interface Options {
  seconds: number;
  rate: number;
  drainSeconds: number;
  /** undefined: the mock runtime's own default (20–50 ms), as `up` runs it. */
  stepDelay: number | undefined;
  http: string;
  maxPods: number;
}

async function runMode(mode: string, o: Options, user: User): Promise<Record<string, unknown>> {
  const inspect = mode.startsWith('inspect');
  const stateFile = mode.endsWith('+statefile');
  const { runControlPlane } = await import('../src/cli/run.ts');
  const { startAgent } = await import('../src/agent/agent.ts');
  const dataDir = mkdtempSync(join(tmpdir(), 'reddwarf-bench-startup-'));
  const logs: string[] = [];
  let logCount = 0;
  const log = (m: string): void => {
    logCount++;
    if (logs.length < 20) logs.push(m);
    if (logCount <= 10) progress(`${mode} log: ${m}`);
    else if (logCount === 11) progress(`${mode} log: … (further lines counted, not shown)`);
  };
  const cp = await runControlPlane({ bind: '127.0.0.1:0', dataDir, http: o.http, kubeMinor: '31', nodeMonitorGracePeriod: '40s', allowedOrigins: '', inspectorUrl: 'https://stately.ai/inspect' }, log);
  const agent = await startAgent({
    client: cp.client,
    nodeName: 'bench-node',
    dataDir,
    runtime: 'mock',
    podCidr: '10.88.0.0/16',
    systemReservedCpu: '100m',
    systemReservedMemory: '256Mi',
    maxPods: o.maxPods,
    brands: ['lx', 'sparse'],
    etherstub: 'reddwarf0',
    zonepathPrefix: '/rpool/zones',
    ...(o.stepDelay !== undefined ? { mockStepDelayMs: o.stepDelay } : {}),
    log,
  });
  // No pod exists yet: swapping the mock's state-file writer now affects every step of the run.
  if (!stateFile) (agent.runtime as unknown as { save: () => Promise<void> }).save = () => Promise.resolve();
  let inspectionEvents = 0;
  const subscription = inspect ? agent.pods.actor.system.inspect(() => void inspectionEvents++) : undefined;
  const port = cp.server.listening.port;
  const seconds = o.seconds;
  const uncaught0 = uncaught.length;
  phase = `${mode}: run`;
  progress(`${mode}: ${cp.server.url} (${cp.server.listening.transport}), data in ${dataDir}; ${o.rate} pods/s for ${seconds} s`);

  const loop = monitorEventLoopDelay({ resolution: 10 });
  loop.enable();
  let peakRss = 0;
  let peakHeap = 0;
  const mem = setInterval(() => {
    const m = process.memoryUsage();
    peakRss = Math.max(peakRss, m.rss);
    peakHeap = Math.max(peakHeap, m.heapUsed);
  }, 500);
  const load0 = loadavg()[0] ?? 0;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  let load: LoadResult | { error: string };
  try {
    load = await user.run({ port, rate: o.rate, seconds, drainSeconds: o.drainSeconds, label: mode });
  } catch (e) {
    load = { error: String(e) };
  }
  const wall = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  loop.disable();
  clearInterval(mem);
  subscription?.unsubscribe();
  const podActors = Object.keys(agent.pods.actor.system.getAll()).filter((k) => k.startsWith('pod/')).length;
  const pendingTimers = Object.keys(agent.pods.actor.system.getSnapshot()._scheduledEvents).length;
  const zones = (await agent.runtime.list()).length;
  progress(`${mode}: stopping the agent with ${podActors} pod actors live (${pendingTimers} pending timers)`);
  phase = `${mode}: agent stop`;
  let t = performance.now();
  await agent.stop();
  const agentStop = (performance.now() - t) / 1000;
  progress(`${mode}: agent stopped in ${round(agentStop, 2)} s`);
  phase = `${mode}: control plane stop`;
  t = performance.now();
  await cp.stop();
  const cpStop = (performance.now() - t) / 1000;
  // What the stopped stack still had in flight settles here, and counts for this mode.
  phase = `${mode}: after stop`;
  await new Promise((r) => setTimeout(r, 2000));
  rmSync(dataDir, { recursive: true, force: true });
  const mine = uncaught.slice(uncaught0);
  const created = 'created' in load ? load.created : 0;
  return {
    mode,
    loadavg_1m: [round(load0, 2), round(loadavg()[0] ?? 0, 2)],
    ...load,
    mock_state_file: stateFile,
    inspection_events: inspect ? inspectionEvents : 0,
    server: {
      seconds: round(wall, 2),
      cpu_s: round((cpu.user + cpu.system) / 1e6, 2),
      cpu_util: round((cpu.user + cpu.system) / 1e6 / wall, 2),
      cpu_ms_per_pod: created > 0 ? round((cpu.user + cpu.system) / 1000 / created, 2) : null,
      event_loop_delay_p99_ms: round(loop.percentile(99) / 1e6),
      event_loop_delay_max_ms: round(loop.max / 1e6),
      peak_rss_mb: Math.round(peakRss / 2 ** 20),
      peak_heap_mb: Math.round(peakHeap / 2 ** 20),
      pod_actors: podActors,
      pending_timers: pendingTimers,
      zones,
      uncaught_errors: mine.length,
      uncaught_sample: [...new Map(mine.map((u) => [`${u.phase}: ${u.error}`, u])).keys()].slice(0, 5),
      log_lines: logCount,
      log_sample: logs.slice(0, 5),
      agent_stop_s: round(agentStop, 2),
      control_plane_stop_s: round(cpStop, 2),
    },
  };
}

/** Issue 14's startup goals against one mode's result (state file on, as `up` runs). */
function goals(r: LoadResult & { mode: string; kept_up: boolean }, rate: number, seconds: number): Record<string, { goal: string; value: number | boolean | null; pass: boolean }> {
  const first = r.latency_first_fifth_p50_ms;
  const last = r.latency_last_fifth_p50_ms;
  return {
    sustained_pods_per_s: { goal: '>= 1000 for 30 s, every pod Running, drain < 2 s', value: r.create_rate_achieved, pass: rate >= 1000 && seconds >= 30 && r.create_rate_achieved >= 0.95 * rate && r.kept_up },
    create_to_running_p99_ms: { goal: '<= 250', value: r.latency?.p99_ms ?? null, pass: (r.latency?.p99_ms ?? Infinity) <= 250 },
    p50_growth_last_vs_first_fifth: { goal: 'last fifth p50 <= 1.5 x first fifth p50 + 10 ms', value: first > 0 ? round(last / first, 2) : null, pass: Number.isFinite(last) && last <= 1.5 * first + 10 },
  };
}

async function driverMain(): Promise<void> {
  const { values } = parseArgs({
    options: {
      seconds: { type: 'string', default: '30' },
      rate: { type: 'string', default: '1000' },
      // How long to wait for the last pods after the create window ends.
      'drain-seconds': { type: 'string', default: '60' },
      modes: { type: 'string', default: 'plain+statefile,inspect+statefile' },
      'step-delay-ms': { type: 'string', default: '0' },
      http: { type: 'string', default: 'auto' },
      'max-pods': { type: 'string' },
    },
  });
  const seconds = Number(values.seconds);
  const rate = Number(values.rate);
  const modes = (values.modes ?? '').split(',').map((m) => m.trim()).filter(Boolean);
  for (const m of modes) if (!/^(plain|inspect)(\+statefile)?$/.test(m)) throw new Error(`unknown mode ${m}: use plain, inspect, plain+statefile, inspect+statefile`);
  const stepDelay = values['step-delay-ms'] === 'up' ? undefined : Number(values['step-delay-ms']);
  if (stepDelay !== undefined && !(stepDelay >= 0)) throw new Error(`--step-delay-ms must be a number of ms or "up" (got ${values['step-delay-ms']})`);
  const planned = Math.round(rate * seconds);
  const o: Options = {
    seconds,
    rate,
    drainSeconds: Number(values['drain-seconds']),
    stepDelay,
    http: values.http ?? 'auto',
    maxPods: values['max-pods'] ? Number(values['max-pods']) : planned + 100,
  };
  const load0 = loadavg()[0] ?? 0;
  process.on('uncaughtException', onUncaught);
  process.on('unhandledRejection', onUncaught);
  const user: User = await SpecRunner.start(fileURLToPath(import.meta.url), 'user', 'user process');
  const results: Record<string, unknown>[] = [];
  try {
    for (const mode of modes) {
      const r = await runMode(mode, o, user);
      const l = r as { latency?: { p50_ms: number; p99_ms: number; max_ms: number }; created?: number; running?: number; drain_s?: number | null; backlog_at_window_end?: number };
      progress(`${mode}: ${l.running}/${l.created} Running; create→Running p50 ${l.latency?.p50_ms} ms, p99 ${l.latency?.p99_ms} ms, max ${l.latency?.max_ms} ms; backlog at window end ${l.backlog_at_window_end}, drain ${l.drain_s ?? 'unfinished'} s`);
      results.push({ ...r, kept_up: l.running === l.created && l.drain_s !== null && l.drain_s !== undefined && l.drain_s < 2 });
    }
  } finally {
    user.stop();
  }
  const byMode = Object.fromEntries(results.map((r) => [r.mode as string, r]));
  const judged = results.find((r) => r.mock_state_file === true) as (LoadResult & { mode: string; kept_up: boolean }) | undefined;
  const lat = (m: string, k: 'p50_ms' | 'p99_ms'): number | undefined => (byMode[m] as { latency?: Record<string, number> } | undefined)?.latency?.[k];
  const plainP50 = lat('plain', 'p50_ms');
  const inspectP50 = lat('inspect', 'p50_ms');
  const cpuPerPod = (m: string): number | undefined => (byMode[m] as { server?: { cpu_ms_per_pod?: number } } | undefined)?.server?.cpu_ms_per_pod;
  const plainCpu = cpuPerPod('plain');
  const inspectCpu = cpuPerPod('inspect');
  console.log(JSON.stringify({
    bench: 'startup',
    node: process.version,
    cpus: availableParallelism(),
    platform: `${process.platform}-${process.arch}`,
    loadavg_1m: [round(load0, 2), round(loadavg()[0] ?? 0, 2)],
    params: { rate, seconds, planned, drain_seconds: o.drainSeconds, mock_step_delay_ms: o.stepDelay ?? '20-50 (up default)', http: o.http, max_pods: o.maxPods, pod: 'one container, no resource requests', watch: 'WebSocket, pods in default' },
    goals: judged ? goals(judged, rate, seconds) : null,
    goals_pass: judged ? Object.values(goals(judged, rate, seconds)).every((g) => g.pass) : false,
    inspect_p50_ratio: plainP50 && inspectP50 !== undefined ? round(inspectP50 / plainP50, 2) : null,
    inspect_cpu_ratio: plainCpu && inspectCpu !== undefined ? round(inspectCpu / plainCpu, 2) : null,
    results: byMode,
  }));
}

if (process.env[ROLE_ENV] === 'user') {
  serveSpecs(runLoad);
} else {
  driverMain().then(
    () => process.exit(0),
    (e: unknown) => {
      console.error(e);
      process.exit(1);
    },
  );
}
