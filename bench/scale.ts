// The Kubernetes scalability envelope on one box: hollow nodes, then pods created at a steady rate
// through the API, with Kubernetes' SLOs as the pass/fail lines.
//
// Processes (all on 127.0.0.1):
//   server  what `reddwarf up` runs minus the agent: runControlPlane (API server over HTTP,
//           scheduler, node liveness) on a fresh data directory; it samples its own RSS and heap
//           every 500 ms (peaks are reported). Authentication is on (a static token file): each
//           node is its own user, system:node:<name>, the user is admin. With --cpu-prof it
//           profiles itself during the pods phase (V8's sampler through node:inspector, what
//           --cpu-prof records), writes the .cpuprofile and reports the top 10 self-time
//           functions, mapped to .ts lines.
//   hollow  --processes of them, --nodes split among them: each node is the real startAgent over a
//           RemoteClient (registration, heartbeat or Lease renewal, the pod watch and pod actors,
//           status writes, events) with a no-op zone runtime and an in-memory IPAM
//           (bench/lib/hollow-node.ts). Node starts are spread over --spread-seconds so their
//           heartbeats are too. Every mutating call the agents make is timed by verb and resource.
//   user    one WebSocket watch on the pods of `default`, then --pods creates sent open-loop at
//           --rate per second (pod i at t0 + i/rate, whatever earlier answers take) over
//           --connections keep-alive sockets; per pod it stamps send, 201 (ack), the ADDED event,
//           the first event with spec.nodeName (bound) and the first with status.phase=Running.
//
// Before the pods, the nodes idle for --idle-seconds (at least one heartbeat round): what one
// hollow node costs (heap after a full GC, CPU per second) is measured then.
//
// SLOs (Kubernetes' where it has one):
//   mutating calls   p99 ≤ 1 s per verb and resource (upstream's API call latency SLO), the
//                    user's creates and every agent write alike; reported: the worst key. The
//                    user's run from the create's due time (open loop: time queued for one of
//                    the --connections sockets counts, as a user would see it).
//   pod startup      p99 ≤ 5 s create (201) → Running as the watch sees it, every pod Running.
//   watch delivery   p99 ≤ 1 s from commit to seen, on the user's watch (ADDED) and on the nodes'
//                    field-selected pod watches (the bind); the commit is when an in-process watch
//                    in the server saw it (wall clock, one box). Upstream has no number: the
//                    mutating-call budget stands in.
//   scheduler        binds/s over the bind window ≥ 0.9 × the achieved create rate (it keeps up).
//   create rate      achieved (201s / (last 201 − first send)) ≥ 0.95 × --rate.
//   server RSS, heap, LMDB size: no SLO, reported.
//
// Scale: 1/10 by default (500 nodes, 15,000 pods), --full for 5,000 nodes and 150,000 pods.
// Usage: node --import tsx bench/scale.ts [--full] [--nodes N] [--pods N] [--rate 1000]
//        [--processes N] [--connections 16] [--max-pods 110] [--spread-seconds 10]
//        [--idle-seconds 10] [--drain-seconds 60] [--http auto|uws|node]
//        [--max-requests-inflight 400] [--cpu-prof] [--prof-dir DIR]
// Progress goes to stderr; the last line of stdout is one JSON object.
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { Session } from 'node:inspector';
import { findSourceMap } from 'node:module';
import { randomBytes } from 'node:crypto';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import WebSocket from 'ws';
import { OpenLoop, postPod } from './lib/open-loop.ts';
import { ROLE_ENV, serveSpecs, SpecRunner } from './lib/child.ts';
import { hollowProcess, type HollowSpec, type HollowStats } from './lib/hollow-node.ts';
import type { Pod } from '../src/api/model/types.ts';
import type { Client } from '../src/client/client.ts';

const round = (x: number, digits = 1): number => Number(x.toFixed(digits));
const MB = 2 ** 20;

function percentile(sorted: ArrayLike<number>, q: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? NaN;
}

interface Dist {
  count: number;
  p50_ms: number;
  p99_ms: number;
  max_ms: number;
}

