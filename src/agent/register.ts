// Node registration and heartbeats, as kubelet does them since 1.17: the agent creates its Node
// (retrying until the API answers) and refreshes labels and resources on every start; every 10 s
// it renews its Lease in kube-node-lease (the liveness signal the control plane watches) and
// checks its Node status, which it writes only when it changed or every 5 min
// (nodeStatusReportFrequency). A deleted Node is registered again (SPEC §11.26).
import { release } from 'node:os';
import { isDeepStrictEqual } from 'node:util';
import type { Node } from '../api/model/types.ts';
import { ClientError, type Client } from '../client/client.ts';
import { lastHeartbeat, withReady } from '../api/model/node/conditions.ts';
import { microTime, NODE_LEASE_DURATION_SECONDS, NODE_LEASE_NAMESPACE, type Lease } from '../api/model/lease/lease.ts';
import { every, type Clock } from '../time/clock.ts';
import type { NodeResources } from '../runtime/host.ts';
import { rfc3339 } from '../store/time.ts';
import { brandsLabelValue, ZONE_BRANDS_LABEL } from '../api/model/brands.ts';
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

/** The Lease renewal and Node status check period (kubelet's --node-status-update-frequency and lease renew interval). */
export const HEARTBEAT_MS = 10_000;
/** An unchanged Node status is still written this often (kubelet's nodeStatusReportFrequency). */
export const NODE_STATUS_REPORT_MS = 5 * 60_000;

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

/** The status the agent reports: Ready with a fresh heartbeat, resources, addresses, node info. */
function desiredStatus(id: NodeIdentity, node: Node | undefined, now: number): Node['status'] {
  return {
    ...readyNow(node, now),
    capacity: id.resources.capacity,
    allocatable: id.resources.allocatable,
    addresses: [...(id.ip ? [{ type: 'InternalIP', address: id.ip }] : []), { type: 'Hostname', address: id.name }],
    ...(id.apiPort !== undefined ? { daemonEndpoints: { kubeletEndpoint: { Port: id.apiPort } } } : {}),
    nodeInfo: { kubeletVersion: 'reddwarf', containerRuntimeVersion: `reddwarf-${id.runtime}://0.1`, operatingSystem: 'illumos', architecture: arch, osImage: osImage(id), kernelVersion: release() },
  };
}

/** A status with the heartbeat times of its conditions left out: what "changed" compares. */
function timeless(status: Node['status']): unknown {
  if (!status?.conditions) return status;
  return { ...status, conditions: status.conditions.map(({ lastHeartbeatTime: _h, lastTransitionTime: _t, ...rest }) => rest) };
}

/** Creates or refreshes the Node object once; throws when the API cannot be reached. */
export async function registerOnce(client: Client, id: NodeIdentity, now: number): Promise<Node> {
  try {
    const created = await client.create<Node>('nodes', { apiVersion: 'v1', kind: 'Node', metadata: { name: id.name, labels: labels(id), annotations: annotations(id) }, spec: {}, status: {} });
    return await client.updateStatus<Node>('nodes', { ...created, status: desiredStatus(id, created, now) });
  } catch (e) {
    if (!(e instanceof ClientError && e.code === 409)) throw e;
  }
  const existing = await client.get<Node>('nodes', '', id.name);
  const relabelled = await client.update<Node>('nodes', { ...existing, metadata: { ...existing.metadata, labels: { ...existing.metadata.labels, ...labels(id) }, annotations: { ...existing.metadata.annotations, ...annotations(id) } } });
  return client.updateStatus<Node>('nodes', { ...relabelled, status: desiredStatus(id, relabelled, now) });
}

/**
 * The Node status check of one heartbeat (kubelet's tryUpdateNodeStatus): reads the Node and writes
 * its status only when it differs from what the agent reports (the control plane marked it
 * Unknown, say) or the last report is NODE_STATUS_REPORT_MS old. Re-registers a deleted Node.
 */
