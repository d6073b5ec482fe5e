// The Client over the network: REST calls over HTTP(S) and watches over WebSocket that survive
// server restarts by resuming from the last revision seen, with the same errors as LocalClient.
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import WebSocket from 'ws';
import { apiVersionOf, resourceDef, type ResourceDef } from '../api/model/resources.ts';
import type { DeleteOptions, KubeObject } from '../api/model/types.ts';
import { every, realClock, type Clock } from '../time/clock.ts';
import { ClientError, type Binding, type Client, type ListAnswer, type ListQuery, type WatchHandlers, type WatchQuery } from './client.ts';

export interface RemoteClientOptions {
  /** Base URL of the API server, e.g. `https://127.0.0.1:6443` (a path prefix is kept). */
  server: string;
  /** Bearer token sent with every request. */
  token?: string;
  /** PEM bundle that signs the server's certificate (https only). */
  ca?: string | Buffer;
  /** Accept any server certificate (kubeconfig `insecure-skip-tls-verify`). */
  insecureSkipTlsVerify?: boolean;
  /** Per request, and per WebSocket handshake; default 30 s. */
  timeoutMs?: number;
  /** Request timeouts, watch pings and reconnects; realClock by default. */
  clock?: Clock;
}

const DEFAULT_TIMEOUT_MS = 30_000;
/** Watch reconnect backoff: first retry after 100 ms, doubling up to 5 s. */
const RETRY_FIRST_MS = 100;
const RETRY_MAX_MS = 5_000;
/** A watch socket that answers no ping for this long is presumed dead (half-open TCP). */
const PING_EVERY_MS = 30_000;

/** Reasons for bare HTTP codes, when a reply carries no Status (a proxy's error page). */
const REASONS: Record<number, string> = {
  400: 'BadRequest', 401: 'Unauthorized', 403: 'Forbidden', 404: 'NotFound', 405: 'MethodNotAllowed', 406: 'NotAcceptable',
  409: 'Conflict', 410: 'Expired', 413: 'RequestEntityTooLarge', 415: 'UnsupportedMediaType', 422: 'Invalid',
  429: 'TooManyRequests', 500: 'InternalError', 503: 'ServiceUnavailable', 504: 'Timeout',
};

interface Reply {
  status: number;
  body: string;
}

interface StatusBody {
  kind?: string;
  code?: number;
  reason?: string;
  message?: string;
  details?: { name?: string; uid?: string; kind?: string };
}

/** The ClientError for a non-2xx reply: the Status it carries, else the bare HTTP code. */
function replyError(status: number, body: string): ClientError {
  let s: StatusBody | undefined;
  try {
    s = JSON.parse(body) as StatusBody;
  } catch {
    s = undefined;
  }
  if (s && typeof s === 'object' && s.kind === 'Status') {
    return new ClientError(typeof s.code === 'number' && s.code > 0 ? s.code : status, s.reason || REASONS[status] || 'Unknown', s.message ?? `the server answered ${status}`);
  }
  const text = body.trim().slice(0, 200);
  return new ClientError(status, REASONS[status] ?? 'Unknown', text || `the server answered ${status}`);
}

const isTransient = (code: number): boolean => code >= 500 || code === 429;

export class RemoteClient implements Client {
  private readonly base: URL;
  /** A path the server is mounted under (behind a proxy), without a trailing slash. */
  private readonly prefix: string;
  private readonly timeoutMs: number;
  readonly clock: Clock;
  private readonly agent: HttpAgent;
  private readonly watches = new Set<() => void>();

  constructor(private readonly opts: RemoteClientOptions) {
    let base: URL;
    try {
      base = new URL(opts.server);
    } catch {
      throw new Error(`invalid API server URL ${JSON.stringify(opts.server)}`);
    }
    if (base.protocol !== 'http:' && base.protocol !== 'https:') throw new Error(`invalid API server URL ${opts.server}: only http and https are supported`);
    this.base = base;
    this.prefix = base.pathname.replace(/\/+$/, '');
    this.timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.clock = opts.clock ?? realClock;
    // One keep-alive pool per client: the node agent and scheduler make many small calls.
    this.agent = base.protocol === 'https:' ? new HttpsAgent({ keepAlive: true, ...this.tlsOptions() }) : new HttpAgent({ keepAlive: true });
  }

  /** The base URL this client talks to. */
  get server(): string {
    return `${this.base.origin}${this.prefix}`;
  }

  /** Stops every watch and drops pooled connections; the client is unusable afterwards. */
  close(): void {
    for (const stop of [...this.watches]) stop();
    this.agent.destroy();
  }

