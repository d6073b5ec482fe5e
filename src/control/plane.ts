// The control plane's actor host: the cluster actor with one node actor per Node (liveness) and
// the scheduler actor, fed by the Node watch through the Client.
import { createActor, fromCallback, type ActorOptions, type AnyActorLogic, type InspectionEvent, type Observer } from 'xstate';
import { clusterMachine, nodeId } from '../../machines/cluster.ts';
import { nodeMachine } from '../../machines/node.ts';
import type { Node } from '../api/types.ts';
import { NODE_LEASE_NAMESPACE, type Lease } from '../api/lease/lease.ts';
import type { Client } from '../client/client.ts';
import { ClientError } from '../client/client.ts';
import { rfc3339 } from '../store/time.ts';
import { NodeLiveness, readyCondition, withReady } from './nodes.ts';
import { runtimeClassEnsurer } from './runtimeclasses.ts';

export interface ControlPlaneOptions {
  client: Client;
  /** Silence after which a node is marked Ready=Unknown (--node-monitor-grace-period). */
  nodeMonitorGraceMs: number;
  /** The scheduler as a callback actor; none when this control plane does not schedule. */
  scheduler?: AnyActorLogic;
  now?: () => number;
  clock?: ActorOptions<AnyActorLogic>['clock'];
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

/** Starts the cluster actor and feeds it from the Node watch until stop(). */
export function startControlPlane(o: ControlPlaneOptions): ControlPlane {
  const now = o.now ?? Date.now;
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
  const actor = createActor(logic, { systemId: 'cluster', ...(o.clock ? { clock: o.clock } : {}), ...(o.inspect ? { inspect: o.inspect } : {}) });
  actor.subscribe({ error: (e) => o.log(`cluster actor failed: ${String(e)}`) });
  actor.start();

  const ensureRuntimeClasses = runtimeClassEnsurer(o.client, o.log);
  const liveness = new NodeLiveness({
    graceMs: o.nodeMonitorGraceMs,
    now,
    exists: (name) => actor.system.get(nodeId(name)) !== undefined,
    send: (e) => actor.send(e),
  });

  let stopWatch = (): void => {};
  let stopped = false;
  const watch = (): void => {
    const listed = new Set<string>();
    let synced = false;
    stopWatch = o.client.watch<Node>('nodes', {}, {
      event(e) {
        const name = e.object.metadata.name as string;
        if (e.type === 'DELETED') {
          liveness.nodeDeleted(name);
          return;
        }
        if (!synced) listed.add(name);
        ensureRuntimeClasses(e.object);
        liveness.nodeSeen(e.object);
      },
      closed({ expired }) {
        if (stopped) return;
        o.log(`node watch ended${expired ? ' (expired): relisting' : ''}`);
        setTimeout(watch, expired ? 0 : 1000).unref();
      },
    });
    // After a relist, nodes that vanished meanwhile are gone.
    synced = true;
    for (const name of liveness.nodes()) if (!listed.has(name)) liveness.nodeDeleted(name);
  };
  watch();
  const stopLeases = watchLeases(o.client, liveness, o.log);

  return {
    actor,
    stop() {
      stopped = true;
      stopWatch();
      stopLeases();
      actor.stop();
    },
  };
}

/** Feeds node Leases to the liveness tracker: a list (then leasesSynced), a watch from its revision, a relist on 410. */
function watchLeases(client: Client, liveness: NodeLiveness, log: (m: string) => void): () => void {
  let stopped = false;
  let stopWatch = (): void => {};
  const held = new Set<string>();
  const run = async (): Promise<void> => {
    const list = await client.list<Lease>('leases', { namespace: NODE_LEASE_NAMESPACE });
    if (stopped) return;
    const listed = new Set(list.items.map((l) => l.metadata.name as string));
    for (const name of held) if (!listed.has(name)) liveness.leaseDeleted(name);
    held.clear();
    for (const l of list.items) {
      held.add(l.metadata.name as string);
      liveness.leaseSeen(l);
    }
    liveness.leasesSynced();
    stopWatch = client.watch<Lease>('leases', { namespace: NODE_LEASE_NAMESPACE, resourceVersion: list.resourceVersion }, {
      event(e) {
        const name = e.object.metadata.name as string;
        if (e.type === 'DELETED') {
          held.delete(name);
          liveness.leaseDeleted(name);
        } else {
          held.add(name);
          liveness.leaseSeen(e.object);
        }
      },
      closed() {
        if (!stopped) setTimeout(start, 1000).unref();
      },
    });
  };
  const start = (): void => {
    run().catch((e: unknown) => {
      log(`lease list failed: ${(e as Error).message}; retrying`);
      if (!stopped) setTimeout(start, 1000).unref();
    });
  };
  start();
  return () => {
    stopped = true;
    stopWatch();
  };
}