function dist(xs: ArrayLike<number>): Dist {
  const s = Float64Array.from(xs).sort();
  return { count: s.length, p50_ms: round(percentile(s, 0.5)), p99_ms: round(percentile(s, 0.99)), max_ms: round(s[s.length - 1] ?? NaN) };
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** `p`, or a rejection after `ms` (every wait on a child is bounded). */
function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([p, new Promise<T>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what}: no answer in ${Math.round(ms / 1000)} s`)), ms)))]).finally(() => clearTimeout(timer));
}

// ---------------------------------------------------------------------------------------------
// server: the control plane in its own process.

type ServerSpec = { op: 'start'; dataDir: string; http: string; tokenFile: string; maxRequestsInflight: number }
  | { op: 'stats' } | { op: 'pods-start'; prefix: string; pods: number; profile: boolean } | { op: 'pods-end'; profileDir?: string } | { op: 'stop' };

interface TopFunctions {
  file: string;
  busy_ms: number;
  idle_ms: number;
  top: { function: string; where: string; self_ms: number; share: number }[];
}

interface ServerAnswer {
  port?: number;
  peakRssBytes: number;
  peakHeapBytes: number;
  rssBytes: number;
  heapBytes: number;
  cpuMs: number;
  eventLoopP99Ms: number;
  eventLoopMaxMs: number;
  storeBytes: number;
  sched?: { runMs: number; waitMs: number };
  logLines: number;
  logSample: string[];
  stopMs?: number;
  profile?: TopFunctions;
  /** Per bench pod, when an in-process watch saw it created and bound (wall-clock ms): the commits, to within a tick. */
  committed?: { added: Float64Array; bound: Float64Array };
}

/** Bytes of the files under `dir` (the LMDB environment: data and lock files). */
function bytesUnder(dir: string): number {
  let total = 0;
  let entries: string[];
  try {
    entries = readdirSync(dir);
  } catch {
    return statSync(dir, { throwIfNoEntry: false })?.size ?? 0;
  }
  for (const e of entries) {
    const st = statSync(join(dir, e), { throwIfNoEntry: false });
    if (st?.isDirectory()) total += bytesUnder(join(dir, e));
    else total += st?.size ?? 0;
  }
  return total;
}

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number };
}

/**
 * The functions with the most self time in a V8 CPU profile, with their share of the busy
 * (non-idle) time; positions mapped through tsx's source maps (the process runs with
 * --enable-source-maps) to lines of the .ts files.
 */
function topSelfTime(prof: { nodes: ProfileNode[]; samples: number[]; timeDeltas: number[] }, file: string, top = 10): TopFunctions {
  const byId = new Map(prof.nodes.map((nd) => [nd.id, nd]));
  const self = new Map<string, { fn: string; where: string; us: number }>();
  let idle = 0;
  let total = 0;
  prof.samples.forEach((id, i) => {
    const dt = prof.timeDeltas[i + 1] ?? 0;
    const nd = byId.get(id);
    if (!nd) return;
    total += dt;
    const { functionName, url, lineNumber, columnNumber } = nd.callFrame;
    if (functionName === '(idle)') {
      idle += dt;
      return;
    }
    let where = '';
    if (url) {
      const entry = findSourceMap(url)?.findEntry(lineNumber, columnNumber) as { originalSource?: string; originalLine?: number } | undefined;
      const [source, line] = entry?.originalSource ? [entry.originalSource, (entry.originalLine ?? 0) + 1] : [url, lineNumber + 1];
      where = `${source.replace(/^file:\/\/.*?\/(node_modules|src|bench)\//, '$1/')}:${line}`;
    }
    const key = `${functionName}@${where}`;
    const e = self.get(key) ?? { fn: functionName || '(anonymous)', where, us: 0 };
    e.us += dt;
    self.set(key, e);
  });
  const busy = Math.max(1, total - idle);
  return {
    file,
    busy_ms: Math.round(busy / 1000),
    idle_ms: Math.round(idle / 1000),
    top: [...self.values()].sort((a, b) => b.us - a.us).slice(0, top).map((e) => ({ function: e.fn, where: e.where, self_ms: Math.round(e.us / 1000), share: round(e.us / busy, 3) })),
  };
}

/**
 * Linux: this process's threads' time on a CPU and waiting for one (ms, /proc/self/task/N/schedstat).
 * A server whose wait outgrows its run time was starved by the machine, not busy with its work.
 */
function schedstat(): { runMs: number; waitMs: number } | undefined {
  let runNs = 0;
  let waitNs = 0;
  try {
    for (const t of readdirSync('/proc/self/task')) {
      const [run = '0', wait = '0'] = readFileSync(`/proc/self/task/${t}/schedstat`, 'utf8').split(' ');
      runNs += Number(run);
      waitNs += Number(wait);
    }
  } catch {
    return undefined;
  }
  return { runMs: runNs / 1e6, waitMs: waitNs / 1e6 };
}

