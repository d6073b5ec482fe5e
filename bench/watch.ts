// Watch fan-out: commit→delivery latency and loss with 1,000 WebSocket watchers.
//
// Per transport (uWebSockets.js and node:http + ws): the API server runs in this process; 1,000
// `ws` clients in one child process watch /api/v1/namespaces/default/pods?watch=1 from the
// current list resourceVersion; --writers (50) concurrent HTTP writers in a second child process
// then make --events (10,000) pod changes: --pods (2,000) creates, each followed by merge PATCHes
// of pods/status (4 each by default). Each write is durable before it is published.
//
// Clocks: this process subscribes to the store in-process (store.watch) before any watcher and
// stamps each pod event when the store publishes it, i.e. after the LMDB commit is flushed and just
// before the API's watchers get it; each watcher stamps each message as it arrives. All stamps are
// CLOCK_MONOTONIC (process.hrtime), shared by the three processes. `latency` is publish→receive.
//
// Reading it: events_expected = watchers × published pod events; events_lost must be 0, and
// duplicates and out_of_order too (per watcher, by resourceVersion). watchers_cut counts watchers
// the server closed with ERROR 410 (its 16 MiB per-watcher buffer limit) and watchers_closed any
// other close: both are findings, not noise. delivered_per_s = events delivered / wall, where
// wall runs from the first write to the last delivery. drain_s runs from the last write's ack to
// the last delivery: near 0 (or negative: every watcher had the last event before its writer had
// the ack) means the watchers kept up and the server is what limits the rate; when the client is
// the bottleneck, drain_s grows and latency is mostly queueing in socket buffers. Watch
// writes_per_s and write_p50_ms too: fan-out runs on the server's one JS thread, so a slow
// fan-out slows every write. server_peak_rss_mb is this process only (API server and store; the
// clients are other processes). The DESIGN.md fan-out figures (2.7M events/s with uWS publish)
// are for a server sending alone; here one machine runs server, clients and writers (and whatever
// else runs there: loadavg_1m is [start, end]).
//
// Writers start no new write after --write-seconds, so a slow fan-out shows as writes_truncated
// with fewer events_published than events_planned instead of an unbounded run. Watchers then get
// --idle-seconds without any message before what they lack counts as lost.
//
// Each transport runs twice: `max` with the writers unthrottled, `paced` at --rate writes/s (0
// skips it). Before them, `raw_publish` is the ceiling: a bare uWebSockets.js app publishing
// --raw-events pod-sized messages to one topic all the watchers subscribe to, as fast as this
// same watcher client takes them. `goals` holds issue 14's pass/fail lines: `sustained` (paced:
// >= 1,000 writes/s, 0 lost, p99 <= 50 ms) and `fanout` (max delivered_per_s >= 0.6 of raw).
//
// Usage: node --import tsx bench/watch.ts [--transport uws|node] [--watchers 1000] [--events 10000]
//        [--pods 2000] [--writers 50] [--rate 1000] [--raw-events N] [--write-seconds 40] [--idle-seconds 20]
//        [--watch-buffer-bytes N] [--slow-watchers K]
// To see the slow-watcher cut-off at work: K watchers stop reading until the writes are done, and
// N lowers the server's 16 MiB limit, e.g. --slow-watchers 2 --watch-buffer-bytes 65536 with
// --events 20000 (the kernel's loopback buffers absorb several MB before the server sees any).
// Progress goes to stderr; the last line of stdout is one JSON object.
import { fork, type ChildProcess } from 'node:child_process';
import http from 'node:http';
import { availableParallelism, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import WebSocket from 'ws';
import type { WebSocket as UwsWebSocket } from 'uWebSockets.js';

const ROLE_ENV = 'REDDWARF_BENCH_ROLE';

/** Milliseconds on CLOCK_MONOTONIC: comparable across processes on one host. */
const hrMs = (): number => Number(process.hrtime.bigint()) / 1e6;

const round = (x: number, digits = 3): number => Number(x.toFixed(digits));

function percentile(sorted: Float32Array | Float64Array, q: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? NaN;
}

type Msg = Record<string, unknown> & { op: string };

/** Runs one child role of this file, talking over IPC. */
class Child {
  private readonly waiters = new Map<string, { resolve: (m: Msg) => void; reject: (e: Error) => void }>();
  private readonly child: ChildProcess;
  /** Resolves when the child is listening for requests. */
  readonly ready: Promise<Msg>;
  constructor(role: string) {
    this.child = fork(fileURLToPath(import.meta.url), [], { env: { ...process.env, [ROLE_ENV]: role }, stdio: ['ignore', 2, 2, 'ipc'], serialization: 'advanced' });
    this.child.on('message', (m: Msg) => {
      const w = this.waiters.get(m.op);
      if (!w) return;
      this.waiters.delete(m.op);
      if (typeof m.error === 'string') w.reject(new Error(m.error));
      else w.resolve(m);
    });
    this.child.on('exit', (code, signal) => {
      for (const w of this.waiters.values()) w.reject(new Error(`${role} child exited with ${code ?? signal}`));
      this.waiters.clear();
    });
    this.ready = new Promise((resolve, reject) => this.waiters.set('ready', { resolve, reject }));
  }

  /** Sends `msg` and waits for the reply whose op is `reply`. */
  ask(msg: Msg, reply: string): Promise<Msg> {
    return new Promise((resolve, reject) => {
      this.waiters.set(reply, { resolve, reject });
      this.child.send(msg);
    });
  }

  stop(): void {
    if (this.child.connected) this.child.disconnect();
    this.child.kill();
  }
}

// ---------------------------------------------------------------------------------------------
// Watchers (child process).

interface OpenSpec {
  port: number;
  watchers: number;
  rv: number;
  /** Slots per watcher: revisions rv+1 … rv+span. */
  span: number;
  /** This many watchers stop reading until the writes are done (a slow consumer). */
  slow: number;
}

const RV_KEY = Buffer.from('"resourceVersion":"');
const CH_E = 'E'.charCodeAt(0);
const CH_B = 'B'.charCodeAt(0);
/** Offset of the type's first letter in `{"type":"…`. */
const TYPE_AT = '{"type":"'.length;

function watchersMain(): void {
  let spec: OpenSpec;
  let recv: Float32Array;
  let origin = 0;
  const sockets: WebSocket[] = [];
  const lastRv: number[] = [];
  const unique: number[] = [];
  const cutMessages: string[] = [];
  let duplicates = 0;
  let outOfOrder = 0;
  let outOfRange = 0;
  let bookmarks = 0;
  let errors = 0;
  let cut = 0;
  let closed = 0;
  let lastMessageAt = 0;
  let messages = 0;
  const closeCodes: Record<string, number> = {};
  const wasCut: boolean[] = [];
  const stopping = { value: false };

  // One stamp per socket read: ws emits every message of a chunk synchronously, so they all get
  // the time the chunk came in (hrtime per message would cost the busy client thread more).
  let stamp = 0;
  let stamped = false;
  const unstamp = (): void => {
    stamped = false;
  };
  const now = (): number => {
    if (!stamped) {
      stamp = hrMs();
      stamped = true;
      queueMicrotask(unstamp);
    }
    return stamp;
  };

  const onMessage = (w: number, data: Buffer): void => {
    const t = now();
    lastMessageAt = t;
    messages++;
    const c = data[TYPE_AT];
    if (c === CH_B) {
      bookmarks++;
      return;
    }
    if (c === CH_E) {
      errors++;
      const text = data.toString('utf8');
      if (text.includes('"code":410') && !wasCut[w]) {
        wasCut[w] = true;
        cut++;
      }
      if (cutMessages.length < 3) cutMessages.push(text.slice(0, 300));
      return;
    }
    const i = data.indexOf(RV_KEY);
    let rv = 0;
    for (let j = i + RV_KEY.length; j < data.length; j++) {
      const d = (data[j] as number) - 48;
      if (d < 0 || d > 9) break;
      rv = rv * 10 + d;
    }
    const slot = rv - spec.rv - 1;
    if (i < 0 || slot < 0 || slot >= spec.span) {
      outOfRange++;
      return;
    }
    const at = w * spec.span + slot;
    if (recv[at] !== 0) {
      duplicates++;
      return;
    }
    recv[at] = t - origin;
    unique[w] = (unique[w] ?? 0) + 1;
    if (rv < (lastRv[w] ?? 0)) outOfOrder++;
    else lastRv[w] = rv;
  };

  const open = async (s: OpenSpec): Promise<Msg> => {
    spec = s;
    recv = new Float32Array(s.watchers * s.span);
    origin = hrMs() - 1;
    const url = `ws://127.0.0.1:${s.port}/api/v1/namespaces/default/pods?watch=1&resourceVersion=${s.rv}`;
    let failed = 0;
    let firstFailure: string | undefined;
    const t0 = hrMs();
    const one = (w: number): Promise<void> =>
      new Promise((resolve) => {
        const ws = new WebSocket(url, { perMessageDeflate: false, skipUTF8Validation: true, allowSynchronousEvents: true });
        sockets[w] = ws;
        lastRv[w] = 0;
        unique[w] = 0;
        ws.on('message', (data: Buffer) => onMessage(w, data));
        ws.once('open', () => resolve());
        ws.on('error', (e) => {
          failed++;
          firstFailure ??= String(e);
          resolve();
        });
        ws.on('close', (code) => {
          if (stopping.value) return;
          // A cut watcher's close is counted as the cut.
          if (!wasCut[w]) closed++;
          closeCodes[code] = (closeCodes[code] ?? 0) + 1;
          resolve();
        });
      });
    // A few hundred handshakes at a time: the listen backlog is finite.
    for (let w = 0; w < s.watchers; w += 200) {
      await Promise.all(Array.from({ length: Math.min(200, s.watchers - w) }, (_, k) => one(w + k)));
    }
    for (let w = 0; w < Math.min(s.slow, s.watchers); w++) sockets[w]?.pause();
    return { op: 'opened', failed, firstFailure, ms: round(hrMs() - t0, 1) };
  };

  /** Resolves when every live watcher has `finalRv` (or nothing arrived for idleMs). */
  const drain = (finalRv: number, idleMs: number): Promise<Msg> =>
    new Promise((resolve) => {
      for (const ws of sockets) if (ws.isPaused) ws.resume();
      const check = (): void => {
        let behind = 0;
        for (let w = 0; w < spec.watchers; w++) {
          const ws = sockets[w];
          if (ws && ws.readyState === WebSocket.OPEN && (lastRv[w] ?? 0) < finalRv) behind++;
        }
        const idle = hrMs() - Math.max(lastMessageAt, startedAt) > idleMs;
        if (behind === 0 || idle) {
          clearInterval(timer);
          resolve({ op: 'drained', behind, idle: behind > 0 });
        }
      };
      const startedAt = hrMs();
      const timer = setInterval(check, 20);
    });

  const report = (revs: Float64Array, published: Float64Array): Msg => {
    const latencies = new Float32Array(spec.watchers * revs.length);
    let n = 0;
    let lost = 0;
    let lastDelivery = 0;
    const lostPerWatcher: number[] = [];
    for (let w = 0; w < spec.watchers; w++) {
      let mine = 0;
      for (let k = 0; k < revs.length; k++) {
        const slot = (revs[k] as number) - spec.rv - 1;
        const r = slot >= 0 && slot < spec.span ? (recv[w * spec.span + slot] as number) : 0;
        if (r === 0) {
          mine++;
          continue;
        }
        const t = r + origin;
        if (t > lastDelivery) lastDelivery = t;
        latencies[n++] = t - (published[k] as number);
      }
      lost += mine;
      if (mine > 0) lostPerWatcher.push(w);
    }
    const sorted = latencies.subarray(0, n).sort();
    let sum = 0;
    for (let k = 0; k < n; k++) sum += sorted[k] as number;
    return {
      op: 'report',
      delivered: n,
      lost,
      watchersMissingEvents: lostPerWatcher.length,
      duplicates,
      outOfOrder,
      outOfRange,
      bookmarks,
      errors,
      cut,
      closed,
      closeCodes,
      cutMessages,
      messages,
      lastDelivery,
      p50: percentile(sorted, 0.5),
      p90: percentile(sorted, 0.9),
      p99: percentile(sorted, 0.99),
      max: n > 0 ? (sorted[n - 1] as number) : NaN,
      mean: n > 0 ? sum / n : NaN,
    };
  };

  process.on('message', (m: Msg) => {
    const reply = (p: Promise<Msg> | Msg, op: string): void => {
      Promise.resolve(p).then(
        (r) => process.send?.(r),
        (e: unknown) => process.send?.({ op, error: String(e) }),
      );
    };
    if (m.op === 'open') reply(open(m.spec as OpenSpec), 'opened');
    else if (m.op === 'drain') reply(drain(m.finalRv as number, m.idleMs as number), 'drained');
    else if (m.op === 'report') {
      try {
        reply(report(m.revs as Float64Array, m.published as Float64Array), 'report');
      } catch (e) {
        reply({ op: 'report', error: String(e) }, 'report');
      }
    } else if (m.op === 'close') {
      stopping.value = true;
      for (const ws of sockets) ws.terminate();
      process.send?.({ op: 'closed' });
    }
  });
  process.on('disconnect', () => process.exit(0));
  process.send?.({ op: 'ready' });
}

// ---------------------------------------------------------------------------------------------
// Writers (child process).

interface WriteSpec {
  port: number;
  pods: number;
  updatesPerPod: number;
  writers: number;
  /** No new write starts after this many seconds (the run stays bounded when fan-out is slow). */
  seconds: number;
  /** Writes per second, all writers together; 0: as fast as the answers come. */
  rate: number;
}

function request(agent: http.Agent, port: number, method: string, path: string, type: string, body: unknown): Promise<{ status: number; text: string }> {
  const data = Buffer.from(JSON.stringify(body));
  return new Promise((resolve, reject) => {
    const req = http.request({ agent, host: '127.0.0.1', port, method, path, headers: { 'content-type': type, 'content-length': data.length, accept: 'application/json' } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.setNoDelay(true);
    req.on('error', reject);
    req.end(data);
  });
}

async function write(s: WriteSpec): Promise<Msg> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: s.writers });
  const latencies: number[] = [];
  let errors = 0;
  let firstError: string | undefined;
  const started = hrMs();
  const deadline = started + s.seconds * 1000;
  let truncated = false;
  // Paced: write k (of all writers) starts no earlier than k / rate seconds in.
  let issued = 0;
  const one = async (method: string, path: string, type: string, body: unknown, expect: number): Promise<boolean> => {
    if (s.rate > 0) {
      const at = started + (issued++ * 1000) / s.rate;
      const wait = at - hrMs();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    }
    if (hrMs() > deadline) {
      truncated = true;
      return false;
    }
    const t0 = performance.now();
    try {
      const r = await request(agent, s.port, method, path, type, body);
      if (r.status === expect) latencies.push(performance.now() - t0);
      else {
        errors++;
        firstError ??= `${method} ${path}: HTTP ${r.status} ${r.text.slice(0, 300)}`;
      }
    } catch (e) {
      errors++;
      firstError ??= `${method} ${path}: ${String(e)}`;
    }
    return true;
  };
  // Writer w owns pods w, w+writers, …: it creates each, then patches its status.
  const writer = async (w: number): Promise<void> => {
    for (let p = w; p < s.pods; p += s.writers) {
      const name = `w-${p}`;
      const going = await one('POST', '/api/v1/namespaces/default/pods', 'application/json', {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name, labels: { app: 'watch-bench' } },
        spec: { containers: [{ name: 'app', image: 'nginx:1.27', ports: [{ containerPort: 80 }] }] },
      }, 201);
      if (!going) return;
      for (let u = 1; u <= s.updatesPerPod; u++) {
        await one('PATCH', `/api/v1/namespaces/default/pods/${name}/status`, 'application/merge-patch+json', {
          status: { phase: 'Running', message: `step ${u}`, podIP: `10.0.${p % 250}.${u}` },
        }, 200);
      }
    }
  };
  await Promise.all(Array.from({ length: s.writers }, (_, w) => writer(w)));
  const finished = hrMs();
  agent.destroy();
  const sorted = Float64Array.from(latencies).sort();
  return {
    op: 'written',
    ok: latencies.length,
    errors,
    firstError,
    started,
    finished,
    truncated,
    p50: percentile(sorted, 0.5),
    p99: percentile(sorted, 0.99),
  };
}

