// REST throughput and latency of reddwarf, each beside a raw uWebSockets.js ceiling.
//
// Per transport (uWebSockets.js and node:http), with the API server in this process and the load
// generator in a child process (node:http requests over a keep-alive http.Agent, one socket per
// client, each client sending its next request when the previous answer is in):
//   create  50 clients POST pods into `default` until --creates (5,000) are acknowledged (or
//           --create-seconds pass). Creates are durable: the server answers only after the LMDB
//           commit is flushed to disk (concurrent creates share one commit). `goals.<transport>.create`
//           in the JSON says whether issue 14's goal is met (≥ 20,000/s, p99 ≤ 20 ms, ≥ 0.40 of raw).
//   get     50 clients GET one pod for --seconds.
//   list    8 clients LIST a namespace holding 1,000 pods for --seconds.
// Beside each, in the same run and with the same client code, a bare uWebSockets.js app
// (loadUws(), App().any('/*')) answers with the same bytes and does no work: create echoes the
// posted body back with 201, get returns the pod's JSON, list a pre-serialised copy of the same
// 1,000-pod list.
//
// Reading it: `ratio` = reddwarf rps / raw rps, the share of what this client on this machine can
// drive at all. Near 1.0 the client is the limit and the API adds nothing it can see; 0.25 means
// reddwarf serves a quarter of that, i.e. the server side (routing, validation, LMDB, JSON) is
// the bottleneck. The raw create does not touch a disk, so the create ratio includes durability.
// The raw server is uWebSockets.js for both transports, so the node ratio includes node:http's
// own cost. Latencies are client-side round trips in ms. Server, LMDB's write thread and the
// client share the machine's cores (and whatever else runs there: loadavg_1m is [start, end]): compare
// absolute numbers only between runs on one quiet machine; the ratio travels better.
//
// Usage: node --import tsx bench/api.ts [--transport uws|node] [--creates 5000] [--seconds 3]
//        [--rounds 3] [--clients 50] [--list-clients 8] [--list-size 1000] [--create-seconds 30]
// Each phase alternates reddwarf and raw in --rounds rounds (after a warm-up of each), so load
// from other processes on the machine lands on both sides of the ratio alike.
// Progress goes to stderr; the last line of stdout is one JSON object.
import { ROLE_ENV, serveSpecs, SpecRunner } from './lib/child.ts';
import http from 'node:http';
import { availableParallelism, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';


/** One measured run of the load generator. */
interface LoadSpec {
  port: number;
  method: 'GET' | 'POST';
  path: string;
  concurrency: number;
  /** Stop issuing after this many requests. */
  total?: number;
  /** Stop issuing after this long (whichever comes first). */
  seconds: number;
  /** POST: the pods are named `${prefix}-${i}`. */
  prefix?: string;
  expectStatus: number;
}

interface LoadResult {
  ok: number;
  errors: number;
  firstError?: string;
  seconds: number;
  bytes: number;
  /** Round-trip times (ms) of the successful requests. */
  latencies: Float64Array;
}

/** Several rounds of one side (reddwarf or raw) added up. */
interface Summary {
  ok: number;
  errors: number;
  firstError?: string;
  seconds: number;
  rps: number;
  p50_ms: number;
  p99_ms: number;
  bytesPerResponse: number;
}

/** A pod of modest, realistic size (the server adds defaults, uid, timestamps and status). */
function podBody(name: string): Record<string, unknown> {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, labels: { app: 'bench', tier: 'web' }, annotations: { 'bench.reddwarf/purpose': 'api throughput' } },
    spec: {
      containers: [{
        name: 'app',
        image: 'nginx:1.27',
        ports: [{ containerPort: 80, protocol: 'TCP' }],
        env: [{ name: 'MODE', value: 'bench' }],
        resources: { requests: { cpu: '100m', memory: '64Mi' }, limits: { memory: '128Mi' } },
      }],
    },
  };
}

function percentile(sorted: Float64Array, q: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? NaN;
}

const round = (x: number, digits = 3): number => Number(x.toFixed(digits));

// ---------------------------------------------------------------------------------------------
// The load generator (child process).