function serverProcess(): (spec: ServerSpec) => Promise<ServerAnswer> {
  const session = new Session();
  const post = (method: string): Promise<unknown> => new Promise((resolve, reject) => session.post(method, (err, r) => (err ? reject(err) : resolve(r))));
  let cp: { server: { listening: { port: number } }; client: Client; stop(): Promise<void> } | undefined;
  let committed: ServerAnswer['committed'];
  let stopStamps: (() => void) | undefined;
  let dataDir = '';
  let peakRss = 0;
  let peakHeap = 0;
  let logLines = 0;
  const logSample: string[] = [];
  const loop = monitorEventLoopDelay({ resolution: 10 });
  const sample = (): void => {
    const m = process.memoryUsage();
    peakRss = Math.max(peakRss, m.rss);
    peakHeap = Math.max(peakHeap, m.heapUsed);
  };
  const sampler = setInterval(sample, 500);
  sampler.unref();
  const answer = (extra: Partial<ServerAnswer> = {}): ServerAnswer => {
    sample();
    const m = process.memoryUsage();
    const cpu = process.cpuUsage();
    return {
      peakRssBytes: peakRss, peakHeapBytes: peakHeap, rssBytes: m.rss, heapBytes: m.heapUsed, cpuMs: (cpu.user + cpu.system) / 1000,
      eventLoopP99Ms: round(loop.percentile(99) / 1e6), eventLoopMaxMs: round(loop.max / 1e6),
      // The store's LMDB environment (<data-dir>/store); the TLS material beside it is not the store.
      storeBytes: dataDir ? bytesUnder(join(dataDir, 'store')) + bytesUnder(join(dataDir, 'store-lock')) : 0,
      ...(schedstat() ? { sched: schedstat() } : {}),
      logLines, logSample, ...extra,
    };
  };
  return async (spec) => {
    if (spec.op === 'start') {
      const { runControlPlane } = await import('../src/cli/run.ts');
      dataDir = spec.dataDir;
      const log = (m: string): void => {
        logLines++;
        if (logSample.length < 10) logSample.push(m);
      };
      cp = await runControlPlane({
        bind: '127.0.0.1:0', dataDir, http: spec.http, kubeMinor: '31', nodeMonitorGracePeriod: '40s', allowedOrigins: '', inspectorUrl: 'https://stately.ai/inspect',
        tokenFile: spec.tokenFile, maxRequestsInflight: String(spec.maxRequestsInflight),
      }, log);
      loop.enable();
      return answer({ port: cp.server.listening.port });
    }
    if (spec.op === 'stats') return answer();
    if (spec.op === 'pods-start') {
      const { prefix, pods } = spec;
      const added = new Float64Array(pods);
      const bound = new Float64Array(pods);
      committed = { added, bound };
      // The in-process client hears of a commit as soon as the store publishes it.
      stopStamps = cp?.client.watch<Pod>('pods', { namespace: 'default' }, {
        event(e) {
          const name = e.object.metadata.name;
          if (!name?.startsWith(prefix)) return;
          const i = Number(name.slice(prefix.length));
          if (!(i >= 0 && i < pods)) return;
          const now = performance.timeOrigin + performance.now();
          if (added[i] === 0) added[i] = now;
          if (bound[i] === 0 && e.object.spec?.nodeName) bound[i] = now;
        },
        closed: ({ message }) => logSample.push(`bench stamp watch closed: ${message ?? ''}`),
      });
      if (spec.profile) {
        session.connect();
        await post('Profiler.enable');
        await post('Profiler.start');
      }
      return answer();
    }
    if (spec.op === 'pods-end') {
      stopStamps?.();
      let profile: TopFunctions | undefined;
      if (spec.profileDir) {
        const { profile: p } = (await post('Profiler.stop')) as { profile: { nodes: ProfileNode[]; samples: number[]; timeDeltas: number[] } };
        session.disconnect();
        mkdirSync(spec.profileDir, { recursive: true });
        const file = join(spec.profileDir, `server-${process.pid}.cpuprofile`);
        writeFileSync(file, JSON.stringify(p));
        profile = topSelfTime(p, file);
      }
      return answer({ ...(profile ? { profile } : {}), ...(committed ? { committed } : {}) });
    }
    const t0 = performance.now();
    await cp?.stop();
    return answer({ stopMs: performance.now() - t0 });
  };
}

// ---------------------------------------------------------------------------------------------
// user: one watch, open-loop creates.

interface UserSpec {
  port: number;
  token: string;
  pods: number;
  rate: number;
  connections: number;
  drainSeconds: number;
}

interface UserResult {
  planned: number;
  sent: number;
  created: number;
  createErrors: number;
  firstCreateError?: string;
  running: number;
  bound: number;
  createMs: Float64Array;
  startupMs: Float64Array;
  startupFromSendMs: Float64Array;
  /** Per pod, when the watch saw it ADDED (wall-clock ms; 0: never). */
  addedAt: Float64Array;
  createRate: number;
  bindsPerS: number;
  bindsPeakPerS: number;
  senderMaxLagMs: number;
  createSeconds: number;
  drainSeconds: number | null;
  watchEvents: number;
  watchReconnects: number;
  watchClosed: string[];
}

function podBody(name: string): Buffer {
  return Buffer.from(JSON.stringify({
    apiVersion: 'v1', kind: 'Pod', metadata: { name, labels: { app: 'scale' } },
    spec: { containers: [{ name: 'app', image: 'registry.k8s.io/pause:3.9', resources: { requests: { cpu: '10m', memory: '16Mi' } } }] },
  }));
}

const PREFIX = 'scale-';