function writersMain(): void {
  process.on('message', (m: Msg) => {
    if (m.op !== 'write') return;
    write(m.spec as WriteSpec).then(
      (r) => process.send?.(r),
      (e: unknown) => process.send?.({ op: 'written', error: String(e) }),
    );
  });
  process.on('disconnect', () => process.exit(0));
  process.send?.({ op: 'ready' });
}

// ---------------------------------------------------------------------------------------------
// Driver (this process: the API server).

const log = (m: string): void => {
  process.stderr.write(`[bench:watch] ${m}\n`);
};

/**
 * The ceiling: a bare uWebSockets.js app publishing `events` pod-sized messages to one topic that
 * every watcher subscribes to, as fast as the watchers take them (a batch per turn while the
 * server's send buffers stay small), measured by the same watcher client.
 */
async function rawPublish(watchers: number, events: number, sample: string): Promise<Record<string, unknown>> {
  const { loadUws } = await import('../src/server/uws.ts');
  const uws = loadUws();
  const app = uws.App();
  const sockets = new Set<UwsWebSocket<unknown>>();
  app.ws('/*', {
    maxBackpressure: 256 * 1024 * 1024,
    open(ws) {
      sockets.add(ws);
      ws.subscribe('raw');
    },
    close(ws) {
      sockets.delete(ws);
    },
  });
  const { token, port } = await new Promise<{ token: unknown; port: number }>((resolve, reject) => {
    app.listen('127.0.0.1', 0, (t) => (t ? resolve({ token: t, port: uws.us_socket_local_port(t as unknown as Parameters<typeof uws.us_socket_local_port>[0]) }) : reject(new Error('raw uWS cannot listen'))));
  });
  const proc = new Child('watchers');
  try {
    await proc.ready;
    const base = 1_000_000;
    const opened = await proc.ask({ op: 'open', spec: { port, watchers, rv: base, span: events + 1000, slow: 0 } satisfies OpenSpec }, 'opened');
    const frames = Array.from({ length: events }, (_, k) => Buffer.from(sample.replace('"resourceVersion":"RV"', `"resourceVersion":"${base + k + 1}"`)));
    const revs = new Float64Array(events);
    const published = new Float64Array(events);
    const started = hrMs();
    let k = 0;
    await new Promise<void>((resolve) => {
      const tick = (): void => {
        let backlog = 0;
        for (const ws of sockets) backlog += ws.getBufferedAmount();
        const room = backlog <= sockets.size * 64 * 1024;
        if (room) {
          for (let i = 0; i < 20 && k < events; i++, k++) {
            revs[k] = base + k + 1;
            published[k] = hrMs();
            app.publish('raw', frames[k] as Buffer);
          }
        }
        // Waiting for the watchers must not spin: they share the machine's cores with this process.
        if (k >= events) resolve();
        else if (room) setImmediate(tick);
        else setTimeout(tick, 1);
      };
      tick();
    });
    await proc.ask({ op: 'drain', finalRv: base + events, idleMs: 10_000 }, 'drained');
    const r = await proc.ask({ op: 'report', revs, published }, 'report');
    const wall = ((r.lastDelivery as number) - started) / 1000;
    return {
      watchers_open: watchers - (opened.failed as number),
      events,
      message_bytes: frames[0]?.length ?? 0,
      delivered: r.delivered,
      lost: r.lost,
      wall_s: round(wall),
      delivered_per_s: Math.round((r.delivered as number) / wall),
      latency_ms: { p50: round(r.p50 as number), p99: round(r.p99 as number) },
    };
  } finally {
    await proc.ask({ op: 'close' }, 'closed').catch(() => undefined);
    proc.stop();
    uws.us_listen_socket_close(token as Parameters<typeof uws.us_listen_socket_close>[0]);
  }
}

