// Starts a real API server on 127.0.0.1 with a fresh data directory, for either transport.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LmdbStore, type LmdbStoreOptions } from '../../src/store/lmdb.ts';
import { createApi, DEFAULT_MAX_BODY_BYTES, type ApiOptions } from '../../src/server/api.ts';
import { listen, type Listening } from '../../src/server/listen.ts';
import { runNamespaceController } from '../../src/control/namespaces.ts';
import { NODE_LEASE_NAMESPACE } from '../../src/api/model/lease/lease.ts';

export const TRANSPORTS = ['uws', 'node'] as const;
export type Transport = (typeof TRANSPORTS)[number];

export interface TestServer {
  url: string;
  store: LmdbStore;
  listening: Listening;
  dataDir: string;
  stop(): Promise<void>;
}

/** A temporary directory removed by the returned function. */
export function tempDir(prefix = 'reddwarf-test-'): { dir: string; remove: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Opens a store in a fresh directory with the `default` and `kube-node-lease` namespaces (as the API server starts). */
export async function openStore(opts: Partial<LmdbStoreOptions> = {}): Promise<{ store: LmdbStore; dir: string; close: () => Promise<void> }> {
  const { dir, remove } = tempDir();
  const store = new LmdbStore({ path: join(dir, 'store'), compactEveryMs: 0, ...opts });
  await store.create('namespaces', { metadata: { name: 'default' } });
  await store.create('namespaces', { metadata: { name: NODE_LEASE_NAMESPACE } });
  return {
    store,
    dir,
    async close() {
      await store.close();
      remove();
    },
  };
}

/** Starts the API on 127.0.0.1:0 with the given transport. */
export async function startServer(transport: Transport, opts: Partial<ApiOptions> & { store?: Partial<LmdbStoreOptions> } = {}): Promise<TestServer> {
  const { store, dir, close } = await openStore(opts.store);
  const stopNs = runNamespaceController(store);
  const handler = createApi(store, { kubeMinor: 31, maxBodyBytes: DEFAULT_MAX_BODY_BYTES, ...opts });
  const listening = await listen(handler, '127.0.0.1', 0, transport);
  return {
    url: `http://127.0.0.1:${listening.port}`,
    store,
    listening,
    dataDir: dir,
    async stop() {
      stopNs();
      await listening.close();
      await close();
    },
  };
}
