// Hollow nodes (bench/scale.ts): many node agents in one process, each the real startAgent
// (registration, heartbeat or Lease renewal, pod host, status reports, events) over a RemoteClient,
// with a no-op zone runtime and an in-memory IPAM instead of zones and an LMDB env per agent.
// Every mutating call the agents make is timed, by verb and resource.
import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { RootDatabase } from 'lmdb';
import type { Agent } from '../../src/agent/agent.ts';
import type { Pod } from '../../src/api/model/types.ts';
import type { Client, WatchHandlers, WatchQuery } from '../../src/client/client.ts';
import { Ipam } from '../../src/runtime/ipam.ts';
import { NoopRuntime } from './noop-runtime.ts';

/** The methods of Client that write: what the SLO on mutating calls covers. */
const MUTATING = ['create', 'update', 'updateStatus', 'patch', 'delete', 'bind', 'finalize'] as const;

/** Round-trip times (ms) of mutating calls, by `verb resource`, and their failures. */
export class CallTimes {
  readonly ms = new Map<string, number[]>();
  readonly errors = new Map<string, number>();

  add(key: string, ms: number): void {
    let xs = this.ms.get(key);
    if (!xs) this.ms.set(key, (xs = []));
    xs.push(ms);
  }

  fail(key: string): void {
    this.errors.set(key, (this.errors.get(key) ?? 0) + 1);
  }

  /** What goes over IPC: one Float64Array per key (advanced serialisation copies it flat). */
  export(): { ms: Record<string, Float64Array>; errors: Record<string, number> } {
    return { ms: Object.fromEntries([...this.ms].map(([k, v]) => [k, Float64Array.from(v)])), errors: Object.fromEntries(this.errors) };
  }
}

/** When a pod watch of this process first saw each bench pod bound (`<prefix><i>` → wall-clock ms). */
export class BoundSeen {
  readonly at = new Map<number, number>();

  constructor(readonly prefix: string) {}

  see(name: string | undefined, nodeName: string | undefined): void {
    if (!nodeName || !name?.startsWith(this.prefix)) return;
    const i = Number(name.slice(this.prefix.length));
    if (Number.isInteger(i) && !this.at.has(i)) this.at.set(i, performance.timeOrigin + performance.now());
  }

  export(): { index: Float64Array; at: Float64Array } {
    return { index: Float64Array.from(this.at.keys()), at: Float64Array.from(this.at.values()) };
  }
}

/** `client` with its mutating calls timed into `times` and its pod watches' first sight of a bound pod noted in `seen`. */
export function timedClient(client: Client, times: CallTimes, seen: BoundSeen): Client {
  const wrapped: Record<string, unknown> = {};
  wrapped.watch = (resource: string, q: WatchQuery, h: WatchHandlers): (() => void) => client.watch(resource, q, resource !== 'pods' ? h : {
    ...h,
    event(e) {
      seen.see(e.object.metadata.name, (e.object as Pod).spec?.nodeName);
      h.event(e);
    },
  });
  for (const verb of MUTATING) {
    const f = (client[verb] as (...a: unknown[]) => Promise<unknown>).bind(client);
    wrapped[verb] = async (...args: unknown[]): Promise<unknown> => {
      // bind(namespace, name, …) is always pods; the others name their resource first.
      const resource = verb === 'bind' ? 'pods/binding' : verb === 'updateStatus' ? `${String(args[0])}/status` : String(args[0]);
      const key = `${verb === 'updateStatus' ? 'update' : verb} ${resource}${verb === 'patch' && (args[4] as { status?: boolean } | undefined)?.status ? '/status' : ''}`;
      const t0 = performance.now();
      try {
        const r = await f(...args);
        times.add(key, performance.now() - t0);
        return r;
      } catch (e) {
        times.fail(key);
        throw e;
      }
    };
  }
  return new Proxy(client, {
    get: (target, prop, receiver) => (typeof prop === 'string' && prop in wrapped ? wrapped[prop] : Reflect.get(target, prop, receiver)),
  });
}

/**
 * The agent's IPAM logic over a Map instead of an LMDB table: Ipam.open() gets a stand-in for the
 * few lmdb calls it makes (openDB, get/put/remove, transaction, ordered getKeys/getRange).
 */
export function memoryIpam(cidr: string): Ipam {
  const m = new Map<string, string>();
  const inRange = (start: string, end: string): string[] => [...m.keys()].filter((k) => k >= start && k < end).sort();
  const db = {
    get: (k: string) => m.get(k),
    put: (k: string, v: string) => void m.set(k, v),
    remove: (k: string) => m.delete(k),
    transaction: async (f: () => void) => f(),
    getKeys: ({ start, end }: { start: string; end: string }) => inRange(start, end),
    getRange: ({ start, end }: { start: string; end: string }) => inRange(start, end).map((key) => ({ key, value: m.get(key) as string })),
  };
  return Ipam.open({ openDB: () => db } as unknown as RootDatabase, cidr);
}

export interface HollowNodeSpec {
  name: string;
  /** Its bearer token (the server's token file names it system:node:<name>). */
  token: string;
  /** Node InternalIP (a 127/8 address: nothing connects to it). */
  ip: string;
  podCidr: string;
}