async function driverMain(): Promise<void> {
  const { values } = parseArgs({
    options: {
      transport: { type: 'string' },
      watchers: { type: 'string', default: '1000' },
      events: { type: 'string', default: '10000' },
      pods: { type: 'string', default: '2000' },
      writers: { type: 'string', default: '50' },
      'write-seconds': { type: 'string', default: '40' },
      'idle-seconds': { type: 'string', default: '20' },
      'watch-buffer-bytes': { type: 'string' },
      'slow-watchers': { type: 'string', default: '0' },
      rate: { type: 'string', default: '1000' },
      'raw-events': { type: 'string' },
    },
  });
  const { startServer, TRANSPORTS } = await import('../test/helpers/server.ts');
  const { DEFAULT_WATCH_LIMITS } = await import('../src/server/watch.ts');
  // Only to check that cut watchers are counted: a small limit makes the server cut them.
  const watchLimits = values['watch-buffer-bytes'] === undefined ? DEFAULT_WATCH_LIMITS : { ...DEFAULT_WATCH_LIMITS, maxBufferedBytes: Number(values['watch-buffer-bytes']) };
  type Transport = (typeof TRANSPORTS)[number];
  const transports: Transport[] = values.transport === undefined ? [...TRANSPORTS] : [values.transport as Transport];
  for (const t of transports) if (!TRANSPORTS.includes(t)) throw new Error(`unknown transport ${t}; use one of ${TRANSPORTS.join(', ')}`);
  const watchers = Number(values.watchers);
  const pods = Math.min(Number(values.pods), Number(values.events));
  const updatesPerPod = Math.max(0, Math.round(Number(values.events) / pods) - 1);
  const events = pods * (1 + updatesPerPod);
  const writers = Number(values.writers);
  const idleMs = Number(values['idle-seconds']) * 1000;
  const writeSeconds = Number(values['write-seconds']);
  const slow = Number(values['slow-watchers']);
  const rate = Number(values.rate);
  const rawEvents = Number(values['raw-events'] ?? events);

  const load0 = loadavg()[0] ?? 0;
  const guard = setTimeout(() => {
    log('giving up: the run took longer than 5 minutes');
    process.exit(2);
  }, 5 * 60_000);
  guard.unref();

  /** One run: fresh server, watchers and writers; `pace` writes/s (0: unthrottled). */
  const runOnce = async (transport: Transport, pace: number): Promise<Record<string, unknown>> => {
    let result: Record<string, unknown> | undefined;
    const server = await startServer(transport, { watchLimits });
    const port = Number(new URL(server.url).port);
    const watcherProc = new Child('watchers');
    const writerProc = new Child('writers');
    let peakRss = 0;
    const sampler = setInterval(() => {
      peakRss = Math.max(peakRss, process.memoryUsage.rss());
    }, 100);
    try {
      // The list resourceVersion a client would start from.
      const list = (await (await fetch(`${server.url}/api/v1/namespaces/default/pods`)).json()) as { metadata: { resourceVersion: string } };
      const rv = Number(list.metadata.resourceVersion);
      const revs: number[] = [];
      const published: number[] = [];
      const unsubscribe = server.store.watch('pods', rv, (e) => {
        if (e.object.metadata.namespace !== 'default') return;
        published.push(hrMs());
        revs.push(e.rev);
      });
      try {
        await Promise.all([watcherProc.ready, writerProc.ready]);
        const opened = await watcherProc.ask({ op: 'open', spec: { port, watchers, rv, span: events + 1000, slow } satisfies OpenSpec }, 'opened');
        log(`${transport}${pace ? ` @${pace}/s` : ' max'}: ${watchers - (opened.failed as number)} of ${watchers} watchers open from resourceVersion ${rv} in ${opened.ms} ms${opened.firstFailure ? ` (first failure: ${opened.firstFailure})` : ''}`);
        const rssBefore = process.memoryUsage.rss();
        log(`${transport}${pace ? ` @${pace}/s` : ' max'}: ${writers} writers making ${events} pod events (${pods} creates + ${updatesPerPod} status patches each)`);
        const written = await writerProc.ask({ op: 'write', spec: { port, pods, updatesPerPod, writers, seconds: writeSeconds, rate: pace } satisfies WriteSpec }, 'written');
        const wrote = ((written.finished as number) - (written.started as number)) / 1000;
        if (written.truncated) log(`${transport}${pace ? ` @${pace}/s` : ' max'}: writers stopped at the ${writeSeconds} s limit (--write-seconds) before making all ${events} events`);
        log(`${transport}${pace ? ` @${pace}/s` : ' max'}: ${written.ok} writes ok, ${written.errors} errors in ${wrote.toFixed(2)} s (p50 ${(written.p50 as number).toFixed(1)} ms, p99 ${(written.p99 as number).toFixed(1)} ms)${written.firstError ? `; first error: ${written.firstError}` : ''}`);
        const finalRv = revs[revs.length - 1] ?? rv;
        const drained = await watcherProc.ask({ op: 'drain', finalRv, idleMs }, 'drained');
        if (drained.idle) log(`${transport}${pace ? ` @${pace}/s` : ' max'}: ${drained.behind} watchers still lacked revision ${finalRv} after ${idleMs / 1000} s without a message`);
        const r = await watcherProc.ask({ op: 'report', revs: Float64Array.from(revs), published: Float64Array.from(published) }, 'report');
        const expected = watchers * revs.length;
        const wall = ((r.lastDelivery as number) - (written.started as number)) / 1000;
        const out = {
          watchers,
          watchers_open: watchers - (opened.failed as number),
          writes_ok: written.ok,
          write_errors: written.errors,
          ...(written.firstError ? { first_write_error: written.firstError } : {}),
          events_planned: events,
          writes_truncated: written.truncated,
          events_published: revs.length,
          events_expected: expected,
          events_delivered: r.delivered,
          events_lost: r.lost,
          watchers_missing_events: r.watchersMissingEvents,
          duplicates: r.duplicates,
          out_of_order: r.outOfOrder,
          unexpected: r.outOfRange,
          watchers_cut: r.cut,
          watchers_closed: r.closed,
          ...(Object.keys(r.closeCodes as object).length ? { close_codes: r.closeCodes } : {}),
          ...((r.cutMessages as string[]).length ? { error_events: r.cutMessages } : {}),
          latency_ms: { p50: round(r.p50 as number), p90: round(r.p90 as number), p99: round(r.p99 as number), max: round(r.max as number), mean: round(r.mean as number) },
          write_p50_ms: round(written.p50 as number),
          write_p99_ms: round(written.p99 as number),
          write_s: round(wrote),
          writes_per_s: round((written.ok as number) / wrote, 1),
          drain_s: round(((r.lastDelivery as number) - (written.finished as number)) / 1000),
          wall_s: round(wall),
          delivered_per_s: Math.round((r.delivered as number) / wall),
          server_rss_mb_before_writes: Math.round(rssBefore / 2 ** 20),
          server_peak_rss_mb: Math.round(Math.max(peakRss, process.memoryUsage.rss()) / 2 ** 20),
        };
        log(`${transport}${pace ? ` @${pace}/s` : ' max'}: delivered ${out.events_delivered} of ${expected} (lost ${out.events_lost}, dup ${out.duplicates}, out of order ${out.out_of_order}, cut ${out.watchers_cut}, closed ${out.watchers_closed}) in ${out.wall_s} s = ${out.delivered_per_s}/s; latency p50 ${out.latency_ms.p50} ms p99 ${out.latency_ms.p99} ms; server peak RSS ${out.server_peak_rss_mb} MiB`);
        result = out;
      } finally {
        unsubscribe();
      }
    } finally {
      clearInterval(sampler);
      await watcherProc.ask({ op: 'close' }, 'closed').catch(() => undefined);
      watcherProc.stop();
      writerProc.stop();
      await server.stop();
    }
    if (!result) throw new Error(`${transport}: the run produced no result`);
    return result;
  };

  const results: Record<string, Record<string, unknown>> = {};
  const goals: Record<string, Record<string, { goal: string; pass: boolean; [k: string]: unknown }>> = {};
  let raw: Record<string, unknown> | undefined;
  if (transports.includes('uws') && rawEvents > 0) {
    // A pod event as the server sends it, for message size.
    const sample = JSON.stringify({ type: 'MODIFIED', object: { kind: 'Pod', apiVersion: 'v1', metadata: { name: 'w-1', namespace: 'default', uid: '3f0c6a0e-2a57-4f7e-8d0e-5f2f5b1b1c11', resourceVersion: 'RV', creationTimestamp: '2026-01-01T00:00:00Z', labels: { app: 'watch-bench' } }, spec: { containers: [{ name: 'app', image: 'nginx:1.27', ports: [{ containerPort: 80, protocol: 'TCP' }], imagePullPolicy: 'IfNotPresent', terminationMessagePath: '/dev/termination-log', terminationMessagePolicy: 'File', resources: {} }], restartPolicy: 'Always', terminationGracePeriodSeconds: 30, dnsPolicy: 'ClusterFirst', schedulerName: 'default-scheduler', enableServiceLinks: true, preemptionPolicy: 'PreemptLowerPriority', priority: 0, securityContext: {} }, status: { phase: 'Running', message: 'step 1', podIP: '10.0.1.1', qosClass: 'BestEffort' } } });
    raw = await rawPublish(watchers, rawEvents, sample);
    log(`raw uWS publish: ${raw.delivered} delivered (lost ${raw.lost}) in ${raw.wall_s} s = ${raw.delivered_per_s}/s`);
  }
  for (const transport of transports) {
    const max = await runOnce(transport, 0);
    const paced = rate > 0 ? await runOnce(transport, rate) : undefined;
    results[transport] = paced ? { max, paced } : { max };
    const g: Record<string, { goal: string; pass: boolean; [k: string]: unknown }> = {};
    if (paced) {
      const lat = paced.latency_ms as { p99: number };
      g.sustained = { goal: `>= 1000 writes/s sustained, 0 lost, p99 commit->deliver <= 50 ms (paced at ${rate}/s)`, pass: rate >= 1000 && (paced.writes_per_s as number) >= 0.95 * rate && paced.events_lost === 0 && lat.p99 <= 50, writes_per_s: paced.writes_per_s, lost: paced.events_lost, p99_ms: lat.p99 };
    }
    if (raw) {
      const ratio = round((max.delivered_per_s as number) / (raw.delivered_per_s as number));
      g.fanout = { goal: 'max deliveries/s >= 0.6 of raw uWS publish', pass: ratio >= 0.6, ratio, delivered_per_s: max.delivered_per_s, raw_per_s: raw.delivered_per_s };
    }
    goals[transport] = g;
  }
  console.log(JSON.stringify({
    bench: 'watch',
    node: process.version,
    cpus: availableParallelism(),
    platform: `${process.platform}-${process.arch}`,
    loadavg_1m: [round(load0, 2), round(loadavg()[0] ?? 0, 2)],
    params: { watchers, events, pods, updates_per_pod: updatesPerPod, writers, rate, raw_events: rawEvents, write_seconds: writeSeconds, watch_buffer_bytes: watchLimits.maxBufferedBytes, slow_watchers: slow, framing: 'WebSocket (ws client, no compression)', latency: 'store publish (after LMDB flush) → watcher receive' },
    ...(raw ? { raw_publish: raw } : {}),
    results,
    goals,
  }));
}

const role = process.env[ROLE_ENV];
if (role === 'watchers') watchersMain();
else if (role === 'writers') writersMain();
else {
  driverMain().catch((e: unknown) => {
    console.error(e);
    process.exit(1);
  });
}