export async function syncNodeStatus(client: Client, id: NodeIdentity, now: number): Promise<{ node: Node; wrote: boolean }> {
  let node: Node;
  try {
    node = await client.get<Node>('nodes', '', id.name);
  } catch (e) {
    if (e instanceof ClientError && e.code === 404) return { node: await registerOnce(client, id, now), wrote: true };
    throw e;
  }
  const desired = desiredStatus(id, node, now);
  const reported = lastHeartbeat(node);
  if (reported !== undefined && now - reported < NODE_STATUS_REPORT_MS && isDeepStrictEqual(timeless(desired), timeless(node.status))) return { node, wrote: false };
  return { node: await client.updateStatus<Node>('nodes', { ...node, status: desired }), wrote: true };
}

/** The Lease's owner: its Node, so deleting the Node takes the Lease with it (as kubelet sets it). */
const ownedBy = (node: Node): NonNullable<Lease['metadata']['ownerReferences']> =>
  [{ apiVersion: 'v1', kind: 'Node', name: node.metadata.name as string, uid: node.metadata.uid as string }];

/**
 * Renews the node's Lease (kubelet's node lease controller): an update of the copy it holds, and
 * only when that copy is stale (409) or gone (404), or on the first renewal, a read and, when
 * there is no Lease yet, a create. `owner` is the Node, when known, for the owner reference.
 */
export async function renewLease(client: Client, id: NodeIdentity, now: number, held?: Lease, owner?: Node): Promise<Lease> {
  const renew = (lease: Lease): Lease => {
    const stale = owner?.metadata.uid !== undefined && lease.metadata.ownerReferences?.[0]?.uid !== owner.metadata.uid;
    return {
      ...lease,
      metadata: { ...lease.metadata, ...(stale && owner ? { ownerReferences: ownedBy(owner) } : {}) },
      spec: { ...lease.spec, holderIdentity: id.name, leaseDurationSeconds: NODE_LEASE_DURATION_SECONDS, renewTime: microTime(now) },
    };
  };
  if (held) {
    try {
      return await client.update<Lease>('leases', renew(held));
    } catch (e) {
      if (!(e instanceof ClientError && (e.code === 409 || e.code === 404))) throw e;
    }
  }
  let current: Lease;
  try {
    current = await client.get<Lease>('leases', NODE_LEASE_NAMESPACE, id.name);
  } catch (e) {
    if (!(e instanceof ClientError && e.code === 404)) throw e;
    const lease: Lease = { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name: id.name, namespace: NODE_LEASE_NAMESPACE }, spec: {} };
    return client.create<Lease>('leases', renew(lease));
  }
  return client.update<Lease>('leases', renew(current));
}

export interface HeartbeatOptions {
  client: Client;
  identity: NodeIdentity;
  clock: Clock;
  /** The renewal and status check period; HEARTBEAT_MS by default. */
  periodMs?: number;
  /** The registered Node, for the Lease's owner reference. */
  node?: Node;
  log: (m: string) => void;
}

export interface Heartbeats {
  /** One heartbeat now: renew the Lease, check the Node status. Failures are logged, not thrown. */
  beat(): Promise<void>;
  stop(): void;
}

/** Renews the Lease at once and every period after, checking the Node status on each beat, until stop(). */
export function startHeartbeats(o: HeartbeatOptions): Heartbeats {
  let lease: Lease | undefined;
  let node = o.node;
  let running: Promise<void> | undefined;
  let stopped = false;
  const beat = async (): Promise<void> => {
    const now = o.clock.now();
    try {
      lease = await renewLease(o.client, o.identity, now, lease, node);
    } catch (e) {
      lease = undefined;
      if (!stopped) o.log(`node ${o.identity.name}: lease renewal failed: ${(e as Error).message}; will retry`);
    }
    if (stopped) return;
    try {
      node = (await syncNodeStatus(o.client, o.identity, now)).node;
    } catch (e) {
      if (!stopped) o.log(`node ${o.identity.name}: heartbeat failed: ${(e as Error).message}; will retry`);
    }
  };
  // A beat slower than the period is not overlapped by the next: that one is skipped.
  const tick = (): Promise<void> => (running ??= beat().finally(() => (running = undefined)));
  void tick();
  const stopTimer = every(o.clock, o.periodMs ?? HEARTBEAT_MS, () => void tick());
  return {
    beat: tick,
    // A beat in flight finishes on its own (stopping must not wait on the API), silently.
    stop() {
      stopped = true;
      stopTimer();
    },
  };
}