  async requestServingCertificate(node: string, csrPem: string): Promise<{ certificate: string; ca: string }> {
    return this.call<{ certificate: string; ca: string }>('POST', `${this.itemPath('nodes', '', node)}/servingcertificate`, { body: { csr: csrPem } });
  }

  async get<T extends KubeObject>(resource: string, namespace: string, name: string): Promise<T> {
    return this.call<T>('GET', this.itemPath(resource, namespace, name));
  }

  async list<T extends KubeObject>(resource: string, q: ListQuery = {}): Promise<ListAnswer<T>> {
    const query = new URLSearchParams();
    if (q.labelSelector) query.set('labelSelector', q.labelSelector);
    if (q.fieldSelector) query.set('fieldSelector', q.fieldSelector);
    if (q.limit !== undefined) query.set('limit', String(q.limit));
    if (q.continue) query.set('continue', q.continue);
    const r = await this.call<{ metadata?: { resourceVersion?: string; continue?: string }; items?: T[] }>('GET', this.collectionPath(resource, q.namespace), { query });
    const answer: ListAnswer<T> = { items: r.items ?? [], resourceVersion: r.metadata?.resourceVersion ?? '' };
    if (r.metadata?.continue) answer.continue = r.metadata.continue;
    return answer;
  }

  async create<T extends KubeObject>(resource: string, obj: T): Promise<T> {
    const def = this.def(resource);
    return this.call<T>('POST', this.collectionPath(resource, def.namespaced ? (obj.metadata.namespace ?? 'default') : undefined), { body: obj });
  }

  async update<T extends KubeObject>(resource: string, obj: T): Promise<T> {
    return this.call<T>('PUT', this.objectPath(resource, obj), { body: obj });
  }

  async updateStatus<T extends KubeObject>(resource: string, obj: T): Promise<T> {
    return this.call<T>('PUT', `${this.objectPath(resource, obj)}/status`, { body: obj });
  }

  async patch<T extends KubeObject>(resource: string, namespace: string, name: string, patch: unknown, opts: { status?: boolean } = {}): Promise<T> {
    const path = this.itemPath(resource, namespace, name) + (opts.status ? '/status' : '');
    return this.call<T>('PATCH', path, { body: patch, type: 'application/merge-patch+json' });
  }

  async delete(resource: string, namespace: string, name: string, opts: DeleteOptions = {}): Promise<KubeObject> {
    const def = this.def(resource);
    const r = await this.call<KubeObject & StatusBody>('DELETE', this.itemPath(resource, namespace, name), { body: { apiVersion: 'v1', kind: 'DeleteOptions', ...opts } });
    if (r.kind !== 'Status') return r;
    // Kinds without ReturnDeletedObject answer with a Status: rebuild what it names.
    const metadata: KubeObject['metadata'] = { name: r.details?.name ?? name };
    if (def.namespaced) metadata.namespace = namespace;
    if (r.details?.uid) metadata.uid = r.details.uid;
    return { apiVersion: apiVersionOf(def), kind: def.kind, metadata };
  }

  async bind(namespace: string, name: string, b: Binding): Promise<void> {
    const metadata: Record<string, string> = { name };
    if (b.uid) metadata.uid = b.uid;
    if (b.resourceVersion) metadata.resourceVersion = b.resourceVersion;
    await this.call('POST', `${this.itemPath('pods', namespace, name)}/binding`, { body: { apiVersion: 'v1', kind: 'Binding', metadata, target: { kind: 'Node', name: b.nodeName } } });
  }

  async finalize(resource: string, namespace: string, name: string, opts: { uid?: string } = {}): Promise<void> {
    await this.call('POST', `${this.itemPath(resource, namespace, name)}/finalize`, { body: opts.uid ? { preconditions: { uid: opts.uid } } : {} });
  }

  watch<T extends KubeObject>(resource: string, q: WatchQuery, h: WatchHandlers<T>): () => void {
    let path: string;
    try {
      path = this.collectionPath(resource, q.namespace);
    } catch (e) {
      queueMicrotask(() => h.closed({ expired: false, message: (e as Error).message }));
      return () => {};
    }
    const watch = new RemoteWatch<T>(this, path, q, h, () => this.watches.delete(stop));
    const stop = (): void => watch.stop();
    this.watches.add(stop);
    watch.connect();
    return stop;
  }

  /** Request headers, in one place: authentication is added here. */
  headers(extra: Record<string, string> = {}): Record<string, string> {
    const h: Record<string, string> = { accept: 'application/json', 'user-agent': 'reddwarf-client', ...extra };
    if (this.opts.token) h.authorization = `Bearer ${this.opts.token}`;
    return h;
  }

