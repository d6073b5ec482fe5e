// A bounded group of pod actors under the cluster actor (XSTATE.md §0.2, §5). XState copies a
// parent's `children` on every spawn and stop, so one parent holding every pod makes spawning and
// stopping O(pods²); a shard holds at most SHARD_SIZE pods, so both cost O(SHARD_SIZE) per pod.
// The shard also carries its pods' reconcile tick: one timer per shard, not one per pod, because
// every actor stop scans all of the system's pending timers (XSTATE.md §0.3).
import { enqueueActions, sendParent, setup } from 'xstate';
import { podMachine, type PodInput } from './pod.ts';

/**
 * Pods per shard. Small, because every spawn and stop copies the shard's children object (keys
 * added and deleted: V8's slow path, µs per key); the cluster actor then holds ⌈pods / 64⌉ shards.
 */
export const SHARD_SIZE = 64;

export interface ShardInput {
  index: number;
}

/** How often a shard's pods check their zones, unless provide()d otherwise. */
const RECONCILE_MS = 30_000;

export type ShardEvent =
  | { type: 'SPAWN'; input: PodInput }
  | { type: 'POD_FINALIZED'; key: string }
  | { type: `xstate.error.actor.${string}`; actorId: string; error: unknown };

/** What a shard tells the cluster actor: a slot came free (and why, when a pod failed). */
export type ShardReport =
  | { type: 'SHARD_POD_GONE'; shard: number }
  | { type: 'SHARD_POD_FAILED'; shard: number; actorId: string; error: unknown };

export const podId = (key: string): string => `pod/${key}`;
export const shardId = (index: number): string => `pods/${index}`;

export const podShardMachine = setup({
  types: {} as { context: ShardInput; events: ShardEvent; input: ShardInput },
  actors: { pod: podMachine },
  delays: {
    reconcile: RECONCILE_MS,
  },
}).createMachine({
  id: 'pods',
  context: ({ input }) => ({ index: input.index }),
  initial: 'Active',
  states: {
    Active: {
      // Every pod of the shard checks its zone once a period (a pod busy with something else ignores it).
      after: {
        reconcile: {
          target: 'Active',
          reenter: true,
          actions: enqueueActions(({ enqueue, self }) => {
            for (const child of Object.values(self.getSnapshot().children)) if (child) enqueue.sendTo(child, { type: 'RECONCILE' });
          }),
        },
      },
    },
  },
  on: {
    SPAWN: {
      actions: enqueueActions(({ enqueue, event, system, context }) => {
        const id = podId(event.input.key);
        // A duplicate systemId would throw and take the whole system down: give the slot back.
        if (system.get(id)) {
          enqueue.sendParent({ type: 'SHARD_POD_GONE', shard: context.index } satisfies ShardReport);
          return;
        }
        enqueue.spawnChild('pod', { id, systemId: id, input: event.input });
      }),
    },
    POD_FINALIZED: {
      actions: enqueueActions(({ enqueue, event, context, self }) => {
        const id = podId(event.key);
        if (!self.getSnapshot().children[id]) return;
        enqueue.stopChild(id);
        enqueue.sendParent({ type: 'SHARD_POD_GONE', shard: context.index } satisfies ShardReport);
      }),
    },
    // One broken pod must not stop its siblings: the cluster reports it, the next watch event for
    // it spawns a fresh one from the store.
    'xstate.error.actor.*': {
      actions: [
        sendParent(({ context, event }) => ({ type: 'SHARD_POD_FAILED', shard: context.index, actorId: event.actorId, error: event.error }) satisfies ShardReport),
        enqueueActions(({ enqueue, event }) => enqueue.stopChild(event.actorId)),
      ],
    },
  },
});