export interface HollowStartSpec {
  op: 'start';
  server: string;
  /** Agents want a data directory; hollow ones put nothing in it. */
  dataDir: string;
  nodes: HollowNodeSpec[];
  /** Node starts are spread over this long, so their heartbeats are too (kubelets start at different times). */
  spreadMs: number;
  maxPods: number;
  /** The bench pods' names: this and their index. */
  podPrefix: string;
  /** Agents registering at once. */
  concurrency: number;
}

export type HollowSpec = HollowStartSpec | { op: 'stats' } | { op: 'stop' };

export interface HollowStats {
  nodes: number;
  failed: number;
  firstFailure?: string;
  zones: number;
  rssBytes: number;
  heapBytes: number;
  /** After a full GC, when the process runs with --expose-gc. */
  heapAfterGcBytes?: number;
  cpuUserMs: number;
  cpuSystemMs: number;
  startMs?: number;
  stopMs?: number;
  calls: { ms: Record<string, Float64Array>; errors: Record<string, number> };
  /** Bench pods (by index) the nodes' pod watches saw bound, and when (wall-clock ms). */
  boundSeen: { index: Float64Array; at: Float64Array };
  /** This process's own event-loop delay since start: a watch event waits this long here before it is seen. */
  eventLoopP99Ms: number;
  logLines: number;
  logSample: string[];
}

/** The hollow-node process: `start` its nodes, report `stats`, `stop` them (zones are forgotten). */
export function hollowProcess(): (spec: HollowSpec) => Promise<HollowStats> {
  const times = new CallTimes();
  const loop = monitorEventLoopDelay({ resolution: 10 });
  loop.enable();
  let seen = new BoundSeen('');
  const agents: Agent[] = [];
  const runtimes: NoopRuntime[] = [];
  let failed = 0;
  let firstFailure: string | undefined;
  let logLines = 0;
  const logSample: string[] = [];
  let closeClient = (): void => {};
  const log = (m: string): void => {
    logLines++;
    // Registration lines are expected, one per node; anything else is worth a sample.
    if (logSample.length < 10 && !/ registered \(/.test(m)) logSample.push(m);
  };
  const stats = (extra: Partial<HollowStats> = {}): HollowStats => {
    const gc = (globalThis as { gc?: () => void }).gc;
    let heapAfterGc: number | undefined;
    if (gc) {
      gc();
      heapAfterGc = process.memoryUsage().heapUsed;
    }
    const mem = process.memoryUsage();
    const cpu = process.cpuUsage();
    return {
      nodes: agents.length, failed, ...(firstFailure ? { firstFailure } : {}),
      zones: runtimes.reduce((a, r) => a + r.size, 0),
      rssBytes: mem.rss, heapBytes: mem.heapUsed, ...(heapAfterGc !== undefined ? { heapAfterGcBytes: heapAfterGc } : {}),
      cpuUserMs: cpu.user / 1000, cpuSystemMs: cpu.system / 1000,
      calls: times.export(), eventLoopP99Ms: Math.round(loop.percentile(99) / 1e4) / 100, boundSeen: seen.export(), logLines, logSample,
      ...extra,
    };
  };

  const start = async (s: HollowStartSpec): Promise<HollowStats> => {
    const { startAgent } = await import('../../src/agent/agent.ts');
    const { RemoteClient } = await import('../../src/client/remote.ts');
    const clients: { close(): void }[] = [];
    seen = new BoundSeen(s.podPrefix);
    closeClient = () => clients.forEach((c) => c.close());
    const t0 = performance.now();
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < s.nodes.length) {
        const i = next++;
        const n = s.nodes[i] as HollowNodeSpec;
        // Paced: node i starts no earlier than i/N of the spread.
        const due = t0 + (i * s.spreadMs) / s.nodes.length;
        const wait = due - performance.now();
        if (wait > 0) await new Promise((r) => setTimeout(r, wait));
        const runtime = new NoopRuntime();
        // A client (and keep-alive pool) per node, as each kubelet has: its credentials are its own.
        const remote = new RemoteClient({ server: s.server, token: n.token });
        clients.push(remote);
        const client = timedClient(remote, times, seen);
        try {
          const agent = await startAgent({
            client, nodeName: n.name, nodeIp: n.ip, dataDir: s.dataDir, runtime: 'mock', podCidr: n.podCidr,
            systemReservedCpu: '100m', systemReservedMemory: '256Mi', maxPods: s.maxPods, brands: ['lx', 'sparse'],
            etherstub: 'reddwarf0', zonepathPrefix: '/hollow/zones', imagePulls: 'simulated',
            runtimeImpl: runtime, ipam: memoryIpam(n.podCidr), log,
          });
          agents.push(agent);
          runtimes.push(runtime);
        } catch (e) {
          failed++;
          firstFailure ??= `${n.name}: ${String((e as Error)?.message ?? e)}`;
        }
      }
    };
    await Promise.all(Array.from({ length: Math.max(1, s.concurrency) }, worker));
    return stats({ startMs: performance.now() - t0 });
  };

  return async (spec) => {
    if (spec.op === 'start') return start(spec);
    if (spec.op === 'stats') return stats();
    const t0 = performance.now();
    // Each agent's stop waits ≤ 5 s for its effects; a bound on the whole keeps the bench bounded.
    await Promise.race([Promise.allSettled(agents.map((a) => a.stop())), new Promise((r) => setTimeout(r, 15_000).unref())]);
    closeClient();
    return stats({ stopMs: performance.now() - t0 });
  };
}
