// Node registration and heartbeats: the agent creates its Node (retrying until the API answers),
// refreshes labels and resources on every start, and posts Ready every 10 s. A deleted Node is
// registered again (SPEC §11.26).
import { release } from 'node:os';
import type { Node } from '../api/types.ts';
import { ClientError, type Client } from '../client/client.ts';
import { withReady } from '../control/nodes.ts';
import type { NodeResources } from '../runtime/host.ts';
import { rfc3339 } from '../store/time.ts';
import { brandsLabelValue, ZONE_BRANDS_LABEL } from '../scheduler/brands.ts';
import { OS_DISTRIBUTION_ANNOTATION, type Distribution } from '../runtime/brands.ts';

export interface NodeIdentity {
  name: string;
  brands: string[];
  resources: NodeResources;
  runtime: string;
  /** InternalIP (--node-ip or detected); none on a loopback-only host. */
  ip?: string;
  /** The node API's port (Node.status.daemonEndpoints.kubeletEndpoint.Port); unset: not served on a socket. */
  apiPort?: number;
  /** The host's distribution (annotation and nodeInfo.osImage). */
  distribution?: Distribution;
}

export const HEARTBEAT_MS = 10_000;

/** Go's GOARCH names, which node selectors (kubernetes.io/arch) and nodeInfo use. */
const GOARCH: Readonly<Record<string, string>> = { x64: 'amd64', ia32: '386', arm64: 'arm64', arm: 'arm', ppc64: 'ppc64le', s390x: 's390x', riscv64: 'riscv64' };
const arch = GOARCH[process.arch] ?? process.arch;

function labels(id: NodeIdentity): Record<string, string> {
  return { 'kubernetes.io/hostname': id.name, 'kubernetes.io/os': 'illumos', 'kubernetes.io/arch': arch, 'node.kubernetes.io/instance-type': 'reddwarf-zone', // A label value cannot hold ',' (SPEC's separator): '_' joins the brands.
    [ZONE_BRANDS_LABEL]: brandsLabelValue(id.brands) };
}

function annotations(id: NodeIdentity): Record<string, string> {
  return id.distribution ? { [OS_DISTRIBUTION_ANNOTATION]: id.distribution.name } : {};
}

function osImage(id: NodeIdentity): string {
  if (id.distribution && id.distribution.name !== 'mock') return id.distribution.release;
  return id.runtime === 'illumos' ? 'illumos' : `mock zones on ${process.platform}`;
}

function readyNow(node: Node | undefined, now: number): Node['status'] {
  const t = rfc3339(now);
  return {
    ...node?.status,
    conditions: withReady(node?.status?.conditions, { type: 'Ready', status: 'True', reason: 'KubeletReady', message: 'reddwarf node agent is posting ready status', lastHeartbeatTime: t, lastTransitionTime: t }),
  };
}

/** Creates or refreshes the Node object once; throws when the API cannot be reached. */
export async function registerOnce(client: Client, id: NodeIdentity, now: number): Promise<Node> {
  const status = (node?: Node): Node['status'] => ({
    ...readyNow(node, now),
    capacity: id.resources.capacity,
    allocatable: id.resources.allocatable,
    addresses: [...(id.ip ? [{ type: 'InternalIP', address: id.ip }] : []), { type: 'Hostname', address: id.name }],
    ...(id.apiPort !== undefined ? { daemonEndpoints: { kubeletEndpoint: { Port: id.apiPort } } } : {}),
    nodeInfo: { kubeletVersion: 'reddwarf', containerRuntimeVersion: `reddwarf-${id.runtime}://0.1`, operatingSystem: 'illumos', architecture: arch, osImage: osImage(id), kernelVersion: release() },
  });
  try {
    const created = await client.create<Node>('nodes', { apiVersion: 'v1', kind: 'Node', metadata: { name: id.name, labels: labels(id), annotations: annotations(id) }, spec: {}, status: {} });
    return await client.updateStatus<Node>('nodes', { ...created, status: status(created) });
  } catch (e) {
    if (!(e instanceof ClientError && e.code === 409)) throw e;
  }
  const existing = await client.get<Node>('nodes', '', id.name);
  const relabelled = await client.update<Node>('nodes', { ...existing, metadata: { ...existing.metadata, labels: { ...existing.metadata.labels, ...labels(id) }, annotations: { ...existing.metadata.annotations, ...annotations(id) } } });
  return client.updateStatus<Node>('nodes', { ...relabelled, status: status(relabelled) });
}

/** Posts one heartbeat: Ready=True with a fresh lastHeartbeatTime; re-registers a deleted Node. */
export async function heartbeat(client: Client, id: NodeIdentity, now: number): Promise<void> {
  let node: Node;
  try {
    node = await client.get<Node>('nodes', '', id.name);
  } catch (e) {
    if (e instanceof ClientError && e.code === 404) {
      await registerOnce(client, id, now);
      return;
    }
    throw e;
  }
  await client.updateStatus<Node>('nodes', { ...node, status: readyNow(node, now) });
}
