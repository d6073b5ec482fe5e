// The node API's requests: a small route table (container logs today; exec, attach and
// port-forward will be upgrades on the same table) and the gate that serves the API server only.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ApiError, badRequest, methodNotAllowed } from '../../api/model/status.ts';
import { parseLogOptions } from '../../api/model/pod/log-options.ts';
import { errorReply } from '../../server/errors.ts';
import { text, type HttpHandler, type HttpReply, type HttpRequest, type Sink, type UpgradeAnswer } from '../../server/http.ts';
import { zoneName } from '../../api/model/zone-names.ts';
import type { ZoneRuntime } from '../../runtime/runtime.ts';
import { instances, readContainerLog } from '../../runtime/logs/reader.ts';
import { pumpTo } from '../../server/pump.ts';
import { APISERVER_CLIENT_CN } from './protocol.ts';
import { realClock, type Clock } from '../../time/clock.ts';

export interface NodeApiOptions {
  runtime: Pick<ZoneRuntime, 'logDir' | 'state'>;
  /** How often a follower re-reads the container's status when no file event comes (default 250 ms). */
  pollMs?: number;
  /** Paces the zone-state checks of a follow; realClock by default. */
  clock?: Clock;
  log?: (m: string) => void;
}

type Handler = (req: HttpRequest, params: string[]) => Promise<HttpReply>;

interface Route {
  method: string;
  pattern: RegExp;
  handle: Handler;
}

/** How often (at most) a follower asks the runtime whether the zone still runs: zoneadm is not free. */
const ZONE_CHECK_MS = 2_000;

/**
 * The node API's routes, without authentication: what the API server's in-process shortcut
 * (`reddwarf up`) calls directly, and what createNodeApi() puts behind the gate.
 */
export function nodeApiRoutes(o: NodeApiOptions): HttpHandler {
  const routes: Route[] = [
    { method: 'GET', pattern: /^\/healthz$/, handle: async () => text(200, 'ok') },
    { method: 'GET', pattern: /^\/containerLogs\/([^/]+)\/([^/]+)\/([^/]+)$/, handle: (req, p) => containerLogs(o, req, p[0] as string, p[1] as string, p[2] as string) },
  ];
  return {
    maxBodyBytes: 64 * 1024,
    async handle(req) {
      try {
        const path = req.path;
        const matching = routes.filter((r) => r.pattern.test(path));
        if (matching.length === 0) throw new ApiError(404, 'NotFound', 'the server could not find the requested resource');
        const method = req.method === 'HEAD' ? 'GET' : req.method;
        const route = matching.find((r) => r.method === method);
        if (!route) throw methodNotAllowed(req.method);
        const m = route.pattern.exec(path) as RegExpExecArray;
        let params: string[];
        try {
          params = m.slice(1).map(decodeURIComponent);
        } catch {
          throw badRequest(`malformed path ${JSON.stringify(path)}`);
        }
        return await route.handle(req, params);
      } catch (e) {
        return errorReply(e);
      }
    },
    upgrade(): UpgradeAnswer {
      // exec, attach and port-forward will answer here (WebSocket / SPDY upgrades).
      return { reply: errorReply(new ApiError(404, 'NotFound', 'no streaming endpoint is served by this node yet')) };
    },
  };
}

/**
 * The node API as served on its port: only the API server may call it — a client certificate
 * signed by the cluster CA (verified by the TLS transport) with CN `reddwarf:apiserver-kubelet-client`.
 * No certificate → 401; any other verified identity (a node's own) → 403.
 */
export function createNodeApi(o: NodeApiOptions): HttpHandler {
  const inner = nodeApiRoutes(o);
  const refuse = (req: HttpRequest): ApiError | undefined => {
    if (!req.peer) return new ApiError(401, 'Unauthorized', 'Unauthorized');
    if (req.peer.user !== APISERVER_CLIENT_CN) return new ApiError(403, 'Forbidden', `Forbidden (user=${req.peer.user}, verb=${req.method.toLowerCase()}, resource=nodes, subresource=proxy)`);
    return undefined;
  };
  return {
    maxBodyBytes: inner.maxBodyBytes,
    async handle(req) {
      const no = refuse(req);
      return no ? errorReply(no) : inner.handle(req);
    },
    upgrade(req) {
      const no = refuse(req);
      return no ? { reply: errorReply(no) } : inner.upgrade(req);
    },
  };
}

/** What status.json says of a container (supervisor/bundle.ts), the fields the log follower needs. */
interface ContainerState {
  instance?: number;
  state?: string;
}

async function containerLogs(o: NodeApiOptions, req: HttpRequest, namespace: string, pod: string, container: string): Promise<HttpReply> {
  const opts = parseLogOptions(req.query);
  const zone = zoneName(namespace, pod);
  const dir = o.runtime.logDir(zone, container);
  if (opts.previous && (await instances(dir)).length < 2) {
    throw badRequest(`previous terminated container "${container}" in pod "${pod}" not found`);
  }
  // status.json sits beside the logs in the zone root: <root>/.reddwarf/containers/<c>/status.json.
  const statusFile = join(dir, '..', '..', 'containers', container, 'status.json');
  let zoneCheckedAt = 0;
  let zoneGone = false;
  const ended = async (instance: number): Promise<boolean> => {
    try {
      const s = JSON.parse(await readFile(statusFile, 'utf8')) as ContainerState;
      // `instance` counts starts: the same instance no longer running (terminated, or waiting to restart) has ended.
      if (typeof s.instance === 'number' && (s.instance > instance || (s.instance === instance && s.state !== 'running'))) return true;
    } catch {
      // No status (yet, or a mock zone): the zone's own state decides.
    }
    const now = (o.clock ?? realClock).now();
    if (now - zoneCheckedAt >= ZONE_CHECK_MS) {
      zoneCheckedAt = now;
      zoneGone = (await o.runtime.state(zone).catch(() => 'running')) !== 'running';
    }
    return zoneGone;
  };
  return {
    status: 200,
    headers: { 'content-type': 'text/plain', 'cache-control': 'no-cache, private' },
    stream(sink: Sink) {
      const ac = new AbortController();
      sink.onClose(() => ac.abort());
      readContainerLog(dir, opts, (chunk) => pumpTo(sink, chunk, ac.signal), { signal: ac.signal, ended, pollMs: o.pollMs, ...(o.clock ? { clock: o.clock } : {}) })
        .catch((e: unknown) => o.log?.(`logs of ${namespace}/${pod}/${container}: ${(e as Error).message}`))
        .finally(() => sink.end());
    },
  };
}