function sendOnce(agent: http.Agent, spec: LoadSpec, body: Buffer | undefined): Promise<{ status: number; bytes: number; text?: string }> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string | number> = { accept: 'application/json' };
    if (body) {
      headers['content-type'] = 'application/json';
      headers['content-length'] = body.length;
    }
    const req = http.request({ agent, host: '127.0.0.1', port: spec.port, method: spec.method, path: spec.path, headers }, (res) => {
      const status = res.statusCode ?? 0;
      let bytes = 0;
      const keep: Buffer[] = [];
      res.on('data', (c: Buffer) => {
        bytes += c.length;
        if (status !== spec.expectStatus && keep.length < 4) keep.push(c);
      });
      res.on('end', () => resolve({ status, bytes, text: keep.length ? Buffer.concat(keep).toString('utf8', 0, 400) : undefined }));
      res.on('error', reject);
    });
    req.setNoDelay(true);
    req.on('error', reject);
    req.end(body);
  });
}

async function runLoad(spec: LoadSpec): Promise<LoadResult> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: spec.concurrency });
  const latencies: number[] = [];
  let issued = 0;
  let errors = 0;
  let bytes = 0;
  let firstError: string | undefined;
  const start = performance.now();
  const deadline = start + spec.seconds * 1000;
  const client = async (): Promise<void> => {
    for (;;) {
      if (spec.total !== undefined && issued >= spec.total) return;
      if (performance.now() >= deadline) return;
      const i = issued++;
      const body = spec.method === 'POST' ? Buffer.from(JSON.stringify(podBody(`${spec.prefix ?? 'p'}-${i}`))) : undefined;
      const t0 = performance.now();
      try {
        const r = await sendOnce(agent, spec, body);
        const t1 = performance.now();
        if (r.status === spec.expectStatus) {
          latencies.push(t1 - t0);
          bytes += r.bytes;
        } else {
          errors++;
          firstError ??= `HTTP ${r.status}: ${r.text ?? ''}`;
        }
      } catch (e) {
        errors++;
        firstError ??= String(e);
      }
    }
  };
  await Promise.all(Array.from({ length: spec.concurrency }, client));
  const seconds = (performance.now() - start) / 1000;
  agent.destroy();
  return { ok: latencies.length, errors, firstError, seconds, bytes, latencies: Float64Array.from(latencies) };
}

function summarise(runs: LoadResult[]): Summary {
  const ok = runs.reduce((a, r) => a + r.ok, 0);
  const seconds = runs.reduce((a, r) => a + r.seconds, 0);
  const bytes = runs.reduce((a, r) => a + r.bytes, 0);
  const sorted = new Float64Array(ok);
  let at = 0;
  for (const r of runs) {
    sorted.set(r.latencies, at);
    at += r.latencies.length;
  }
  sorted.sort();
  return {
    ok,
    errors: runs.reduce((a, r) => a + r.errors, 0),
    firstError: runs.find((r) => r.firstError)?.firstError,
    seconds: round(seconds),
    rps: round(ok / seconds, 1),
    p50_ms: round(percentile(sorted, 0.5)),
    p99_ms: round(percentile(sorted, 0.99)),
    bytesPerResponse: ok ? Math.round(bytes / ok) : 0,
  };
}


// ---------------------------------------------------------------------------------------------
// The driver (this process: reddwarf and the raw server).

type LoadClient = SpecRunner<LoadSpec, LoadResult>;

interface RawServer {
  port: number;
  get: Buffer;
  list: Buffer;
  close(): void;
}

/** The ceiling: uWebSockets.js answering the same bytes without any work behind them. */
async function startRaw(): Promise<RawServer> {
  const { loadUws } = await import('../src/server/uws.ts');
  const uws = loadUws();
  const app = uws.App();
  const raw: RawServer = { port: 0, get: Buffer.from('{}'), list: Buffer.from('{}'), close: () => {} };
  app.any('/*', (res, req) => {
    const method = req.getMethod().toUpperCase();
    const url = req.getUrl();
    if (method === 'POST') {
      let aborted = false;
      res.onAborted(() => {
        aborted = true;
      });
      const chunks: Buffer[] = [];
      res.onData((chunk, isLast) => {
        chunks.push(Buffer.from(new Uint8Array(chunk)));
        if (isLast && !aborted) {
          const body = Buffer.concat(chunks);
          res.cork(() => {
            res.writeStatus('201 Created').writeHeader('content-type', 'application/json').end(body);
          });
        }
      });
      return;
    }
    const body = url.endsWith('/pods') ? raw.list : raw.get;
    res.writeStatus('200 OK').writeHeader('content-type', 'application/json').end(body);
  });
  return new Promise((resolve, reject) => {
    app.listen('127.0.0.1', 0, (token) => {
      if (!token) return reject(new Error('raw uWS server cannot listen'));
      raw.port = uws.us_socket_local_port(token as unknown as Parameters<typeof uws.us_socket_local_port>[0]);
      raw.close = () => uws.us_listen_socket_close(token);
      resolve(raw);
    });
  });
}

