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

/** The Stately inspector the /inspect page frames unless --inspector-url says otherwise. */
export const DEFAULT_INSPECTOR_URL = 'https://stately.ai/inspect';

export interface ApiServerOptions {
  host: string;
  port: number;
  dataDir: string;
  http: TransportChoice;
  kubeMinor: number;
  allowedOrigins?: string[];
  inspectorUrl?: string;
  log: (m: string) => void;
}

export interface ApiServer {
  store: LmdbStore;
  listening: Listening;
  url: string;
  kubeconfig: string;
  /** Where actor systems register for /inspect. */
  inspect: InspectHub;
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
  mkdirSync(o.dataDir, { recursive: true, mode: 0o700 });
  const store = new LmdbStore({ path: join(o.dataDir, 'store') });
  await ensureNamespace(store, 'default');
  const stopNamespaces = runNamespaceController(store, o.log);
  let ready = true;
  const inspect = new InspectHub();
  const handler = createApi(store, { kubeMinor: o.kubeMinor, maxBodyBytes: DEFAULT_MAX_BODY_BYTES, allowedOrigins: o.allowedOrigins, inspect: { hub: inspect, inspectorUrl: o.inspectorUrl ?? DEFAULT_INSPECTOR_URL }, ready: () => ready });
  let listening: Listening;
  try {
    listening = await listen(handler, o.host, o.port, o.http, undefined, o.log);
  } catch (e) {
    stopNamespaces();
    await store.close();
    throw e;
  }
  const url = clientUrl(o.host, listening.port, false);
  const kubeconfig = join(o.dataDir, 'kubeconfig');
  writeKubeconfig(kubeconfig, { server: url });
  return {
    store,
    listening,
    url,
    kubeconfig,
    inspect,
    async stop() {
      ready = false;
      stopNamespaces();
      await listening.close();
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
