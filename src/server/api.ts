// The Kubernetes API handler: fixed endpoints (health, version, discovery, OpenAPI) and the REST
// resources, as one HttpHandler that every transport serves.
import { ApiError, badRequest, forbidden, methodNotAllowed } from '../api/model/status.ts';
import type { Store } from '../store/store.ts';
import { apiGroup, apiGroupList, apiResourceList, apiVersions, aggregatedDiscovery, aggregatedGroupsDiscovery, AGGREGATED_CONTENT_TYPE, versionInfo, wantsAggregated } from './discovery.ts';
import { errorReply } from './errors.ts';
import { json, text, type HttpHandler, type HttpReply, type HttpRequest, type UpgradeAnswer } from './http.ts';
import { openapiAll, openapiGroupVersion, openapiHash, openapiPath, openapiRoot } from './openapi.ts';
import { GROUP_VERSIONS, type GroupVersion } from '../api/model/resources.ts';
import { openapiV2Handler } from './openapi-v2.ts';
import { Rest, unservedSubresource } from './rest.ts';
import type { InspectHub } from '../inspect/hub.ts';
import { inspectPage } from '../inspect/page.ts';
import { route } from './router.ts';
import type { NodeAuthority } from './node-authority.ts';
import { guard, type SecurityOptions } from './authorize.ts';
import { DEFAULT_WATCH_LIMITS, MSGPACK_SUBPROTOCOL, type WatchLimits } from './watch.ts';
import { realClock, type Clock } from '../time/clock.ts';

export interface ApiOptions {
  /** The Kubernetes minor version /version reports (it picks the kubectl binary of gcloud's dispatcher). */
  kubeMinor: number;
  /** Request bodies above this are refused with 413. */
  maxBodyBytes: number;
  watchLimits?: WatchLimits;
  /** Live actor inspection: the hub and the Stately inspector URL the /inspect page frames. */
  inspect?: { hub: InspectHub; inspectorUrl: string };
  /** Origins (scheme://host[:port]) besides the server's own whose pages may open WebSocket watches. */
  allowedOrigins?: string[];
  /** Authentication, authorization and request limits (authorize.ts); unset: no auth, default limits. */
  security?: SecurityOptions;
  /** The cluster CA and the node API client credentials: pods/log and node serving certificates need them. */
  nodes?: NodeAuthority;
  /** Time for the handlers (apply's timestamps); realClock unless a test simulates it. */
  clock?: Clock;
}

export const DEFAULT_KUBE_MINOR = 31;
export const DEFAULT_MAX_BODY_BYTES = 3 * 1024 * 1024;

