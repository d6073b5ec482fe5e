// Authorization: what a user may do. Three roles by group — admin (system:masters: everything),
// view (system:viewers: get/list/watch of everything but Secrets, as Kubernetes' view role) and
// node (system:nodes, user system:node:<name>: its own Node, the pods bound to it and the Secrets
// they name as imagePullSecrets, RuntimeClasses, events, its Lease in kube-node-lease; as
// kube-apiserver's Node authorizer + NodeRestriction).
// Every authenticated user may read the discovery documents, as system:discovery allows.
import { ApiError } from '../api/model/status.ts';
import { NODE_LEASE_NAMESPACE } from '../api/model/lease/lease.ts';
import { parseFieldSelector } from '../api/model/selectors.ts';
import type { Store } from '../store/store.ts';
import { MASTERS, NODE_PREFIX, NODES, VIEWERS, unauthorized, type Authenticator, type UserInfo } from './auth.ts';
import { errorReply } from './errors.ts';
import { isStream, type HttpHandler, type HttpReply, type HttpRequest, type UpgradeAnswer } from './http.ts';
import { Limits } from './limits.ts';
import { route, type Route } from './router.ts';

export interface Attributes {
  verb: string;
  /** '' for core. */
  apiGroup: string;
  resource: string;
  subresource?: string;
  namespace?: string;
  name?: string;
}

const READ = new Set(['get', 'list', 'watch']);
/** Resources the view role may not read. */
const VIEW_DENIED = new Set(['secrets']);
const NODE_LEASE_VERBS = new Set(['get', 'create', 'update', 'patch', 'delete']);
const INSPECT_PATHS = new Set(['/inspect', '/inspect/events']);

const isViewer = (user: UserInfo): boolean => user.groups.includes(VIEWERS) || user.groups.includes('reddwarf:view');

/** The verb of a resource request, as kube-apiserver's RequestInfo names it. */
export function verbOf(req: HttpRequest, r: Route & { type: 'resource' }, upgrade = false): string {
  const watchParam = req.query.get('watch');
  const watching = upgrade || r.legacyWatch || (watchParam !== null && ['1', 't', 'T', 'true', 'TRUE', 'True'].includes(watchParam));
  switch (req.method) {
    case 'GET':
    case 'HEAD':
      if (r.name === undefined || r.legacyWatch) return watching ? 'watch' : 'list';
      return 'get';
    case 'POST': return 'create';
    case 'PUT': return 'update';
    case 'PATCH': return 'patch';
    case 'DELETE': return r.name === undefined ? 'deletecollection' : 'delete';
    default: return req.method.toLowerCase();
  }
}

export function attributesOf(req: HttpRequest, r: Route & { type: 'resource' }, upgrade = false): Attributes {
  const a: Attributes = { verb: verbOf(req, r, upgrade), apiGroup: r.def.group, resource: r.def.resource };
  if (r.subresource !== undefined) a.subresource = r.subresource;
  if (r.namespace !== undefined) a.namespace = r.namespace;
  if (r.name !== undefined) a.name = r.name;
  return a;
}

/** kube-apiserver's Forbidden message for a resource request. */
export function forbiddenFor(user: UserInfo, a: Attributes, why?: string): ApiError {
  const res = a.subresource ? `${a.resource}/${a.subresource}` : a.resource;
  const subject = a.name !== undefined ? `${a.resource} ${JSON.stringify(a.name)}` : a.resource;
  const scope = a.namespace !== undefined ? `in the namespace ${JSON.stringify(a.namespace)}` : 'at the cluster scope';
  const qualified = a.apiGroup ? `${a.resource}.${a.apiGroup}` : a.resource;
  const subjectQ = a.name !== undefined ? `${qualified} ${JSON.stringify(a.name)}` : qualified;
  const msg = `${a.apiGroup ? subjectQ : subject} is forbidden: User ${JSON.stringify(user.name)} cannot ${a.verb} resource ${JSON.stringify(res)} in API group ${JSON.stringify(a.apiGroup)} ${scope}${why ? `: ${why}` : ''}`;
  return new ApiError(403, 'Forbidden', msg, { ...(a.apiGroup ? { group: a.apiGroup } : {}), kind: a.resource, ...(a.name !== undefined ? { name: a.name } : {}) });
}

/** Forbidden for a non-resource URL (a fixed endpoint). */
export function forbiddenPath(user: UserInfo, verb: string, path: string): ApiError {
  return new ApiError(403, 'Forbidden', `forbidden: User ${JSON.stringify(user.name)} cannot ${verb} path ${JSON.stringify(path)}`);
}

export class Authorizer {
  constructor(private readonly store: Store) {}

  /** Throws a 403 ApiError unless `user` may do `a` (`req` supplies the body and selectors). */
  authorize(user: UserInfo, a: Attributes, req: HttpRequest): void {
    if (user.groups.includes(MASTERS)) return;
    // Kubernetes' view role reads everything but Secrets (reading them would escalate: tokens, credentials).
    if (isViewer(user) && READ.has(a.verb) && !VIEW_DENIED.has(a.resource)) return;
    if (user.groups.includes(NODES) && user.name.startsWith(NODE_PREFIX)) {
      const why = this.nodeRule(user.name.slice(NODE_PREFIX.length), a, req);
      if (why === undefined) return;
      throw forbiddenFor(user, a, why);
    }
    throw forbiddenFor(user, a);
  }

