// Starts the control plane's API server: the store, the `default` namespace, the namespace
// controller, the listener and the kubeconfig.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { LmdbStore } from '../store/lmdb.ts';
import { StoreError } from '../store/store.ts';
import { runNamespaceController } from '../control/namespaces.ts';
import { createApi, DEFAULT_MAX_BODY_BYTES } from './api.ts';
import { clientUrl, writeKubeconfig } from './kubeconfig.ts';
import { listen, type Listening, type TransportChoice } from './listen.ts';
import { InspectHub } from '../inspect/hub.ts';
import type * as TlsModule from './tls.ts';
import type { TlsMaterial } from './tls.ts';
import { Authenticator, ensureAdminToken } from './auth.ts';
import { Limits } from './limits.ts';
import { Drain } from './drain.ts';
import { withRequestLog, type RequestLogEntry } from './access-log.ts';
import { NodeAuthority } from './node-authority.ts';
import { NODE_LEASE_NAMESPACE } from '../api/model/lease/lease.ts';
import { realClock, type Clock } from '../time/clock.ts';

/** TLS: auto-generated into `<data-dir>/tls` (extra SANs), or operator-provided files. */
export type TlsChoice = { mode: 'auto'; sans: string[] } | { mode: 'provided'; certFile: string; keyFile: string; caFile?: string };

/** The Stately inspector the /inspect page frames unless --inspector-url says otherwise. */
export const DEFAULT_INSPECTOR_URL = 'https://stately.ai/inspect';

/** How long shutdown waits for requests already in the handler; the process must be gone within 5 s. */
const DRAIN_TIMEOUT_MS = 3_000;

export interface ApiServerOptions {
  host: string;
  port: number;
  dataDir: string;
  http: TransportChoice;
  kubeMinor: number;
  allowedOrigins?: string[];
  inspectorUrl?: string;
  log: (m: string) => void;
  /** Serve HTTPS (unset: plain HTTP). */
  tls?: TlsChoice;
  /** Require authentication (admin token, token file, join tokens, client certificates). */
  auth?: { tokenFile?: string };
  maxRequestsInflight?: number;
  /** Called once per API request (unset: no request log). */
  requestLog?: (e: RequestLogEntry) => void;
  /** The time of the store, certificates, inspection and shutdown bounds (default realClock). */
  clock?: Clock;
}

export interface ApiServer {
  store: LmdbStore;
  listening: Listening;
  url: string;
  kubeconfig: string;
  /** Where actor systems register for /inspect. */
  inspect: InspectHub;
  /** The TLS files served, when TLS is on. */
  tls?: TlsMaterial;
  /** The admin token (also in `<data-dir>/admin-token` and the kubeconfig), when authentication is on. */
  adminToken?: string;
  /** The cluster CA and node API credentials; agents in this process register their node API in `nodes.local`. */
  nodes: NodeAuthority;
  stop(): Promise<void>;
}

/** Parses `host:port` (`[::1]:6443` for IPv6); throws a readable error otherwise. */
export function parseBind(bind: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]+)):(\d{1,5})$/.exec(bind);
  const port = m ? Number(m[3]) : NaN;
  if (!m || port > 65535) throw new Error(`invalid --bind ${JSON.stringify(bind)}: expected host:port, e.g. 127.0.0.1:6443`);
  return { host: (m[1] ?? m[2]) as string, port };
}

/** Opens the store and serves the API until stop() is called. */
export async function startApiServer(o: ApiServerOptions): Promise<ApiServer> {
  const clock = o.clock ?? realClock;
  mkdirSync(o.dataDir, { recursive: true, mode: 0o700 });
  // TLS and credentials first: their errors are fatal before anything listens.
  let tls: TlsMaterial | undefined;
  // Loaded only when asked for: the X.509 library is not free to load.
  const { defaultSans, ensureTls, providedTls } = o.tls ? await import('./tls.ts') : ({} as typeof TlsModule);
  if (o.tls?.mode === 'auto') {
    tls = await ensureTls(join(o.dataDir, 'tls'), defaultSans(o.tls.sans, o.host), clock);
    if (tls.generated) o.log(`TLS: generated a CA and server certificate in ${join(o.dataDir, 'tls')}`);
  } else if (o.tls?.mode === 'provided') {
    tls = providedTls(o.tls.certFile, o.tls.keyFile, o.tls.caFile);
  }
  // The node API channel (pods/log) always has a CA: the serving one in auto mode, else its own in <data-dir>/tls.
  const nodes = await NodeAuthority.open(join(o.dataDir, 'tls'), clock);
  const adminToken = o.auth ? ensureAdminToken(o.dataDir) : undefined;
  const authenticator = o.auth ? new Authenticator({ dataDir: o.dataDir, tokenFile: o.auth.tokenFile, adminToken, clock }) : undefined;
  const security = { authenticator, limits: new Limits({ maxRequestsInflight: o.maxRequestsInflight }) };
  const store = new LmdbStore({ path: join(o.dataDir, 'store'), clock });
  // As kube-apiserver's system namespaces: `default`, and kube-node-lease for the node agents' Leases.
  for (const ns of ['default', NODE_LEASE_NAMESPACE]) await ensureNamespace(store, ns);
  const stopNamespaces = runNamespaceController(store, o.log);
  const inspect = new InspectHub(clock);
  const handler = createApi(store, { kubeMinor: o.kubeMinor, maxBodyBytes: DEFAULT_MAX_BODY_BYTES, allowedOrigins: o.allowedOrigins, inspect: { hub: inspect, inspectorUrl: o.inspectorUrl ?? DEFAULT_INSPECTOR_URL }, security, nodes, clock });
  const drain = new Drain(o.requestLog ? withRequestLog(handler, o.requestLog, clock) : handler, clock);
  let listening: Listening;
  try {
    listening = await listen(drain.handler, o.host, o.port, o.http, tls, o.log, clock);
  } catch (e) {
    stopNamespaces();
    await store.close();
    throw e;
  }
  const url = clientUrl(o.host, listening.port, tls !== undefined);
  const kubeconfig = join(o.dataDir, 'kubeconfig');
  writeKubeconfig(kubeconfig, { server: url, caData: tls?.caPem ? Buffer.from(tls.caPem).toString('base64') : undefined, token: adminToken });
  return {
    store,
    listening,
    url,
    kubeconfig,
    inspect,
    tls,
    adminToken,
    nodes,
    async stop() {
      drain.begin();
      stopNamespaces();
      await listening.close(() => drain.settled(DRAIN_TIMEOUT_MS));
      await store.close();
    },
  };
}

async function ensureNamespace(store: LmdbStore, name: string): Promise<void> {
  if (store.get('namespaces', '', name)) return;
  try {
    await store.create('namespaces', { metadata: { name } });
  } catch (e) {
    if (!(e instanceof StoreError && e.reason === 'AlreadyExists')) throw e;
  }
}