const log = (m: string): void => {
  process.stderr.write(`[bench:api] ${m}\n`);
};

interface Phase {
  rps: number;
  p50_ms: number;
  p99_ms: number;
  requests: number;
  errors: number;
  first_error?: string;
  response_bytes: number;
  baseline_rps: number;
  baseline_p50_ms: number;
  baseline_p99_ms: number;
  ratio: number;
}

function phase(rd: Summary, raw: Summary): Phase {
  const p: Phase = {
    rps: rd.rps,
    p50_ms: rd.p50_ms,
    p99_ms: rd.p99_ms,
    requests: rd.ok,
    errors: rd.errors + raw.errors,
    response_bytes: rd.bytesPerResponse,
    baseline_rps: raw.rps,
    baseline_p50_ms: raw.p50_ms,
    baseline_p99_ms: raw.p99_ms,
    ratio: raw.rps > 0 ? round(rd.rps / raw.rps) : 0,
  };
  const firstError = rd.firstError ?? (raw.firstError ? `raw: ${raw.firstError}` : undefined);
  if (firstError) p.first_error = firstError;
  return p;
}

/** Issue 14's goals, as pass/fail lines per transport. */
function goals(r: Record<string, Phase>): Record<string, { goal: string; pass: boolean }> {
  const out: Record<string, { goal: string; pass: boolean }> = {};
  if (r.create) out.create = { goal: '>= 20000/s, p99 <= 20 ms, >= 0.40 of raw', pass: r.create.rps >= 20_000 && r.create.p99_ms <= 20 && r.create.ratio >= 0.4 };
  if (r.list) out.list = { goal: 'LIST 1,000 pods p50 <= 15 ms, p99 <= 40 ms', pass: r.list.p50_ms <= 15 && r.list.p99_ms <= 40 };
  return out;
}

const describe = (name: string, r: Summary): string =>
  `${name}: ${r.ok} ok, ${r.errors} errors in ${r.seconds}s = ${r.rps}/s, p50 ${r.p50_ms} ms, p99 ${r.p99_ms} ms${r.firstError ? ` (first error: ${r.firstError})` : ''}`;