async function runUser(s: UserSpec): Promise<UserResult> {
  const n = s.pods;
  const added = new Float64Array(n);
  const bound = new Float64Array(n);
  const running = new Float64Array(n);
  let runningCount = 0;
  let boundCount = 0;
  let watchEvents = 0;
  let lastRv = '';
  const closed: string[] = [];
  let reconnects = 0;
  let stopping = false;
  const progress = (m: string): void => void process.stderr.write(`[bench:scale user] ${m}\n`);

  const base = `http://127.0.0.1:${s.port}/api/v1/namespaces/default/pods`;
  const auth = { authorization: `Bearer ${s.token}` };
  const list = (await (await fetch(`${base}?limit=1`, { headers: auth })).json()) as { metadata: { resourceVersion: string } };
  lastRv = list.metadata.resourceVersion;
  const onMessage = (data: Buffer): void => {
    const now = performance.now();
    watchEvents++;
    const e = JSON.parse(data.toString('utf8')) as { type: string; object: { metadata?: { name?: string; resourceVersion?: string }; spec?: { nodeName?: string }; status?: { phase?: string } } };
    if (e.object.metadata?.resourceVersion) lastRv = e.object.metadata.resourceVersion;
    const name = e.object.metadata?.name;
    if (!name?.startsWith(PREFIX)) return;
    const i = Number(name.slice(PREFIX.length));
    if (!(i >= 0 && i < n)) return;
    if (added[i] === 0) added[i] = now;
    if (bound[i] === 0 && e.object.spec?.nodeName) {
      bound[i] = now;
      boundCount++;
    }
    if (running[i] === 0 && e.object.status?.phase === 'Running') {
      running[i] = now;
      runningCount++;
    }
  };
  // A watch that ends (a slow-watcher cut-off, a restart) resumes from the last revision seen, a few times at most.
  const connect = (): Promise<WebSocket> => new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${s.port}/api/v1/namespaces/default/pods?watch=1&resourceVersion=${lastRv}`, { perMessageDeflate: false, headers: auth });
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
    ws.on('message', onMessage);
    ws.on('close', (code, reason) => {
      if (stopping) return;
      closed.push(`${code} ${reason.toString()}`);
      if (reconnects++ < 5) {
        progress(`watch closed (${code}); resuming from ${lastRv}`);
        connect().then((w) => (watch = w), (err: unknown) => closed.push(`reconnect: ${String(err)}`));
      }
    });
  });
  let watch = await connect();

  const agent = new http.Agent({ keepAlive: true, maxSockets: s.connections });
  const load = new OpenLoop(n, s.rate, (i) => postPod(agent, s.port, podBody(`${PREFIX}${i}`), s.token));
  const { t0, sent, ack } = load;
  let lastReport = t0;
  // Creates stop being sent after twice their planned time (and a minute): the run is bounded.
  await load.run((now) => {
    if (now - lastReport > 5000) {
      lastReport = now;
      progress(`${load.next} sent, ${load.created} created, ${boundCount} bound, ${runningCount} Running, ${load.inFlight.size} in flight`);
    }
  }, t0 + (2 * n * 1000) / s.rate + 60_000);
  // Answers still owed are waited for, within the drain.
  const drainEnd = performance.now() + s.drainSeconds * 1000;
  while (load.inFlight.size > 0 && performance.now() < drainEnd) await sleep(20);
  const { created, errors: createErrors, firstError, next, maxLagMs: maxLag, lastAck } = load;
  const createsDone = performance.now();
  progress(`creates done after ${round((createsDone - t0) / 1000, 2)} s: ${created} created, ${createErrors} errors; waiting up to ${s.drainSeconds} s for Running`);
  while (runningCount < created && performance.now() < drainEnd) {
    await sleep(50);
    if (performance.now() - lastReport > 5000) {
      lastReport = performance.now();
      progress(`draining: ${boundCount} bound, ${runningCount} of ${created} Running`);
    }
  }
  stopping = true;
  watch.close();
  agent.destroy();

  const createMs: number[] = [];
  const startup: number[] = [];
  const startupFromSend: number[] = [];
  const binds: number[] = [];
  let lastRunning = 0;
  for (let i = 0; i < n; i++) {
    const a = ack[i] as number;
    if (a === 0) continue;
    const snd = sent[i] as number;
    createMs.push(a - snd);
    if (bound[i] !== 0) binds.push(bound[i] as number);
    const r = running[i] as number;
    if (r !== 0) {
      startup.push(Math.max(0, r - a));
      startupFromSend.push(r - snd);
      lastRunning = Math.max(lastRunning, r);
    }
  }
  binds.sort((a, b) => a - b);
  const bindSpan = binds.length > 1 ? ((binds[binds.length - 1] as number) - (binds[0] as number)) / 1000 : 0;
  const perSecond = new Map<number, number>();
  for (const b of binds) perSecond.set(Math.floor(b / 1000), (perSecond.get(Math.floor(b / 1000)) ?? 0) + 1);
  return {
    planned: n, sent: next, created, createErrors, ...(firstError ? { firstCreateError: firstError } : {}),
    running: runningCount, bound: boundCount,
    createMs: Float64Array.from(createMs), startupMs: Float64Array.from(startup), startupFromSendMs: Float64Array.from(startupFromSend),
    addedAt: added.map((t) => (t === 0 ? 0 : performance.timeOrigin + t)),
    createRate: created > 0 ? round(created / ((lastAck - t0) / 1000)) : 0,
    bindsPerS: bindSpan > 0 ? round(binds.length / bindSpan) : 0,
    bindsPeakPerS: Math.max(0, ...perSecond.values()),
    senderMaxLagMs: round(maxLag),
    createSeconds: round((createsDone - t0) / 1000, 2),
    drainSeconds: runningCount >= created && created > 0 ? round(Math.max(0, lastRunning - createsDone) / 1000, 2) : null,
    watchEvents, watchReconnects: Math.min(reconnects, 5), watchClosed: closed.slice(0, 5),
  };
}

// ---------------------------------------------------------------------------------------------
// The driver.

const progress = (m: string): void => void process.stderr.write(`[bench:scale] ${m}\n`);

function mergeCalls(parts: HollowStats['calls'][]): { ms: Map<string, number[]>; errors: Map<string, number> } {
  const ms = new Map<string, number[]>();
  const errors = new Map<string, number>();
  for (const p of parts) {
    for (const [k, v] of Object.entries(p.ms)) {
      const xs = ms.get(k) ?? [];
      for (const x of v) xs.push(x);
      ms.set(k, xs);
    }
    for (const [k, v] of Object.entries(p.errors)) errors.set(k, (errors.get(k) ?? 0) + v);
  }
  return { ms, errors };
}

async function driverMain(): Promise<void> {
  const { values } = parseArgs({
    options: {
      full: { type: 'boolean', default: false },
      nodes: { type: 'string' },
      pods: { type: 'string' },
      rate: { type: 'string', default: '1000' },
      processes: { type: 'string' },
      connections: { type: 'string', default: '16' },
      'max-pods': { type: 'string', default: '110' },
      'spread-seconds': { type: 'string', default: '10' },
      'idle-seconds': { type: 'string', default: '10' },
      'drain-seconds': { type: 'string', default: '60' },
      http: { type: 'string', default: 'auto' },
      'max-requests-inflight': { type: 'string', default: '400' },
      'cpu-prof': { type: 'boolean', default: false },
      'prof-dir': { type: 'string' },
    },
  });
  const nodes = Number(values.nodes ?? (values.full ? 5000 : 500));
  const pods = Number(values.pods ?? (values.full ? 150_000 : 15_000));
  const rate = Number(values.rate);
  const processes = Number(values.processes ?? Math.max(1, Math.ceil(nodes / 500)));
  const connections = Number(values.connections);
  const maxPods = Number(values['max-pods']);
  const spreadMs = Number(values['spread-seconds']) * 1000;
  const idleMs = Number(values['idle-seconds']) * 1000;
  const drainSeconds = Number(values['drain-seconds']);
  const maxRequestsInflight = Number(values['max-requests-inflight']);
  for (const [k, v] of Object.entries({ nodes, pods, rate, processes, connections, maxPods, maxRequestsInflight })) {
    if (!(Number.isInteger(v) && v > 0)) throw new Error(`--${k} must be a positive whole number (got ${v})`);
  }
  if (nodes > 65_000) throw new Error('--nodes: at most 65,000 (one 127.0.x.y address and /24 pod CIDR each)');
  if (pods > nodes * maxPods) throw new Error(`--pods ${pods} do not fit on ${nodes} nodes of --max-pods ${maxPods}`);

  const load0 = loadavg()[0] ?? 0;
  const script = fileURLToPath(import.meta.url);
  const dataDir = mkdtempSync(join(tmpdir(), 'reddwarf-bench-scale-'));
  // The profile outlives the run's data directory.
  const profDir = values['prof-dir'] ?? (values['cpu-prof'] ? mkdtempSync(join(tmpdir(), 'reddwarf-bench-scale-prof-')) : '');
  // Authentication on, as a cluster runs it: each node is its own user (system:node:<name>, the node
  // authorizer applies, and the per-client watch limit counts each node alone), the user is admin.
  const nodeNames = Array.from({ length: nodes }, (_, i) => `hollow-${String(i).padStart(5, '0')}`);
  const secret = randomBytes(8).toString('hex');
  const tokenOf = (name: string): string => `${name}-${secret}`;
  const adminToken = `admin-${secret}`;
  mkdirSync(join(dataDir, 'server'), { recursive: true });
  const tokenFile = join(dataDir, 'tokens.csv');
  writeFileSync(tokenFile, [`${adminToken},scale-admin,scale-admin,"system:masters"`, ...nodeNames.map((n) => `${tokenOf(n)},system:node:${n},${n},"system:nodes"`)].join('\n') + '\n', { mode: 0o600 });
  const children: SpecRunner<unknown, unknown>[] = [];
  let result: Record<string, unknown>;
  try {
    // The server.
    // Source maps only for the profile's sake: its positions are mapped to .ts lines in the server.
    const server = await SpecRunner.start<ServerSpec, ServerAnswer>(script, 'server', 'server process', values['cpu-prof'] ? ['--enable-source-maps'] : []);
    children.push(server as SpecRunner<unknown, unknown>);
    const started = await within(server.run({ op: 'start', dataDir: join(dataDir, 'server'), http: values.http ?? 'auto', tokenFile, maxRequestsInflight }), 60_000, 'server start');
    const port = started.port as number;
    progress(`API server on 127.0.0.1:${port} (pid ${server.pid}); ${nodes} hollow nodes in ${processes} processes`);

    // The hollow nodes.
    const hollow = await Promise.all(Array.from({ length: processes }, (_, p) => SpecRunner.start<HollowSpec, HollowStats>(script, 'hollow', `hollow process ${p}`, ['--expose-gc'])));
    children.push(...(hollow as SpecRunner<unknown, unknown>[]));
    const empty = await Promise.all(hollow.map((h) => within(h.run({ op: 'stats' }), 30_000, 'hollow stats')));
    const t0 = performance.now();
    const starts = await Promise.all(hollow.map((h, p) => {
      const mine = Array.from({ length: nodes }, (_, i) => i).filter((i) => i % processes === p);
      return within(h.run({
        op: 'start', server: `http://127.0.0.1:${port}`, podPrefix: PREFIX, dataDir: join(dataDir, `hollow-${p}`), spreadMs, maxPods, concurrency: 32,
        // 127.0.x.y addresses and one /24 pod CIDR per node: nothing ever connects to them.
        nodes: mine.map((i) => ({ name: nodeNames[i] as string, token: tokenOf(nodeNames[i] as string), ip: `127.1.${i >> 8}.${i & 255}`, podCidr: `10.${i >> 8}.${i & 255}.0/24` })),
      }), spreadMs + 300_000, `hollow process ${p} start`);
    }));
    const registered = starts.reduce((a, s) => a + s.nodes, 0);
    const failedNodes = starts.reduce((a, s) => a + s.failed, 0);
    progress(`${registered} nodes registered in ${round((performance.now() - t0) / 1000, 2)} s (${failedNodes} failed${starts.find((s) => s.firstFailure)?.firstFailure ? `: ${starts.find((s) => s.firstFailure)?.firstFailure}` : ''}); idling ${idleMs / 1000} s`);

    // Idle: what a hollow node costs.
    const idle0 = await Promise.all(hollow.map((h) => within(h.run({ op: 'stats' }), 30_000, 'hollow stats')));
    const serverIdle0 = await within(server.run({ op: 'stats' }), 30_000, 'server stats');
    await sleep(idleMs);
    const idle1 = await Promise.all(hollow.map((h) => within(h.run({ op: 'stats' }), 30_000, 'hollow stats')));
    const serverIdle1 = await within(server.run({ op: 'stats' }), 30_000, 'server stats');
    const sum = (xs: HollowStats[], f: (s: HollowStats) => number): number => xs.reduce((a, s) => a + f(s), 0);
    const cpuOf = (s: HollowStats): number => s.cpuUserMs + s.cpuSystemMs;
    const perNode = {
      heap_kb: registered ? round((sum(idle1, (s) => s.heapAfterGcBytes ?? s.heapBytes) - sum(empty, (s) => s.heapAfterGcBytes ?? s.heapBytes)) / registered / 1024) : null,
      rss_kb: registered ? round((sum(idle1, (s) => s.rssBytes) - sum(empty, (s) => s.rssBytes)) / registered / 1024) : null,
      idle_cpu_ms_per_s: registered ? round((sum(idle1, cpuOf) - sum(idle0, cpuOf)) / registered / (idleMs / 1000), 3) : null,
      start_cpu_ms: registered ? round((sum(idle0, cpuOf) - sum(empty, cpuOf)) / registered, 2) : null,
      server_idle_cpu_ms_per_s: registered ? round((serverIdle1.cpuMs - serverIdle0.cpuMs) / registered / (idleMs / 1000), 3) : null,
    };
    progress(`one hollow node: ${perNode.heap_kb} KB heap, ${perNode.idle_cpu_ms_per_s} ms CPU/s idle; the server spends ${perNode.server_idle_cpu_ms_per_s} ms CPU/s per node idle`);

    // The pods.
    const user = await SpecRunner.start<UserSpec, UserResult>(script, 'user', 'user process');
    children.push(user as SpecRunner<unknown, unknown>);
    const server0 = await within(server.run({ op: 'stats' }), 30_000, 'server stats');
    const podsT0 = performance.now();
    const hollow0 = await Promise.all(hollow.map((h) => within(h.run({ op: 'stats' }), 30_000, 'hollow stats')));
    progress(`${pods} pods at ${rate}/s over ${connections} connections`);
    await within(server.run({ op: 'pods-start', prefix: PREFIX, pods, profile: values['cpu-prof'] ?? false }), 30_000, 'server pods-start');
    const u = await within(user.run({ port, token: adminToken, pods, rate, connections, drainSeconds }), ((2 * pods) / rate + 60 + drainSeconds + 60) * 1000, 'user');
    const podsWallS = (performance.now() - podsT0) / 1000;
    const server1 = await within(server.run({ op: 'pods-end', ...(values['cpu-prof'] ? { profileDir: profDir } : {}) }), 120_000, 'server pods-end');
    const hollow1 = await Promise.all(hollow.map((h) => within(h.run({ op: 'stats' }), 30_000, 'hollow stats')));
    progress(`${u.created} created (${u.createRate}/s), ${u.bound} bound, ${u.running} Running`);

    // Mutating calls: the user's creates and every agent write (during the pods phase and before).
    const calls = mergeCalls(hollow1.map((s) => s.calls));
    calls.ms.set('create pods (user)', Array.from(u.createMs));
    calls.errors.set('create pods (user)', u.createErrors);
    const byKey = Object.fromEntries([...calls.ms].sort().map(([k, v]) => [k, { ...dist(v), errors: calls.errors.get(k) ?? 0 }]));
    for (const [k, e] of calls.errors) if (!(k in byKey)) byKey[k] = { count: 0, p50_ms: NaN, p99_ms: NaN, max_ms: NaN, errors: e };
    const worst = Object.entries(byKey).filter(([, d]) => d.count > 0).sort((a, b) => b[1].p99_ms - a[1].p99_ms)[0];
    const startup = dist(u.startupMs);
    // Watch delivery, commit → seen: the user's watch (every pod of the namespace) and the nodes'
    // (each its own field selector), against the server's in-process stamps.
    const toUser: number[] = [];
    const toNodes: number[] = [];
    const committed = server1.committed;
    if (committed) {
      u.addedAt.forEach((t, i) => {
        const c = committed.added[i] as number;
        if (t !== 0 && c !== 0) toUser.push(Math.max(0, t - c));
      });
      for (const h of hollow1) {
        h.boundSeen.index.forEach((i, k) => {
          const c = committed.bound[i] as number;
          if (c !== 0) toNodes.push(Math.max(0, (h.boundSeen.at[k] as number) - c));
        });
      }
    }
    const delivery = { user: dist(toUser), nodes: dist(toNodes) };
    const deliveryP99 = Math.max(delivery.user.p99_ms, delivery.nodes.p99_ms);
    const podsCpuS = (server1.cpuMs - server0.cpuMs) / 1000;
    // What the idle nodes cost the server anyway (heartbeats), taken out to leave the pods' share.
    const serverIdleCpuPerS = (serverIdle1.cpuMs - serverIdle0.cpuMs) / idleMs;
    const hollowCpuS = (sum(hollow1, cpuOf) - sum(hollow0, cpuOf)) / 1000;

    // Stop, in order: the user, the nodes, the server.
    user.stop();
    const stops = await Promise.allSettled(hollow.map((h) => within(h.run({ op: 'stop' }), 30_000, 'hollow stop')));
    const serverStop = await within(server.run({ op: 'stop' }), 60_000, 'server stop').catch((e: unknown) => ({ error: String(e) }));
    for (const c of children) c.stop();
    const slo = (value: number | null, goal: string, pass: boolean | null): { value: number | null; goal: string; pass: boolean | null } => ({ value, goal, pass });
    result = {
      bench: 'scale',
      node: process.version,
      cpus: availableParallelism(),
      platform: `${process.platform}-${process.arch}`,
      loadavg_1m: [round(load0, 2), round(loadavg()[0] ?? 0, 2)],
      noisy: (loadavg()[0] ?? 0) > availableParallelism() * 1.5 || load0 > availableParallelism() ? 'machine busy: loadavg above the core count' : false,
      params: { nodes, pods, rate, processes, connections, max_pods: maxPods, max_requests_inflight: maxRequestsInflight, spread_s: spreadMs / 1000, idle_s: idleMs / 1000, drain_s: drainSeconds, http: values.http, full: values.full, pod: 'one container, requests 10m/16Mi', transport: 'HTTP/1.1 keep-alive creates; WebSocket watches' },
      slo: {
        mutating_call_p99_ms: { ...slo(worst ? worst[1].p99_ms : null, '≤ 1000 per verb and resource', worst ? Object.values(byKey).every((d) => d.count === 0 || d.p99_ms <= 1000) : null), worst: worst?.[0] },
        pod_startup_p99_ms: { ...slo(startup.p99_ms, '≤ 5000, create (201) → Running seen on a watch; every pod Running', startup.p99_ms <= 5000 && u.running === u.created && u.created > 0) },
        watch_delivery_p99_ms: { ...slo(deliveryP99, '≤ 1000, commit → seen, on the user\'s watch and on the nodes\'', deliveryP99 <= 1000), user_p99_ms: delivery.user.p99_ms, nodes_p99_ms: delivery.nodes.p99_ms },
        scheduler_binds_per_s: slo(u.bindsPerS, `≥ 0.9 × the achieved create rate (${round(0.9 * u.createRate)})`, u.bindsPerS >= 0.9 * u.createRate && u.bound === u.created),
        create_rate_per_s: slo(u.createRate, `≥ 0.95 × --rate (${round(0.95 * rate)})`, u.createRate >= 0.95 * rate && u.createErrors === 0),
        server_peak_rss_mb: slo(Math.round(server1.peakRssBytes / MB), 'none: reported', null),
        server_peak_heap_mb: slo(Math.round(server1.peakHeapBytes / MB), 'none: reported', null),
        lmdb_mb: slo(round(server1.storeBytes / MB), 'none: reported', null),
      },
      nodes: { registered, failed: failedNodes, register_s: round(Math.max(...starts.map((s) => s.startMs ?? 0)) / 1000, 2), per_hollow_node: perNode, hollow_processes_rss_mb: idle1.map((s) => Math.round(s.rssBytes / MB)) },
      pods: {
        planned: u.planned, sent: u.sent, created: u.created, create_errors: u.createErrors, ...(u.firstCreateError ? { first_create_error: u.firstCreateError } : {}),
        bound: u.bound, running: u.running, zones: sum(hollow1, (s) => s.zones),
        create_s: u.createSeconds, drain_s: u.drainSeconds, sender_max_lag_ms: u.senderMaxLagMs,
        startup, startup_from_send: dist(u.startupFromSendMs), watch_delivery: delivery,
        binds_per_s: u.bindsPerS, binds_peak_per_s: u.bindsPeakPerS,
        watch_events: u.watchEvents, watch_reconnects: u.watchReconnects, watch_closed: u.watchClosed,
      },
      mutating_calls: byKey,
      server: {
        pid: server.pid,
        peak_rss_mb: Math.round(server1.peakRssBytes / MB), peak_heap_mb: Math.round(server1.peakHeapBytes / MB),
        rss_mb_after: Math.round(server1.rssBytes / MB), heap_mb_after: Math.round(server1.heapBytes / MB),
        store_mb: round(server1.storeBytes / MB),
        // cpu_util well under 1 with latencies far over budget and runqueue_wait_per_s high: the
        // server was starved of CPU by the machine's other work, not idle.
        pods_phase_wall_s: round(podsWallS, 2), pods_phase_cpu_s: round(podsCpuS, 2), cpu_util: round(podsCpuS / podsWallS, 2),
        idle_nodes_cpu_util: round(serverIdleCpuPerS, 3),
        // Time the server's threads waited for a CPU while runnable, per second of the pods phase (Linux).
        ...(server0.sched && server1.sched ? { runqueue_wait_per_s: round((server1.sched.waitMs - server0.sched.waitMs) / 1000 / podsWallS, 2) } : {}),
        cpu_ms_per_pod: u.created ? round((podsCpuS * 1000) / u.created, 2) : null,
        cpu_ms_per_pod_net_of_idle: u.created ? round(((podsCpuS - serverIdleCpuPerS * podsWallS) * 1000) / u.created, 2) : null,
        event_loop_delay_p99_ms: server1.eventLoopP99Ms, event_loop_delay_max_ms: server1.eventLoopMaxMs,
        log_lines: server1.logLines, log_sample: server1.logSample.slice(0, 5),
        stop_ms: 'stopMs' in serverStop ? Math.round(serverStop.stopMs ?? 0) : serverStop,
        ...(server1.profile ? { cpu_profile_pods_phase: server1.profile } : {}),
      },
      hollow: {
        pods_phase_cpu_s: round(hollowCpuS, 2),
        event_loop_delay_p99_ms: hollow1.map((s) => s.eventLoopP99Ms),
        log_lines: sum(hollow1, (s) => s.logLines), log_sample: hollow1.flatMap((s) => s.logSample).slice(0, 5),
        stop_ms: stops.map((s) => (s.status === 'fulfilled' ? Math.round(s.value.stopMs ?? 0) : String(s.reason))),
      },
    };
  } finally {
    for (const c of children) c.stop();
    await sleep(500);
    // Children that did not leave when told are killed by pid.
    for (const c of children) {
      if (c.pid === undefined) continue;
      try {
        process.kill(c.pid, 'SIGKILL');
      } catch {
        // Already gone.
      }
    }
    rmSync(dataDir, { recursive: true, force: true });
  }
  console.log(JSON.stringify(result));
}

const role = process.env[ROLE_ENV];
if (role === 'server') serveSpecs(serverProcess());
else if (role === 'hollow') serveSpecs(hollowProcess());
else if (role === 'user') serveSpecs(runUser);
else {
  driverMain().then(
    () => process.exit(0),
    (e: unknown) => {
      console.error(e);
      process.exit(1);
    },
  );
}