  /**
   * Non-resource GETs (discovery, OpenAPI, health, version) are open to every authenticated user;
   * live inspection shows every actor's context, so it needs the view role.
   */
  authorizePath(user: UserInfo, method: string, path: string, known = true): void {
    if (user.groups.includes(MASTERS)) return;
    const reading = method === 'GET' || method === 'HEAD';
    if (INSPECT_PATHS.has(path)) {
      if (reading && isViewer(user)) return;
    } else if (known && reading) return;
    throw forbiddenPath(user, method.toLowerCase(), path);
  }

  /** The node rule: undefined when allowed, else why not. */
  private nodeRule(node: string, a: Attributes, req: HttpRequest): string | undefined {
    const denied = `node ${JSON.stringify(node)} may not do this`;
    switch (a.resource) {
      case 'nodes': {
        if (READ.has(a.verb) && a.subresource === undefined) return undefined;
        if (a.verb === 'get' && a.subresource === 'status') return undefined;
        if (a.verb === 'create' && a.subresource === undefined) {
          const name = bodyName(req);
          return name === node ? undefined : `node ${JSON.stringify(node)} may only create its own Node object`;
        }
        if ((a.verb === 'update' || a.verb === 'patch') && (a.subresource === undefined || a.subresource === 'status')) {
          return a.name === node ? undefined : `node ${JSON.stringify(node)} may only modify its own Node object`;
        }
        // Its node API serving certificate (a kubelet-serving CSR in Kubernetes).
        if (a.verb === 'create' && a.subresource === 'servingcertificate') {
          return a.name === node ? undefined : `node ${JSON.stringify(node)} may only ask for its own serving certificate`;
        }
        return denied;
      }
      case 'pods': {
        if (a.verb === 'list' || a.verb === 'watch') {
          return boundSelector(req, node) ? undefined : `node ${JSON.stringify(node)} may only ${a.verb} pods with fieldSelector spec.nodeName=${node}`;
        }
        const own = a.name !== undefined && a.namespace !== undefined && this.boundTo(a.namespace, a.name) === node;
        if (a.verb === 'get' && (a.subresource === undefined || a.subresource === 'status')) return own ? undefined : `no relationship found between node ${JSON.stringify(node)} and this object`;
        if ((a.verb === 'update' || a.verb === 'patch') && a.subresource === 'status') return own ? undefined : `node ${JSON.stringify(node)} may only update the status of pods bound to it`;
        if (a.verb === 'create' && a.subresource === 'finalize') return own ? undefined : `node ${JSON.stringify(node)} may only finalize pods bound to it`;
        if (a.verb === 'delete' && a.subresource === undefined) return own ? undefined : `node ${JSON.stringify(node)} may only delete pods bound to it`;
        return denied;
      }
      case 'events':
        return a.verb === 'create' || a.verb === 'update' || a.verb === 'patch' ? undefined : denied;
      case 'secrets':
        // Only a Secret that a pod bound to this node names (imagePullSecrets), and only by name.
        if (a.verb !== 'get' || a.subresource !== undefined || a.namespace === undefined || a.name === undefined) return denied;
        return this.referencedBy(node, a.namespace, a.name) ? undefined : `no relationship found between node ${JSON.stringify(node)} and this object`;
      case 'runtimeclasses':
        return READ.has(a.verb) ? undefined : denied;
      case 'leases':
        return nodeLeaseRule(node, a, req);
      case 'namespaces':
        return a.verb === 'get' && a.subresource === undefined ? undefined : denied;
      default:
        return denied;
    }
  }

  /** Whether a pod bound to `node` in `namespace` names Secret `name` among its imagePullSecrets. */
  private referencedBy(node: string, namespace: string, name: string): boolean {
    const pods = this.store.list('pods', { namespace, filter: (p) => (p as { spec?: { nodeName?: string } }).spec?.nodeName === node }).items;
    return pods.some((p) => {
      const refs = (p as { spec?: { imagePullSecrets?: unknown } }).spec?.imagePullSecrets;
      return Array.isArray(refs) && refs.some((r) => (r as { name?: unknown } | null)?.name === name);
    });
  }

  private boundTo(namespace: string, name: string): string | undefined {
    const pod = this.store.get('pods', namespace, name) as { spec?: { nodeName?: string } } | undefined;
    return pod?.spec?.nodeName;
  }
}

/**
 * A node's heartbeat Lease: its own (named after it) in kube-node-lease, as kube-apiserver's Node
 * authorizer (verbs, namespace) and NodeRestriction admission (the name on create) allow.
 */
function nodeLeaseRule(node: string, a: Attributes, req: HttpRequest): string | undefined {
  if (!NODE_LEASE_VERBS.has(a.verb) || a.subresource !== undefined) return 'can only get, create, update, patch, or delete a node lease';
  if (a.namespace !== NODE_LEASE_NAMESPACE) return `can only access leases in the ${JSON.stringify(NODE_LEASE_NAMESPACE)} system namespace`;
  const name = a.verb === 'create' ? bodyName(req) : a.name;
  return name === node ? undefined : 'can only access node lease with the same name as the requesting node';
}