  /** TLS options shared by the request agent and the WebSocket handshake. */
  tlsOptions(): { ca?: string | Buffer; rejectUnauthorized?: boolean } {
    const o: { ca?: string | Buffer; rejectUnauthorized?: boolean } = {};
    if (this.opts.ca) o.ca = this.opts.ca;
    if (this.opts.insecureSkipTlsVerify) o.rejectUnauthorized = false;
    return o;
  }

  /** The absolute URL of an API path (http(s) or, for watches, ws(s)). */
  url(path: string, query?: URLSearchParams, ws = false): URL {
    const u = new URL(this.base.href);
    u.pathname = this.prefix + path;
    const search = query?.toString() ?? '';
    u.search = search ? `?${search}` : '';
    if (ws) u.protocol = u.protocol === 'https:' ? 'wss:' : 'ws:';
    return u;
  }

  get handshakeTimeoutMs(): number {
    return this.timeoutMs;
  }

  private def(resource: string): ResourceDef {
    const def = resourceDef(resource);
    if (!def) throw new ClientError(404, 'NotFound', `the server could not find the requested resource (${resource})`);
    return def;
  }

  private collectionPath(resource: string, namespace: string | undefined): string {
    const def = this.def(resource);
    const root = def.group ? `/apis/${def.group}/${def.version}` : `/api/${def.version}`;
    if (def.namespaced && namespace !== undefined) return `${root}/namespaces/${encodeURIComponent(namespace)}/${resource}`;
    return `${root}/${resource}`;
  }

  private itemPath(resource: string, namespace: string, name: string): string {
    const def = this.def(resource);
    const root = def.group ? `/apis/${def.group}/${def.version}` : `/api/${def.version}`;
    const collection = def.namespaced ? `${root}/namespaces/${encodeURIComponent(namespace)}/${resource}` : `${root}/${resource}`;
    return `${collection}/${encodeURIComponent(name)}`;
  }

  private objectPath(resource: string, obj: KubeObject): string {
    return this.itemPath(resource, obj.metadata.namespace ?? 'default', obj.metadata.name ?? '');
  }

  /** One REST call: JSON in, JSON out, any failure as a ClientError. */
  private async call<T>(method: string, path: string, o: { query?: URLSearchParams; body?: unknown; type?: string } = {}): Promise<T> {
    const url = this.url(path, o.query);
    const body = o.body === undefined ? undefined : Buffer.from(JSON.stringify(o.body));
    const headers = this.headers(body ? { 'content-type': o.type ?? 'application/json', 'content-length': String(body.length) } : {});
    const reply = await this.send(method, url, headers, body);
    if (reply.status < 200 || reply.status > 299) throw replyError(reply.status, reply.body);
    if (reply.body.trim() === '') return undefined as T;
    try {
      return JSON.parse(reply.body) as T;
    } catch {
      throw new ClientError(500, 'InternalError', `the API server at ${this.server} answered ${method} ${path} with invalid JSON`);
    }
  }

  private send(method: string, url: URL, headers: Record<string, string>, body: Buffer | undefined, retried = false): Promise<Reply> {
    return new Promise<Reply>((resolve, reject) => {
      const request = url.protocol === 'https:' ? httpsRequest : httpRequest;
      let timedOut = false;
      const req = request(url, { method, headers, agent: this.agent }, (res: IncomingMessage) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          this.clock.clearTimeout(timer);
          resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') });
        });
        res.on('error', (e) => fail(e));
      });
      const timer = this.clock.setTimeout(() => {
        timedOut = true;
        req.destroy();
      }, this.timeoutMs);
      const fail = (e: Error): void => {
        this.clock.clearTimeout(timer);
        if (timedOut) return reject(new ClientError(504, 'Timeout', `the API server at ${this.server} did not answer ${method} ${url.pathname} within ${this.timeoutMs} ms`));
        // A pooled socket the server closed while idle: the request never reached it, send again.
        const code = (e as NodeJS.ErrnoException).code;
        if (!retried && req.reusedSocket && (code === 'ECONNRESET' || code === 'EPIPE')) {
          resolve(this.send(method, url, headers, body, true));
          return;
        }
        reject(new ClientError(503, 'ServiceUnavailable', `cannot reach the API server at ${this.server}: ${e.message || code || String(e)}`));
      };
      req.on('error', fail);
      req.end(body);
    });
  }
}

/**
 * One watch: a WebSocket on the collection URL, replaced after a dropped connection by one that
 * resumes from the last revision seen, until stopped or ended by the server (410 or a refusal).
 */
class RemoteWatch<T extends KubeObject> {
  /** Where to resume; undefined until the initial state has been received in full. */
  private rv: string | undefined;
  /** Some initial ADDED events reached the caller but not the end-of-initial-events bookmark. */
  private partial = false;
  private stopped = false;
  private socket: WebSocket | undefined;
  private timer: unknown;
  private retryMs = RETRY_FIRST_MS;

