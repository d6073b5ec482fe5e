// pods/log: checks the request against the pod as kube-apiserver (and kubelet) do, then streams
// the container's log from the pod's node — directly from a node API handler in this process,
// else over HTTPS to the node API at the Node's InternalIP and daemonEndpoints port.
import { request as httpsRequest } from 'node:https';
import type { IncomingMessage } from 'node:http';
import { ApiError, badRequest, notFound } from '../api/model/status.ts';
import type { Node, Pod } from '../api/model/types.ts';
import { logOptionsQuery, parseLogOptions, type PodLogOptions } from '../api/model/pod/log-options.ts';
import { containerLogsPath, DEFAULT_NODE_API_PORT } from '../agent/node-api/protocol.ts';
import type { Store } from '../store/store.ts';
import type { HttpReply, HttpRequest } from './http.ts';
import type { NodeAuthority } from './node-authority.ts';
import { pumpTo } from './pump.ts';
import { realClock, type Clock } from '../time/clock.ts';

/** How long connecting to a node API (and its headers) may take. */
const CONNECT_TIMEOUT_MS = 10_000;
/** Error bodies from a node are read up to this size. */
const MAX_ERROR_BODY = 64 * 1024;

interface ContainerStatusLike {
  name?: string;
  state?: { waiting?: { reason?: string }; running?: unknown; terminated?: unknown };
  lastState?: { terminated?: unknown };
}

const names = (list: { name: string }[] | undefined): string[] => (list ?? []).map((c) => c.name);

/** The container a log request reads: the one named, the only one, or the default-container annotation. */
function chooseContainer(pod: Pod, o: PodLogOptions): string {
  const name = pod.metadata.name;
  const containers = names(pod.spec.containers);
  const inits = names(pod.spec['initContainers'] as { name: string }[] | undefined);
  const ephemeral = names(pod.spec['ephemeralContainers'] as { name: string }[] | undefined);
  if (o.container) {
    if (![...containers, ...inits, ...ephemeral].includes(o.container)) {
      throw new ApiError(404, 'NotFound', `container ${o.container} is not valid for pod ${name}`, { name, kind: 'pods' });
    }
    return o.container;
  }
  const annotated = pod.metadata.annotations?.['kubectl.kubernetes.io/default-container'];
  if (annotated && containers.includes(annotated)) return annotated;
  if (containers.length === 1) return containers[0] as string;
  if (containers.length === 0) throw badRequest(`a container name must be specified for pod ${name}`);
  // kube-apiserver's wording (pkg/registry/core/pod/strategy.go), Go's %s of a []string.
  let msg = `a container name must be specified for pod ${name}, choose one of: [${containers.join(' ')}]`;
  if (inits.length > 0) msg += ` or one of the init containers: [${inits.join(' ')}]`;
  if (ephemeral.length > 0) msg += ` or one of the ephemeral containers: [${ephemeral.join(' ')}]`;
  throw badRequest(msg);
}

/** kubelet's validateContainerLogStatus: a container that has not started has no log yet. */
function checkStarted(pod: Pod, container: string, o: PodLogOptions): void {
  const st = pod.status ?? {};
  const all = [...(st.containerStatuses ?? []), ...((st['initContainerStatuses'] as unknown[]) ?? []), ...((st['ephemeralContainerStatuses'] as unknown[]) ?? [])] as ContainerStatusLike[];
  const cs = all.find((s) => s.name === container);
  const pod_ = pod.metadata.name;
  if (o.previous) return; // decided on the node, from the instances it kept
  if (!cs) throw badRequest(`container "${container}" in pod "${pod_}" is waiting to start: ContainerCreating`);
  const waiting = cs.state?.waiting;
  if (waiting && !cs.lastState?.terminated) {
    const reason = waiting.reason ?? 'ContainerCreating';
    const why = reason === 'ErrImagePull' ? "image can't be pulled" : reason === 'ImagePullBackOff' ? 'trying and failing to pull image' : reason;
    throw badRequest(`container "${container}" in pod "${pod_}" is waiting to start: ${why}`);
  }
}

export class PodLogs {
  constructor(
    private readonly store: Store,
    private readonly authority?: NodeAuthority,
    /** Bounds connecting to a node API; paces backpressure. */
    private readonly clock: Clock = realClock,
  ) {}

