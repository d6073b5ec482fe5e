// The RuntimeClass controller: one RuntimeClass per zone brand that some node offers (name and
// handler = the brand), created when a node advertising the brand is first seen, so
// `kubectl get runtimeclass` lists what the cluster offers and pods can name it in
// spec.runtimeClassName. RuntimeClasses are never deleted here: a pod naming one would be refused
// while a node is only briefly away, and an operator may have edited or created their own.
import type { KubeObject, Node } from '../api/model/types.ts';
import { ClientError, type Client } from '../client/client.ts';
import { nodeBrands, POD_BRANDS } from '../api/model/brands.ts';

/** The label on RuntimeClasses this controller made. */
export const MANAGED_BY = { 'app.kubernetes.io/managed-by': 'reddwarf' } as const;

/** The RuntimeClass of a brand. */
export function runtimeClassFor(brand: string): KubeObject {
  return { apiVersion: 'node.k8s.io/v1', kind: 'RuntimeClass', metadata: { name: brand, labels: { ...MANAGED_BY } }, handler: brand };
}

/**
 * Returns `seen(node)`, to call for every Node event: it creates the RuntimeClasses of the node's
 * brands not yet known to exist. A failed create is tried again on the node's next event (its
 * heartbeat), so nothing needs a timer.
 */
export function runtimeClassEnsurer(client: Client, log: (m: string) => void): (node: Node) => void {
  const ensured = new Set<string>();
  const inflight = new Set<string>();
  const ensure = async (brand: string): Promise<void> => {
    inflight.add(brand);
    try {
      await client.create('runtimeclasses', runtimeClassFor(brand));
      log(`runtimeclass ${brand} created: a node offers the ${brand} brand`);
      ensured.add(brand);
    } catch (e) {
      if (e instanceof ClientError && e.code === 409) ensured.add(brand);
      else log(`runtimeclass ${brand}: could not create it (${(e as Error).message}); will retry`);
    } finally {
      inflight.delete(brand);
    }
  };
  return (node) => {
    for (const brand of nodeBrands(node.metadata.labels) ?? []) {
      if (!POD_BRANDS.includes(brand) || ensured.has(brand) || inflight.has(brand)) continue;
      void ensure(brand);
    }
  };
}
