// The control plane's actor host: the cluster actor with one node actor per Node (liveness) and
// the scheduler actor, fed by a Node informer and a node Lease informer through the Client.
import { createActor, fromCallback, type AnyActorLogic, type InspectionEvent, type Observer } from 'xstate';
import { clusterMachine, nodeId } from '../../machines/cluster.ts';
import { nodeMachine } from '../../machines/node.ts';
import type { Node } from '../api/model/types.ts';
import { NODE_LEASE_NAMESPACE, type Lease } from '../api/model/lease/lease.ts';
import type { Client } from '../client/client.ts';
import { ClientError } from '../client/client.ts';
import { startInformer } from '../client/informer.ts';
import { rfc3339 } from '../store/time.ts';
import { realClock, type Clock } from '../time/clock.ts';
import { NodeLiveness } from './nodes.ts';
import { readyCondition, withReady } from '../api/model/node/conditions.ts';
import { runtimeClassEnsurer } from './runtimeclasses.ts';

export interface ControlPlaneOptions {
  client: Client;
  /** Silence after which a node is marked Ready=Unknown (--node-monitor-grace-period). */
  nodeMonitorGraceMs: number;
  /** The scheduler as a callback actor; none when this control plane does not schedule. */
  scheduler?: AnyActorLogic;
  /** Time for the node actors' grace timers, the informers and the conditions' timestamps; realClock by default. */
  clock?: Clock;
  inspect?: Observer<InspectionEvent>;
  log: (m: string) => void;
}

export interface ControlPlane {
  actor: ReturnType<typeof createActor<typeof clusterMachine>>;
  stop(): void;
}

/** Writes Ready=Unknown (NodeStatusUnknown) for a node whose heartbeats stopped. */
export async function markNodeUnknown(client: Client, name: string, now: number): Promise<void> {
  for (let attempt = 0; attempt < 5; attempt++) {
    let node: Node;
    try {
      node = await client.get<Node>('nodes', '', name);
    } catch (e) {
      if (e instanceof ClientError && e.code === 404) return;
      throw e;
    }
    const ready = readyCondition(node);
    if (ready?.status === 'Unknown') return;
    const conditions = withReady(node.status?.conditions, {
      type: 'Ready',
      status: 'Unknown',
      reason: 'NodeStatusUnknown',
      message: 'Node agent stopped posting node status.',
      ...(ready?.lastHeartbeatTime ? { lastHeartbeatTime: ready.lastHeartbeatTime } : {}),
      lastTransitionTime: rfc3339(now),
    });
    try {
      await client.updateStatus('nodes', { ...node, status: { ...node.status, conditions } });
      return;
    } catch (e) {
      // A heartbeat raced us: read again and decide again.
      if (!(e instanceof ClientError && e.code === 409)) throw e;
    }
  }
}

/** Starts the cluster actor and feeds it from the Node informer until stop(). */
export function startControlPlane(o: ControlPlaneOptions): ControlPlane {
  const clock = o.clock ?? realClock;
  const now = (): number => clock.now();
  const logic = clusterMachine.provide({
    actors: {
      node: nodeMachine.provide({
        actions: {
          markUnknown: (_, { name }) => {
            o.log(`node ${name}: no heartbeat for ${Math.round(o.nodeMonitorGraceMs / 1000)}s, marking it Ready=Unknown`);
            markNodeUnknown(o.client, name, now()).catch((e: unknown) => o.log(`node ${name}: could not mark it Unknown: ${(e as Error).message}`));
          },
        },
      }),
      scheduler: o.scheduler ?? fromCallback(() => () => {}),
    },
    actions: {
      childFailed: (_, { actorId, error }) => o.log(`actor ${actorId} failed: ${error instanceof Error ? error.message : String(error)}`),
    },
  });
  const actor = createActor(logic, { systemId: 'cluster', clock, ...(o.inspect ? { inspect: o.inspect } : {}) });
  actor.subscribe({ error: (e) => o.log(`cluster actor failed: ${String(e)}`) });
  actor.start();

  const ensureRuntimeClasses = runtimeClassEnsurer(o.client, o.log);
  const liveness = new NodeLiveness({
    graceMs: o.nodeMonitorGraceMs,
    now,
    exists: (name) => actor.system.get(nodeId(name)) !== undefined,
    send: (e) => actor.send(e),
  });

  const nodes = startInformer<Node>({
    client: o.client,
    resource: 'nodes',
    clock,
    log: (m) => o.log(`control plane: ${m}`),
    event(e) {
      const name = e.object.metadata.name as string;
      if (e.type === 'DELETED') return liveness.nodeDeleted(name);
      ensureRuntimeClasses(e.object);
      liveness.nodeSeen(e.object);
    },
  });
  // Node liveness also comes from the nodes' Leases (kubelet renews one every 10 s); node actors
  // start once the Leases have been listed, so a fresh Lease is never missed.
  const leases = startInformer<Lease>({
    client: o.client,
    resource: 'leases',
    namespace: NODE_LEASE_NAMESPACE,
    clock,
    log: (m) => o.log(`control plane: ${m}`),
    event(e) {
      if (e.type === 'DELETED') liveness.leaseDeleted(e.object.metadata.name as string);
      else liveness.leaseSeen(e.object);
    },
  });
  void leases.synced.then(() => liveness.leasesSynced());

  return {
    actor,
    stop() {
      nodes.stop();
      leases.stop();
      actor.stop();
    },
  };
}
