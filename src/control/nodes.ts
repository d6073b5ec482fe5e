// The control plane's node liveness, from the nodes' Ready heartbeats and their Leases.
import type { Node } from '../api/model/types.ts';
import { lastHeartbeat, readyCondition } from '../api/model/node/conditions.ts';
import { renewedAt, type Lease } from '../api/model/lease/lease.ts';

/** What the node liveness tracker tells the cluster actor (machines/cluster.ts events). */
export type LivenessEvent =
  | { type: 'NODE_SEEN'; input: { name: string; graceMs: number; remainingMs: number } }
  | { type: 'NODE_HEARTBEAT'; name: string }
  | { type: 'NODE_DELETED'; name: string };

export interface NodeLivenessOptions {
  /** --node-monitor-grace-period. */
  graceMs: number;
  now: () => number;
  /** Whether the node's actor is alive (a failed one is spawned again on the next sighting). */
  exists: (name: string) => boolean;
  send: (e: LivenessEvent) => void;
}

/**
 * Node liveness from two signals, as kube-controller-manager's node lifecycle controller reads
 * them: the Node's Ready heartbeat (lastHeartbeatTime) and its Lease's renewTime in
 * kube-node-lease. Either moving on re-arms the node actor's grace period; a node actor starts
 * with what is left of it since the newer of the two. Nodes wait until the Leases have been listed
 * once (leasesSynced), so a restarted control plane never marks a node whose Lease is fresh.
 */
export class NodeLiveness {
  /** Node name → its last status heartbeat (ms), for nodes the actor knows. */
  private readonly beats = new Map<string, number | undefined>();
  /** Node name → its Lease's last renewTime (ms). */
  private readonly renewals = new Map<string, number>();
  private pending: Map<string, Node> | undefined = new Map();

  constructor(private readonly o: NodeLivenessOptions) {}

  /** A Node added or changed. */
  nodeSeen(node: Node): void {
    const name = node.metadata.name as string;
    if (this.pending) {
      this.pending.set(name, node);
      return;
    }
    const hb = lastHeartbeat(node);
    if (!this.o.exists(name)) {
      const latest = Math.max(hb ?? -Infinity, this.renewals.get(name) ?? -Infinity);
      const remainingMs = latest === -Infinity ? this.o.graceMs : this.o.graceMs - (this.o.now() - latest);
      this.o.send({ type: 'NODE_SEEN', input: { name, graceMs: this.o.graceMs, remainingMs } });
    } else if (hb !== undefined && hb !== this.beats.get(name) && readyCondition(node)?.status === 'True') {
      this.o.send({ type: 'NODE_HEARTBEAT', name });
    }
    this.beats.set(name, hb);
  }

  nodeDeleted(name: string): void {
    this.pending?.delete(name);
    this.beats.delete(name);
    this.o.send({ type: 'NODE_DELETED', name });
  }

  /** A node Lease added or changed: a renewal the node actor hears of. */
  leaseSeen(lease: Lease): void {
    const name = lease.metadata.name as string;
    const t = renewedAt(lease);
    if (t === undefined) return;
    const prev = this.renewals.get(name);
    this.renewals.set(name, t);
    if (!this.pending && (prev === undefined || t > prev) && this.o.exists(name)) this.o.send({ type: 'NODE_HEARTBEAT', name });
  }

  leaseDeleted(name: string): void {
    this.renewals.delete(name);
  }

  /** The Leases have been listed: the nodes seen meanwhile get their actors. */
  leasesSynced(): void {
    const pending = this.pending;
    if (!pending) return;
    this.pending = undefined;
    for (const node of pending.values()) this.nodeSeen(node);
  }
}