async function driverMain(): Promise<void> {
  const { values } = parseArgs({
    options: {
      transport: { type: 'string' },
      creates: { type: 'string', default: '5000' },
      'create-seconds': { type: 'string', default: '30' },
      seconds: { type: 'string', default: '3' },
      rounds: { type: 'string', default: '3' },
      clients: { type: 'string', default: '50' },
      'list-clients': { type: 'string', default: '8' },
      'list-size': { type: 'string', default: '1000' },
    },
  });
  const { startServer, TRANSPORTS } = await import('../test/helpers/server.ts');
  type Transport = (typeof TRANSPORTS)[number];
  const transports: Transport[] = values.transport === undefined ? [...TRANSPORTS] : [values.transport as Transport];
  for (const t of transports) if (!TRANSPORTS.includes(t)) throw new Error(`unknown transport ${t}; use one of ${TRANSPORTS.join(', ')}`);
  const creates = Number(values.creates);
  const createSeconds = Number(values['create-seconds']);
  const seconds = Number(values.seconds);
  const rounds = Math.max(1, Number(values.rounds));
  const clients = Number(values.clients);
  const listClients = Number(values['list-clients']);
  const listSize = Number(values['list-size']);
  const warmSeconds = Math.min(0.5, seconds / 4);

  // Whatever happens, stop in bounded time.
  const guard = setTimeout(() => {
    log('giving up: the run took longer than 5 minutes');
    process.exit(2);
  }, 5 * 60_000);
  guard.unref();

  const load0 = loadavg()[0] ?? 0;
  const client: LoadClient = await SpecRunner.start(fileURLToPath(import.meta.url), 'client', 'load generator');
  const raw = await startRaw();
  log(`raw uWebSockets.js baseline on port ${raw.port}; load generator pid ${client.pid}`);

  /**
   * Warms both servers, then alternates reddwarf and raw rounds so that whatever else the
   * machine is doing lands on both sides of the ratio alike.
   */
  const compare = async (label: string, spec: (port: number, round: number | 'warm') => LoadSpec, port: number): Promise<Phase> => {
    await client.run(spec(port, 'warm'));
    await client.run(spec(raw.port, 'warm'));
    const rd: LoadResult[] = [];
    const base: LoadResult[] = [];
    for (let r = 0; r < rounds; r++) {
      rd.push(await client.run(spec(port, r)));
      base.push(await client.run(spec(raw.port, r)));
    }
    const a = summarise(rd);
    const b = summarise(base);
    log(`${label} ${describe('reddwarf', a)}`);
    log(`${label} ${describe('raw     ', b)}`);
    return phase(a, b);
  };

  const results: Record<string, Record<string, Phase>> = {};
  try {
    for (const transport of transports) {
      const server = await startServer(transport);
      const port = Number(new URL(server.url).port);
      log(`${transport}: reddwarf on ${server.url} (data in ${server.dataDir})`);
      try {
        const out: Record<string, Phase> = {};
        const ns = await fetch(`${server.url}/api/v1/namespaces`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'bench-list' } }) });
        if (ns.status !== 201) throw new Error(`creating namespace bench-list: HTTP ${ns.status} ${await ns.text()}`);
        const pre = summarise([await client.run({ port, method: 'POST', path: '/api/v1/namespaces/bench-list/pods', concurrency: clients, total: listSize, seconds: 120, prefix: 'l', expectStatus: 201 })]);
        log(`${transport}: ${describe(`pre-created ${listSize} pods for list`, pre)}`);
        if (pre.ok !== listSize) throw new Error(`only ${pre.ok} of ${listSize} list pods were created: ${pre.firstError}`);

        // create: `creates` pods in `rounds` rounds; the first is named c0-0.
        const share = (r: number): number => Math.floor((creates * (r + 1)) / rounds) - Math.floor((creates * r) / rounds);
        out.create = await compare(`${transport} create`, (p, r) => ({
          port: p,
          method: 'POST',
          path: '/api/v1/namespaces/default/pods',
          concurrency: clients,
          total: r === 'warm' ? Math.min(250, share(0)) : share(r),
          seconds: createSeconds / rounds,
          prefix: r === 'warm' ? 'warm' : `c${r}`,
          expectStatus: 201,
        }), port);

        // get: one pod, the raw server answers its exact bytes.
        const getPath = '/api/v1/namespaces/default/pods/c0-0';
        const one = await fetch(server.url + getPath);
        if (one.status !== 200) throw new Error(`GET ${getPath}: HTTP ${one.status}`);
        raw.get = Buffer.from(await one.arrayBuffer());
        out.get = await compare(`${transport} get`, (p, r) => ({ port: p, method: 'GET', path: getPath, concurrency: clients, seconds: r === 'warm' ? warmSeconds : seconds / rounds, expectStatus: 200 }), port);

        // list: the raw server answers a copy of the list taken once.
        const listPath = '/api/v1/namespaces/bench-list/pods';
        const all = await fetch(server.url + listPath);
        const listBody = Buffer.from(await all.arrayBuffer());
        const items = (JSON.parse(listBody.toString('utf8')) as { items?: unknown[] }).items?.length;
        if (all.status !== 200 || items !== listSize) throw new Error(`LIST ${listPath}: HTTP ${all.status} with ${items} items, expected ${listSize}`);
        raw.list = listBody;
        out.list = await compare(`${transport} list (${listBody.length} bytes)`, (p, r) => ({ port: p, method: 'GET', path: listPath, concurrency: listClients, seconds: r === 'warm' ? warmSeconds : seconds / rounds, expectStatus: 200 }), port);
        results[transport] = out;
      } finally {
        await server.stop();
      }
    }
  } finally {
    raw.close();
    client.stop();
  }
  console.log(JSON.stringify({
    bench: 'api',
    node: process.version,
    cpus: availableParallelism(),
    platform: `${process.platform}-${process.arch}`,
    loadavg_1m: [round(load0, 2), round(loadavg()[0] ?? 0, 2)],
    client: 'node:http keep-alive Agent in one child process',
    baseline: 'raw uWebSockets.js App().any answering the same bytes (create: echo)',
    params: { creates, create_seconds: createSeconds, seconds, rounds, clients, list_clients: listClients, list_size: listSize, durable_creates: true },
    results,
    goals: Object.fromEntries(Object.entries(results).map(([t, r]) => [t, goals(r)])),
  }));
}

if (process.env[ROLE_ENV] === 'client') {
  serveSpecs(runLoad);
} else {
  driverMain().catch((e: unknown) => {
    console.error(e);
    process.exit(1);
  });
}