  async serve(req: HttpRequest, namespace: string, name: string): Promise<HttpReply> {
    const pod = this.store.get('pods', namespace, name) as Pod | undefined;
    if (!pod) throw notFound('pods', name);
    const opts = parseLogOptions(req.query);
    const container = chooseContainer(pod, opts);
    const nodeName = pod.spec.nodeName;
    if (!nodeName) throw badRequest(`pod ${name} does not have a host assigned`);
    checkStarted(pod, container, opts);
    // HEAD: the headers a log would have, no stream (uWS would write one into a HEAD reply).
    if (req.method === 'HEAD') return { status: 200, headers: { 'content-type': 'text/plain' }, body: '' };
    const path = containerLogsPath(namespace, name, container);
    const query = logOptionsQuery(opts);
    const local = this.authority?.local.get(nodeName);
    if (local) return local.handle({ method: 'GET', path, query, headers: {}, body: Buffer.alloc(0) });
    const q = query.toString();
    return this.proxy(nodeName, q ? `${path}?${q}` : path, opts.insecureSkipTLSVerifyBackend === true);
  }

  /** GET on the node's API over HTTPS; its answer (a stream, or its Status) becomes ours. */
  private async proxy(nodeName: string, path: string, insecure: boolean): Promise<HttpReply> {
    if (!this.authority) throw new ApiError(503, 'ServiceUnavailable', 'this API server has no client credentials for node APIs');
    const node = this.store.get('nodes', '', nodeName) as Node | undefined;
    if (!node) throw notFound('nodes', nodeName);
    const ip = node.status?.addresses?.find((a) => a.type === 'InternalIP')?.address;
    if (!ip) throw badRequest(`node ${JSON.stringify(nodeName)} reports no InternalIP address: its node API cannot be reached`);
    const endpoint = (node.status?.['daemonEndpoints'] as { kubeletEndpoint?: { Port?: number } } | undefined)?.kubeletEndpoint?.Port;
    const port = typeof endpoint === 'number' && endpoint > 0 ? endpoint : DEFAULT_NODE_API_PORT;
    const client = this.authority.client;
    const url = `https://${ip.includes(':') ? `[${ip}]` : ip}:${port}${path}`;
    const clock = this.clock;
    const res = await new Promise<IncomingMessage>((resolve, reject) => {
      // Bounds connect + headers only: once they are in, the stream may stay quiet for as long as the log does.
      const timer = clock.setTimeout(() => r.destroy(new Error('timed out')), CONNECT_TIMEOUT_MS);
      const r = httpsRequest({ host: ip, port, path, method: 'GET', ca: this.authority?.caPem, cert: client.certPem, key: client.keyPem, rejectUnauthorized: !insecure, headers: { accept: 'text/plain, application/json' } }, (m) => {
        clock.clearTimeout(timer);
        resolve(m);
      });
      r.on('error', (e) => {
        clock.clearTimeout(timer);
        reject(e);
      });
      r.end();
    }).catch((e: unknown) => {
      throw new ApiError(500, 'InternalError', `Get "${url}": ${(e as Error).message}`);
    });
    if (res.statusCode !== 200) return passError(res, nodeName);
    return {
      status: 200,
      headers: { 'content-type': 'text/plain' },
      stream(sink) {
        const ac = new AbortController();
        sink.onClose(() => {
          ac.abort();
          res.destroy();
        });
        void (async () => {
          try {
            // The async iterator reads on only when the previous chunk went out: backpressure reaches the node.
            for await (const chunk of res) await pumpTo(sink, chunk as Buffer, ac.signal, clock);
          } catch {
            // the node or the client went away
          } finally {
            sink.end();
          }
        })();
      },
    };
  }
}

/** A node's error answer, passed on: its Status when it sent one, else a 500 naming the code. */
async function passError(res: IncomingMessage, nodeName: string): Promise<HttpReply> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of res) {
    size += (c as Buffer).length;
    if (size > MAX_ERROR_BODY) break;
    chunks.push(c as Buffer);
  }
  res.destroy();
  const body = Buffer.concat(chunks).toString('utf8');
  // The node refusing the API server is the server's trouble, not the client's credentials.
  if (res.statusCode === 401 || res.statusCode === 403) throw new ApiError(500, 'InternalError', `the node API of ${JSON.stringify(nodeName)} refused the API server (${res.statusCode}): ${body.slice(0, 200)}`);
  try {
    const s = JSON.parse(body) as { kind?: string; code?: number };
    if (s.kind === 'Status') return { status: res.statusCode ?? 500, headers: { 'content-type': 'application/json' }, body };
  } catch {
    // not a Status
  }
  throw new ApiError(500, 'InternalError', `the node answered ${res.statusCode}: ${body.slice(0, 200)}`);
}
