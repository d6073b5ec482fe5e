// The system actor: spawns, addresses and stops node actors (control plane) and pod actors (node
// agent) as the store's watch reports them. Children are addressable by systemId:
// `node/<name>`, `pod/<namespace>/<name>`.
import { enqueueActions, fromCallback, setup, type ActorRefFrom } from 'xstate';
import { nodeMachine, type NodeInput } from './node.ts';
import { podMachine, type PodInput } from './pod.ts';

export type ClusterEvent =
  | { type: 'NODE_SEEN'; input: NodeInput }
  | { type: 'NODE_HEARTBEAT'; name: string }
  | { type: 'NODE_DELETED'; name: string }
  | { type: 'POD_BOUND'; input: PodInput }
  | { type: 'POD_DELETING'; key: string; graceMs: number }
  | { type: 'POD_REMOVED'; key: string }
  | { type: 'POD_SPEC_CHANGED'; key: string }
  | { type: 'POD_CONTAINERS_DONE'; key: string; succeeded: boolean; message: string }
  | { type: 'POD_FINALIZED'; key: string }
  | { type: 'RECONCILE_ALL' }
  | { type: `xstate.error.actor.${string}`; actorId: string; error: unknown };

export const nodeId = (name: string): string => `node/${name}`;
export const podId = (key: string): string => `pod/${key}`;

export type PodActor = ActorRefFrom<typeof podMachine>;
export type NodeActor = ActorRefFrom<typeof nodeMachine>;

export const clusterMachine = setup({
  types: {} as { events: ClusterEvent },
  actors: {
    node: nodeMachine,
    pod: podMachine,
    // The control plane's scheduler, a callback actor src/ provides (none on a bare agent).
    scheduler: fromCallback(() => () => {}),
  },
  actions: {
    childFailed: (_, _params: { actorId: string; error: unknown }) => {},
  },
}).createMachine({
  id: 'cluster',
  invoke: { id: 'scheduler', src: 'scheduler' },
  on: {
    NODE_SEEN: {
      actions: enqueueActions(({ enqueue, event, system }) => {
        const id = nodeId(event.input.name);
        // A duplicate systemId would throw and take the whole system down.
        if (system.get(id)) return;
        enqueue.spawnChild('node', { id, systemId: id, input: event.input });
      }),
    },
    NODE_HEARTBEAT: {
      actions: enqueueActions(({ enqueue, event, system }) => {
        const ref = system.get(nodeId(event.name));
        if (ref) enqueue.sendTo(ref as NodeActor, { type: 'HEARTBEAT' });
      }),
    },
    NODE_DELETED: {
      actions: enqueueActions(({ enqueue, event, system }) => {
        if (system.get(nodeId(event.name))) enqueue.stopChild(nodeId(event.name));
      }),
    },
    POD_BOUND: {
      actions: enqueueActions(({ enqueue, event, system }) => {
        const id = podId(event.input.key);
        if (system.get(id)) return;
        enqueue.spawnChild('pod', { id, systemId: id, input: event.input });
      }),
    },
    POD_DELETING: {
      actions: enqueueActions(({ enqueue, event, system }) => {
        const ref = system.get(podId(event.key));
        if (ref) enqueue.sendTo(ref as PodActor, { type: 'DELETE', graceMs: event.graceMs });
      }),
    },
    POD_REMOVED: {
      actions: enqueueActions(({ enqueue, event, system }) => {
        const ref = system.get(podId(event.key));
        if (ref) enqueue.sendTo(ref as PodActor, { type: 'POD_REMOVED' });
      }),
    },
    POD_SPEC_CHANGED: {
      actions: enqueueActions(({ enqueue, event, system }) => {
        const ref = system.get(podId(event.key));
        if (ref) enqueue.sendTo(ref as PodActor, { type: 'SPEC_CHANGED' });
      }),
    },
    POD_CONTAINERS_DONE: {
      actions: enqueueActions(({ enqueue, event, system }) => {
        const ref = system.get(podId(event.key));
        if (ref) enqueue.sendTo(ref as PodActor, { type: 'CONTAINERS_DONE', succeeded: event.succeeded, message: event.message });
      }),
    },
    POD_FINALIZED: {
      actions: enqueueActions(({ enqueue, event, system }) => {
        if (system.get(podId(event.key))) enqueue.stopChild(podId(event.key));
      }),
    },
    RECONCILE_ALL: {
      actions: enqueueActions(({ enqueue, system }) => {
        for (const [id, ref] of Object.entries(system.getAll())) if (id.startsWith('pod/')) enqueue.sendTo(ref as PodActor, { type: 'RECONCILE' });
      }),
    },
    // One broken child must not stop its siblings: report it and let it go; the next watch
    // event for it spawns a fresh one from the store.
    'xstate.error.actor.*': {
      actions: enqueueActions(({ enqueue, event }) => {
        enqueue({ type: 'childFailed', params: { actorId: event.actorId, error: event.error } });
        enqueue.stopChild(event.actorId);
      }),
    },
  },
});
