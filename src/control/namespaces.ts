// The namespace controller: a Terminating namespace is emptied (pods deleted gracefully, the rest
// at once), and removed once nothing is left in it — what `kubectl delete namespace` waits for.
import { RESOURCES } from '../api/model/resources.ts';
import type { Store } from '../store/store.ts';
import { StoreError } from '../store/store.ts';
import { hubOf, selectionKey } from '../store/hub.ts';

const NAMESPACED = RESOURCES.filter((r) => r.namespaced).map((r) => r.resource);

/** Runs until the returned function is called. */
export function runNamespaceController(store: Store, log: (m: string) => void = () => {}): () => void {
  const busy = new Set<string>();
  const again = new Set<string>();

  const sweep = async (ns: string): Promise<void> => {
    if (busy.has(ns)) {
      again.add(ns);
      return;
    }
    busy.add(ns);
    try {
      const obj = store.get('namespaces', '', ns);
      if (!obj?.metadata.deletionTimestamp) return;
      let left = 0;
      for (const resource of NAMESPACED) {
        for (const item of store.list(resource, { namespace: ns }).items) {
          left++;
          if (item.metadata.deletionTimestamp) continue;
          await store.delete(resource, ns, item.metadata.name as string).catch(ignoreNotFound);
        }
      }
      if (left === 0) {
        await store.finalize('namespaces', '', ns).catch(ignoreNotFound);
        log(`namespace ${ns} is empty and has been removed`);
      }
    } catch (e) {
      log(`namespace ${ns}: cleanup failed: ${(e as Error).message}`);
    } finally {
      busy.delete(ns);
      if (again.delete(ns)) void sweep(ns);
    }
  };

  // Through the watch hub: these share its one subscription per resource with every other watcher.
  const hub = hubOf(store);
  const stops = [
    hub.listen('namespaces', selectionKey(), {}, (type, obj) => {
      if (type !== 'DELETED' && obj.metadata.deletionTimestamp) void sweep(obj.metadata.name as string);
    }),
    ...NAMESPACED.map((resource) =>
      hub.listen(resource, selectionKey(), {}, (type, obj) => {
        const ns = obj.metadata.namespace;
        if (type === 'DELETED' && ns && store.get('namespaces', '', ns)?.metadata.deletionTimestamp) void sweep(ns);
      })),
  ];
  // Namespaces left Terminating by an earlier run.
  for (const ns of store.list('namespaces').items) if (ns.metadata.deletionTimestamp) void sweep(ns.metadata.name as string);
  return () => {
    for (const stop of stops) stop();
  };
}

function ignoreNotFound(e: unknown): void {
  if (!(e instanceof StoreError && e.reason === 'NotFound')) throw e;
}