/** Builds the handler that answers every API request. */
export function createApi(store: Store, opts: ApiOptions): HttpHandler {
  const rest = new Rest(store, opts.watchLimits ?? DEFAULT_WATCH_LIMITS, opts.nodes, opts.clock ?? realClock);
  // One OpenAPI v3 document per group-version, each pinned by its hash; v2 holds them all.
  const v3Docs = new Map<string, { hash: string; body: string }>();
  for (const gv of GROUP_VERSIONS) {
    const doc = openapiGroupVersion(gv);
    v3Docs.set(openapiPath(gv), { hash: openapiHash(doc), body: JSON.stringify(doc) });
  }
  const v3Root = openapiRoot(new Map([...v3Docs].map(([path, d]) => [path, d.hash])));
  const openapiV2 = openapiV2Handler(openapiAll());

  const v3Document = (gv: GroupVersion): HttpReply => {
    const d = v3Docs.get(openapiPath(gv)) as { hash: string; body: string };
    return { status: 200, headers: { 'content-type': 'application/json', etag: `"${d.hash}"`, 'cache-control': 'public, immutable' }, body: d.body };
  };

  const discovery = (group: string, version: string | undefined): HttpReply => {
    if (version !== undefined) {
      const list = apiResourceList(group, version);
      if (list) return json(200, list);
    } else {
      const g = apiGroup(group);
      if (g) return json(200, g);
    }
    throw new ApiError(404, 'NotFound', 'the server could not find the requested resource');
  };

  const fixed = (req: HttpRequest, name: string): HttpReply => {
    const accept = req.headers.accept ?? '';
    switch (name) {
      // While shutting down, the Drain in front answers 503 to everything, /readyz included.
      case 'healthz':
      case 'livez':
      case 'readyz':
        return text(200, 'ok');
      case 'version':
        return json(200, versionInfo(opts.kubeMinor));
      case 'api':
        if (wantsAggregated(accept)) return json(200, aggregatedDiscovery(), { 'content-type': AGGREGATED_CONTENT_TYPE });
        return json(200, apiVersions(req.headers.host ?? '127.0.0.1'));
      case 'apis':
        if (wantsAggregated(accept)) return json(200, aggregatedGroupsDiscovery(), { 'content-type': AGGREGATED_CONTENT_TYPE });
        return json(200, apiGroupList());
      case 'openapi-v2':
        return openapiV2(req);
      case 'openapi-v3':
        return json(200, v3Root);
      case 'inspect':
        if (!opts.inspect) throw new ApiError(404, 'NotFound', 'inspection is not enabled on this server');
        return { status: 200, headers: { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' }, body: inspectPage(opts.inspect.inspectorUrl) };
    }
    throw new ApiError(404, 'NotFound', 'the server could not find the requested resource');
  };

  return guard(opts.security, store, {
    maxBodyBytes: opts.maxBodyBytes,
    async handle(req) {
      try {
        const r = route(req.path);
        if (!r) throw new ApiError(404, 'NotFound', 'the server could not find the requested resource');
        if (r.type !== 'resource' && req.method !== 'GET' && req.method !== 'HEAD') throw methodNotAllowed(req.method);
        if (r.type === 'fixed') return fixed(req, r.name);
        if (r.type === 'discovery') return discovery(r.group, r.version);
        if (r.type === 'openapi-v3-gv') return v3Document(r.gv);
        return await rest.serve(req, r);
      } catch (e) {
        return errorReply(e);
      }
    },
    upgrade(req): UpgradeAnswer {
      try {
        if (req.path === '/inspect/events') {
          if (!opts.inspect) throw new ApiError(404, 'NotFound', 'inspection is not enabled on this server');
          checkOrigin(req, opts.allowedOrigins ?? []);
          const hub = opts.inspect.hub;
          const filter = { actor: req.query.get('actor') ?? undefined, node: req.query.get('node') ?? undefined };
          return { start: (sink) => hub.connect(filter, sink) };
        }
        const r = route(req.path);
        // kubectl exec/attach/port-forward upgrade (WebSocket or SPDY) on the pod's subresource.
        const unserved = r?.type === 'resource' ? unservedSubresource(r) : undefined;
        if (unserved) throw unserved;
        if (!r || r.type !== 'resource' || (r.name !== undefined && !r.legacyWatch)) throw badRequest('WebSocket is served on watchable collection URLs only');
        checkOrigin(req, opts.allowedOrigins ?? []);
        const offered = (req.headers['sec-websocket-protocol'] ?? '').split(',').map((s) => s.trim()).filter(Boolean);
        // As kube-apiserver's handshake: at most one subprotocol, echoed back.
        if (offered.length > 1) throw badRequest('at most one WebSocket subprotocol may be requested');
        return { protocol: offered[0], start: rest.watchStarter(req, r, offered[0] === MSGPACK_SUBPROTOCOL ? 'ws-msgpack' : 'ws') };
      } catch (e) {
        return { reply: errorReply(e) };
      }
    },
  });
}

/**
 * Browsers may only open watches from the server's own origin or one of `allowed`
 * (--allowed-origins); clients that send no Origin (not browsers) are fine.
 */
function checkOrigin(req: HttpRequest, allowed: readonly string[]): void {
  const origin = req.headers.origin;
  if (origin === undefined || origin === '' || allowed.includes(origin)) return;
  let host: string;
  try {
    host = new URL(origin).host;
  } catch {
    throw forbidden(`WebSocket Origin ${JSON.stringify(origin)} is not a valid origin`);
  }
  if (host !== req.headers.host) throw forbidden(`WebSocket Origin ${origin} is not allowed for this server`);
}