/** metadata.name of a JSON body, if it has one. */
function bodyName(req: HttpRequest): string | undefined {
  try {
    const o = JSON.parse(req.body.toString('utf8')) as { metadata?: { name?: unknown } };
    return typeof o?.metadata?.name === 'string' ? o.metadata.name : undefined;
  } catch {
    return undefined;
  }
}

/** Whether the fieldSelector pins spec.nodeName to `node`. */
function boundSelector(req: HttpRequest, node: string): boolean {
  const fs = req.query.get('fieldSelector');
  if (!fs) return false;
  try {
    return parseFieldSelector(fs, 'pods').requirements.some((r) => r.field === 'spec.nodeName' && r.op === '=' && r.value === node);
  } catch {
    return false;
  }
}

// ---- the gate every request passes before the API handler -------------------------------

/** Paths anyone may read, with or without credentials (probes and version checks). */
export const PUBLIC_PATHS = new Set(['/healthz', '/livez', '/readyz', '/version']);

export interface SecurityOptions {
  /** Off (undefined): no authentication or authorization, everyone is admin (loopback default). */
  authenticator?: Authenticator;
  limits?: Limits;
}

interface Admission {
  /** Wraps a reply: a watch stream gives its slot back when it closes. */
  wrap(reply: HttpReply): HttpReply;
  /** Gives back the in-flight slot (the reply has been produced). */
  done(): void;
  /** Gives back every slot (the request was refused after all). */
  cancel(): void;
}

const trimPath = (p: string): string => (p.length > 1 && p.endsWith('/') ? p.slice(0, -1) : p);

/**
 * Wraps the API handler with the request limits, authentication and authorization: 414 for long
 * URLs, 401 for missing or bad credentials (when authentication is on), 403 for what the user's
 * role does not allow, 429 over --max-requests-inflight or the per-client watch limit.
 */
export function guard(sec: SecurityOptions | undefined, store: Store, inner: HttpHandler): HttpHandler {
  // Without security options (embedded, tests) no per-client watch cap: one process may hold many watches.
  const limits = sec?.limits ?? new Limits({ maxWatchesPerClient: Number.POSITIVE_INFINITY });
  const authn = sec?.authenticator;
  const authz = new Authorizer(store);
  const leaseLimits = new Limits({ maxRequestsInflight: limits.maxInflight });

  const admit = (req: HttpRequest, upgrade: boolean): Admission => {
    limits.checkUrl(req.path, req.query);
    limits.checkHeaders(req.headers);
    const r = route(req.path);
    const path = trimPath(req.path);
    let user: UserInfo | undefined;
    if (authn && !PUBLIC_PATHS.has(path)) {
      user = authn.authenticate(req);
      if (!user) throw unauthorized();
      req.user = user.name;
      if (r?.type === 'resource') authz.authorize(user, attributesOf(req, r, upgrade), req);
      else authz.authorizePath(user, req.method, path, r !== undefined);
    }
    const watching = upgrade || (r?.type === 'resource' && attributesOf(req, r).verb === 'watch');
    if (watching) {
      const end = limits.watch(user?.name ?? req.remote ?? 'anonymous');
      return {
        wrap(reply) {
          if (!isStream(reply)) {
            end();
            return reply;
          }
          return {
            status: reply.status,
            headers: reply.headers,
            stream(sink) {
              sink.onClose(end);
              reply.stream(sink);
            },
          };
        },
        done() {},
        cancel: end,
      };
    }
    // Node heartbeats have their own budget (as APF's node-high level): a flood of user writes
    // must not make healthy nodes miss their Lease renewals and go NotReady.
    const pool = r?.type === 'resource' && r.def.resource === 'leases' && user?.name.startsWith(NODE_PREFIX) ? leaseLimits : limits;
    const release = pool.acquire();
    return { wrap: (reply) => reply, done: release, cancel: release };
  };

  return {
    maxBodyBytes: inner.maxBodyBytes,
    async handle(req) {
      let adm: Admission;
      try {
        adm = admit(req, false);
      } catch (e) {
        return errorReply(e);
      }
      try {
        return adm.wrap(await inner.handle(req));
      } catch (e) {
        adm.cancel();
        return errorReply(e);
      } finally {
        adm.done();
      }
    },
    upgrade(req): UpgradeAnswer {
      let adm: Admission;
      try {
        adm = admit(req, true);
      } catch (e) {
        return { reply: errorReply(e) };
      }
      const answer = inner.upgrade(req);
      if ('reply' in answer) {
        adm.cancel();
        return answer;
      }
      return {
        protocol: answer.protocol,
        start(sink) {
          sink.onClose(adm.cancel);
          answer.start(sink);
        },
        // The handshake failed after all (the transport refused it, or the client left).
        abandon() {
          adm.cancel();
          answer.abandon?.();
        },
      };
    },
  };
}
