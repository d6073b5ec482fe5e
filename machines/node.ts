// One Node as the control plane sees it: Ready while heartbeats arrive; a delayed transition
// after the monitor grace period (40 s by default) marks it Unknown. Pure: the status write is
// the `markUnknown` action src/control provides.
import { assign, setup } from 'xstate';

export interface NodeInput {
  name: string;
  /** How long a node may stay silent (kube-controller-manager's --node-monitor-grace-period). */
  graceMs: number;
  /** Time left of the grace period since the last heartbeat seen in the store (≤ 0: already late). */
  remainingMs: number;
}

export interface NodeContext {
  name: string;
  graceMs: number;
  remainingMs: number;
}

export type NodeEvent = { type: 'HEARTBEAT' };

export const nodeMachine = setup({
  types: {} as { context: NodeContext; events: NodeEvent; input: NodeInput },
  actions: {
    markUnknown: (_, _params: { name: string }) => {},
    fullGrace: assign({ remainingMs: ({ context }) => context.graceMs }),
  },
  guards: {
    late: ({ context }) => context.remainingMs <= 0,
  },
  delays: {
    monitorGrace: ({ context }) => Math.max(0, context.remainingMs),
  },
}).createMachine({
  id: 'node',
  context: ({ input }) => ({ name: input.name, graceMs: input.graceMs, remainingMs: input.remainingMs }),
  initial: 'Starting',
  states: {
    Starting: {
      always: [{ guard: 'late', target: 'Unknown' }, { target: 'Ready' }],
    },
    Ready: {
      after: { monitorGrace: 'Unknown' },
      // Each heartbeat re-arms the full grace period.
      on: { HEARTBEAT: { target: 'Ready', reenter: true, actions: 'fullGrace' } },
    },
    Unknown: {
      entry: { type: 'markUnknown', params: ({ context }) => ({ name: context.name }) },
      on: { HEARTBEAT: { target: 'Ready', actions: 'fullGrace' } },
    },
  },
});
