// The system actor: spawns, addresses and stops node actors (control plane) and pod actors (node
// agent) as the store's watch reports them. Pods live in shards of at most SHARD_SIZE under this
// actor (machines/pod-shard.ts), so spawn and stop cost does not grow with the number of pods;
// they stay addressable by systemId: `node/<name>`, `pod/<namespace>/<name>`.
import { assign, enqueueActions, fromCallback, setup, type ActorRefFrom } from 'xstate';
import { nodeMachine, type NodeInput } from './node.ts';
import type { podMachine, PodInput } from './pod.ts';
import { podId, podShardMachine, SHARD_SIZE, shardId, type ShardReport } from './pod-shard.ts';

export { podId, shardId, SHARD_SIZE };

export type ClusterEvent =
  | { type: 'NODE_SEEN'; input: NodeInput }
  | { type: 'NODE_HEARTBEAT'; name: string }
  | { type: 'NODE_DELETED'; name: string }
  | { type: 'POD_BOUND'; input: PodInput }
  | { type: 'POD_DELETING'; key: string; graceMs: number }
  | { type: 'POD_REMOVED'; key: string }
  | { type: 'POD_SPEC_CHANGED'; key: string }
  | { type: 'POD_CONTAINERS_DONE'; key: string; succeeded: boolean; message: string }
  | ShardReport
  | { type: `xstate.error.actor.${string}`; actorId: string; error: unknown };

interface ClusterContext {
  /** Live pods per shard (index = shard number): where the next pod goes. */
  shards: number[];
}

export const nodeId = (name: string): string => `node/${name}`;

/**
 * The cluster logic hosting `pod` (the pod machine with its effects provided) in shards, each
 * sending its pods a RECONCILE every `reconcileMs` (30 s by default).
 */
export function hostingPods(pod: typeof podMachine, reconcileMs?: number): typeof podShardMachine {
  return podShardMachine.provide({ actors: { pod }, ...(reconcileMs !== undefined ? { delays: { reconcile: reconcileMs } } : {}) });
}

export type PodActor = ActorRefFrom<typeof podMachine>;
export type NodeActor = ActorRefFrom<typeof nodeMachine>;

export const clusterMachine = setup({
  types: {} as { context: ClusterContext; events: ClusterEvent },
  actors: {
    node: nodeMachine,
    shard: podShardMachine,
    // The control plane's scheduler, a callback actor src/ provides (none on a bare agent).
    scheduler: fromCallback(() => () => {}),
  },
  actions: {
    childFailed: (_, _params: { actorId: string; error: unknown }) => {},
    podGone: assign({
      shards: ({ context, event }) => {
        if (event.type !== 'SHARD_POD_GONE' && event.type !== 'SHARD_POD_FAILED') return context.shards;
        const shards = [...context.shards];
        shards[event.shard] = Math.max(0, (shards[event.shard] ?? 1) - 1);
        return shards;
      },
    }),
  },
}).createMachine({
  id: 'cluster',
  context: { shards: [] },
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
      actions: enqueueActions(({ enqueue, event, system, context }) => {
        if (system.get(podId(event.input.key))) return;
        // The first shard with room (few shards: ⌈pods / SHARD_SIZE⌉), a new one when all are full.
        let index = context.shards.findIndex((n) => n < SHARD_SIZE);
        if (index < 0) index = context.shards.length;
        if (!system.get(shardId(index))) {
          enqueue.spawnChild('shard', { id: shardId(index), systemId: shardId(index), input: { index } });
        }
        const shards = [...context.shards];
        shards[index] = (shards[index] ?? 0) + 1;
        enqueue.assign({ shards });
        enqueue.sendTo(shardId(index), { type: 'SPAWN', input: event.input });
      }),
    },
    SHARD_POD_GONE: { actions: 'podGone' },
    SHARD_POD_FAILED: {
      actions: [
        'podGone',
        enqueueActions(({ enqueue, event }) => enqueue({ type: 'childFailed', params: { actorId: event.actorId, error: event.error } })),
      ],
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
    // One broken child must not stop its siblings: report it and let it go; the next watch
    // event for it spawns a fresh one from the store.
    'xstate.error.actor.*': {
      actions: enqueueActions(({ enqueue, event, context }) => {
        enqueue({ type: 'childFailed', params: { actorId: event.actorId, error: event.error } });
        enqueue.stopChild(event.actorId);
        // A failed shard took its pods with it: its slots are free (its pods respawn from the store).
        const index = context.shards.findIndex((_, i) => shardId(i) === event.actorId);
        if (index >= 0) {
          const shards = [...context.shards];
          shards[index] = 0;
          enqueue.assign({ shards });
        }
      }),
    },
  },
});