  constructor(
    private readonly client: RemoteClient,
    private readonly path: string,
    private readonly q: WatchQuery,
    private readonly h: WatchHandlers<T>,
    private readonly forget: () => void,
  ) {
    // '0' means "current state first", as LocalClient reads it.
    this.rv = q.resourceVersion && q.resourceVersion !== '0' ? q.resourceVersion : undefined;
  }

  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.client.clock.clearTimeout(this.timer);
    this.socket?.terminate();
    this.socket = undefined;
    this.forget();
  }

  connect(): void {
    if (this.stopped) return;
    const query = new URLSearchParams({ watch: '1', allowWatchBookmarks: 'true' });
    if (this.q.labelSelector) query.set('labelSelector', this.q.labelSelector);
    if (this.q.fieldSelector) query.set('fieldSelector', this.q.fieldSelector);
    // Without a revision, ask for the bookmark that ends the initial events: it carries the
    // snapshot's revision, the only safe place to resume from after those unordered ADDEDs.
    if (this.rv !== undefined) query.set('resourceVersion', this.rv);
    else query.set('sendInitialEvents', 'true');
    const url = this.client.url(this.path, query, true);
    const ws = new WebSocket(url, { headers: this.client.headers(), ...this.client.tlsOptions(), handshakeTimeout: this.client.handshakeTimeoutMs, perMessageDeflate: false });
    this.socket = ws;
    let over = false;
    let alive = true;
    const stopPing = every(this.client.clock, PING_EVERY_MS, () => {
      if (!alive) return ws.terminate();
      alive = false;
      ws.ping();
    });
    // Ends this socket's part; returns false when it had already ended.
    const end = (): boolean => {
      if (over) return false;
      over = true;
      stopPing();
      if (this.socket === ws) this.socket = undefined;
      return true;
    };

    ws.on('error', () => {}); // 'close' follows and decides
    ws.on('pong', () => (alive = true));
    ws.on('close', () => {
      if (end()) this.retry();
    });
    ws.on('unexpected-response', (req, res) => {
      // The upgrade was refused with a Status (bad selector, unknown resource, shutting down).
      const chunks: Buffer[] = [];
      // Once the reply has ended the request lets go of its (keep-alive) socket: close it here.
      const socket = res.socket;
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', () => {});
      res.on('end', () => {
        req.destroy();
        socket?.destroy();
        if (!end()) return;
        const err = replyError(res.statusCode ?? 0, Buffer.concat(chunks).toString('utf8'));
        if (isTransient(err.code)) this.retry();
        else this.finish({ expired: err.code === 410, message: err.message });
      });
    });
    ws.on('message', (data: WebSocket.RawData) => {
      if (over || this.stopped) return;
      alive = true;
      let e: { type?: string; object?: KubeObject & StatusBody };
      try {
        e = JSON.parse(data.toString()) as typeof e;
      } catch {
        // A garbled frame could hide an event: start again from what is known to be delivered.
        ws.terminate();
        return;
      }
      const object = e.object;
      if (!object || typeof object !== 'object') return;
      switch (e.type) {
        case 'ADDED':
        case 'MODIFIED':
        case 'DELETED': {
          this.retryMs = RETRY_FIRST_MS;
          if (this.rv === undefined) this.partial = true;
          else this.rv = object.metadata?.resourceVersion ?? this.rv;
          this.h.event({ type: e.type, object: object as unknown as T });
          return;
        }
        case 'BOOKMARK': {
          this.retryMs = RETRY_FIRST_MS;
          const rv = object.metadata?.resourceVersion;
          const initialEnd = object.metadata?.annotations?.['k8s.io/initial-events-end'] === 'true';
          if (rv && (this.rv !== undefined || initialEnd)) {
            this.rv = rv;
            this.partial = false;
            if (this.q.allowWatchBookmarks) this.h.bookmark?.(rv);
          }
          return;
        }
        case 'ERROR': {
          end();
          ws.terminate();
          this.finish({ expired: object.code === 410, message: object.message });
          return;
        }
      }
    });
  }

  private retry(): void {
    if (this.stopped) return;
    if (this.partial) {
      // The caller holds part of a snapshot with no revision to resume from: only a relist helps.
      this.finish({ expired: true, message: 'the watch connection broke before the initial state was complete; list again' });
      return;
    }
    const delay = this.retryMs;
    this.retryMs = Math.min(RETRY_MAX_MS, this.retryMs * 2);
    this.timer = this.client.clock.setTimeout(() => this.connect(), delay);
  }

  private finish(reason: { expired: boolean; message?: string }): void {
    if (this.stopped) return;
    this.stop();
    this.h.closed(reason);
  }
}
