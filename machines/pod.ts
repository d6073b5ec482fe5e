// The life of one pod on its node: Pending → Provisioning (PullingImages → Creating) → Running →
// Terminating → Halting → Deprovisioning → Finalized (+ ImagePullBackOff, BackOff/Restarting,
// Succeeded and Failed). Pure: every effect is a named actor or action that src/agent provides.
import { assign, fromPromise, sendParent, setup } from 'xstate';

export type RestartPolicy = 'Always' | 'OnFailure' | 'Never';

/** Where the agent found the pod when it (re)started: adoption never re-provisions a live zone. */
export type Adoption = 'new' | 'running' | 'stopped' | 'failed' | 'succeeded' | 'terminating';

export interface PodInput {
  /** `<namespace>/<name>`. */
  key: string;
  uid: string;
  restartPolicy: RestartPolicy;
  restartCount?: number;
  adopt?: Adoption;
  /** Remaining grace when adopted while terminating. */
  graceMs?: number;
  podIP?: string;
}

export interface PodContext {
  key: string;
  uid: string;
  restartPolicy: RestartPolicy;
  restartCount: number;
  adopt: Adoption;
  backoffMs: number;
  /** Image pull back-off, kept apart from the zone's: kubelet's ImagePullBackOff (10 s doubling to 5 min). */
  pullBackoffMs: number;
  graceMs: number;
  podIP?: string;
  lastError?: string;
  /** The object is already gone from the API: nothing to finalize. */
  removed: boolean;
  problems: string[];
}

export type PodEvent =
  | { type: 'DELETE'; graceMs: number }
  | { type: 'POD_REMOVED' }
  /** Time to check the zone: the shard's tick (machines/pod-shard.ts), one timer for many pods. */
  | { type: 'RECONCILE' }
  /** The pod's spec changed in a way the running containers must follow (a new image). */
  | { type: 'SPEC_CHANGED' }
  /** Every app container has ended for good (restartPolicy OnFailure/Never). */
  | { type: 'CONTAINERS_DONE'; succeeded: boolean; message: string };

export interface ZoneUp {
  podIP: string;
}

/** What the reconcile tick learns about the zone. */
export type ZoneHealth = 'running' | 'stopped' | 'absent';

/** Phase, condition and message the agent writes to the pod's status for each state. */
export interface PodReport {
  phase: 'Pending' | 'Running' | 'Succeeded' | 'Failed';
  ready: boolean;
  reason?: string;
  message?: string;
}

/** A core/v1 Event the agent records for the pod. */
export interface PodEventRecord {
  reason: string;
  message: string;
  type?: 'Normal' | 'Warning';
}

const INITIAL_BACKOFF_MS = 10_000;
const MAX_BACKOFF_MS = 5 * 60_000;
const FINALIZE_RETRY_MS = 5_000;
/** ErrImagePull shows this long before the status says ImagePullBackOff. */
const PULL_BACKOFF_SHOWN_MS = 1_000;

/** An actor slot the host must fill with machine.provide(). */
function unprovided<O, I>(name: string) {
  return fromPromise<O, I>(() => Promise.reject(new Error(`${name} not provided`)));
}

const errorText = (e: unknown): string => (e instanceof Error ? e.message : String(e));

export const podMachine = setup({
  types: {} as { context: PodContext; events: PodEvent; input: PodInput },
  actors: {
    pullImages: unprovided<void, { key: string }>('pullImages'),
    provisionZone: unprovided<ZoneUp, { key: string }>('provisionZone'),
    updateContainers: unprovided<void, { key: string }>('updateContainers'),
    checkZone: unprovided<ZoneHealth, { key: string }>('checkZone'),
    restartZone: unprovided<ZoneUp, { key: string }>('restartZone'),
    shutdownZone: unprovided<void, { key: string; graceMs: number }>('shutdownZone'),
    haltZone: unprovided<void, { key: string }>('haltZone'),
    deprovisionZone: unprovided<{ problems: string[] }, { key: string }>('deprovisionZone'),
    finalizePod: unprovided<void, { key: string; uid: string }>('finalizePod'),
  },
  actions: {
    report: (_, _params: PodReport) => {},
    record: (_, _params: PodEventRecord) => {},
    setGrace: assign({ graceMs: ({ context, event }) => (event.type === 'DELETE' ? event.graceMs : context.graceMs) }),
  },
  guards: {
    adopting: ({ context }, adoption: Adoption) => context.adopt === adoption,
    restarts: ({ context }) => context.restartPolicy !== 'Never',
    removed: ({ context }) => context.removed,
  },
  delays: {
    backoff: ({ context }) => context.backoffMs,
    pullBackoff: ({ context }) => context.pullBackoffMs,
    pullBackoffShown: PULL_BACKOFF_SHOWN_MS,
    grace: ({ context }) => context.graceMs,
    finalizeRetry: FINALIZE_RETRY_MS,
  },
}).createMachine({
  id: 'pod',
  context: ({ input }) => ({
    key: input.key,
    uid: input.uid,
    restartPolicy: input.restartPolicy,
    restartCount: input.restartCount ?? 0,
    adopt: input.adopt ?? 'new',
    backoffMs: INITIAL_BACKOFF_MS,
    pullBackoffMs: INITIAL_BACKOFF_MS,
    graceMs: input.graceMs ?? 30_000,
    podIP: input.podIP,
    removed: false,
    problems: [],
  }),
  initial: 'Pending',
  states: {
    Pending: {
      always: [
        { guard: { type: 'adopting', params: 'terminating' }, target: 'Terminating' },
        { guard: { type: 'adopting', params: 'running' }, target: 'Running' },
        { guard: { type: 'adopting', params: 'stopped' }, target: 'Running.Checking' },
        { guard: { type: 'adopting', params: 'failed' }, target: 'Failed' },
        { guard: { type: 'adopting', params: 'succeeded' }, target: 'Succeeded' },
        { target: 'Provisioning' },
      ],
    },
    Provisioning: {
      initial: 'PullingImages',
      entry: { type: 'report', params: { phase: 'Pending', ready: false, reason: 'ContainerCreating', message: 'pulling images and creating the zone' } },
      states: {
        // The images first: nothing exists on the host for this pod until they are all there.
        PullingImages: {
          invoke: {
            src: 'pullImages',
            input: ({ context }) => ({ key: context.key }),
            onDone: 'Creating',
            onError: {
              target: 'ImagePullBackOff',
              actions: [
                assign({ lastError: ({ event }) => errorText(event.error) }),
                { type: 'report', params: ({ event }) => ({ phase: 'Pending', ready: false, reason: 'ErrImagePull', message: errorText(event.error) }) },
              ],
            },
          },
        },
        // As kubelet shows it: ErrImagePull at the failure, ImagePullBackOff while it waits to retry.
        ImagePullBackOff: {
          after: {
            pullBackoffShown: {
              actions: { type: 'report', params: ({ context }) => ({ phase: 'Pending', ready: false, reason: 'ImagePullBackOff', message: `Back-off pulling image: ${context.lastError ?? ''}` }) },
            },
            pullBackoff: {
              target: 'PullingImages',
              actions: assign({ pullBackoffMs: ({ context }) => Math.min(context.pullBackoffMs * 2, MAX_BACKOFF_MS) }),
            },
          },
        },
        Creating: {
          entry: { type: 'record', params: { reason: 'Provisioning', message: 'Provisioning zone: address, VNIC, datasets, zonecfg, install, containers, boot' } },
          invoke: {
            src: 'provisionZone',
            input: ({ context }) => ({ key: context.key }),
            onDone: {
              target: '#pod.Running',
              actions: [
                assign({ podIP: ({ event }) => event.output.podIP }),
                { type: 'record', params: ({ event }) => ({ reason: 'Started', message: `Zone is running with IP ${event.output.podIP}` }) },
              ],
            },
            onError: {
              target: '#pod.Failed',
              actions: [
                assign({ lastError: ({ event }) => `zone provisioning failed: ${errorText(event.error)}` }),
                { type: 'record', params: ({ event }) => ({ reason: 'Failed', type: 'Warning', message: `Zone provisioning failed: ${errorText(event.error)}` }) },
              ],
            },
          },
        },
      },
      on: { DELETE: { target: 'Terminating', actions: 'setGrace' } },
    },
    Running: {
      entry: { type: 'report', params: { phase: 'Running', ready: true } },
      initial: 'Idle',
      states: {
        Idle: {
          on: { RECONCILE: 'Checking', SPEC_CHANGED: 'Updating' },
        },
        // A new image for a running container: pulled, then that container alone restarts on it.
        Updating: {
          invoke: {
            src: 'updateContainers',
            input: ({ context }) => ({ key: context.key }),
            onDone: 'Idle',
            onError: {
              target: 'Idle',
              actions: { type: 'record', params: ({ event }) => ({ reason: 'Failed', type: 'Warning', message: `Updating the containers failed: ${errorText(event.error)}` }) },
            },
          },
        },
        Checking: {
          invoke: {
            src: 'checkZone',
            input: ({ context }) => ({ key: context.key }),
            onDone: [
              { guard: ({ event }) => event.output === 'running', target: 'Idle' },
              {
                guard: 'restarts',
                target: '#pod.BackOff',
                actions: { type: 'record', params: ({ context, event }) => ({ reason: 'BackOff', type: 'Warning', message: `Zone is ${event.output}; restarting it (restartPolicy ${context.restartPolicy})` }) },
              },
              {
                target: '#pod.Failed',
                actions: [
                  assign({ lastError: ({ event }) => `zone is ${event.output} and restartPolicy is Never` }),
                  { type: 'record', params: ({ event }) => ({ reason: 'Failed', type: 'Warning', message: `Zone is ${event.output}; restartPolicy Never: not restarting` }) },
                ],
              },
            ],
            // A failed check (a command that timed out) is retried at the next tick.
            onError: 'Idle',
          },
        },
      },
      on: {
        DELETE: { target: 'Terminating', actions: 'setGrace' },
        CONTAINERS_DONE: [
          { guard: ({ event }) => event.succeeded, target: 'Succeeded' },
          { target: 'Failed', actions: assign({ lastError: ({ event }) => event.message }) },
        ],
      },
    },
    BackOff: {
      entry: { type: 'report', params: ({ context }) => ({ phase: 'Running', ready: false, reason: 'CrashLoopBackOff', message: `back-off ${Math.round(context.backoffMs / 1000)}s restarting the zone` }) },
      after: { backoff: 'Restarting' },
      on: { DELETE: { target: 'Terminating', actions: 'setGrace' } },
    },
    Restarting: {
      invoke: {
        src: 'restartZone',
        input: ({ context }) => ({ key: context.key }),
        onDone: {
          target: 'Running',
          actions: [
            assign({
              podIP: ({ event }) => event.output.podIP,
              restartCount: ({ context }) => context.restartCount + 1,
              backoffMs: ({ context }) => Math.min(context.backoffMs * 2, MAX_BACKOFF_MS),
            }),
            { type: 'record', params: { reason: 'Started', message: 'Zone restarted' } },
          ],
        },
        onError: {
          target: 'BackOff',
          actions: [
            assign({ backoffMs: ({ context }) => Math.min(context.backoffMs * 2, MAX_BACKOFF_MS), lastError: ({ event }) => errorText(event.error) }),
            { type: 'record', params: ({ event }) => ({ reason: 'BackOff', type: 'Warning', message: `Restarting the zone failed: ${errorText(event.error)}` }) },
          ],
        },
      },
      on: { DELETE: { target: 'Terminating', actions: 'setGrace' } },
    },
    Failed: {
      entry: { type: 'report', params: ({ context }) => ({ phase: 'Failed', ready: false, reason: 'ZoneFailed', message: context.lastError ?? 'the zone failed' }) },
      on: { DELETE: { target: 'Terminating', actions: 'setGrace' } },
    },
    // Every container ended as its restartPolicy wants; the zone stays until the pod is deleted.
    Succeeded: {
      entry: { type: 'report', params: { phase: 'Succeeded', ready: false, reason: 'PodCompleted', message: 'all containers completed' } },
      on: { DELETE: { target: 'Terminating', actions: 'setGrace' } },
    },
    Terminating: {
      entry: { type: 'record', params: ({ context }) => ({ reason: 'Killing', message: `Stopping zone (grace period ${Math.ceil(context.graceMs / 1000)}s)` }) },
      invoke: {
        src: 'shutdownZone',
        input: ({ context }) => ({ key: context.key, graceMs: context.graceMs }),
        onDone: 'Deprovisioning',
        onError: 'Halting',
      },
      after: { grace: 'Halting' },
      on: {
        // A second delete may shorten the grace period.
        DELETE: { guard: ({ context, event }) => event.graceMs < context.graceMs, target: 'Terminating', reenter: true, actions: 'setGrace' },
        POD_REMOVED: { actions: assign({ removed: true }) },
      },
    },
    Halting: {
      invoke: {
        src: 'haltZone',
        input: ({ context }) => ({ key: context.key }),
        onDone: { target: 'Deprovisioning', actions: { type: 'record', params: { reason: 'Halted', message: 'Zone halted after the grace period' } } },
        onError: { target: 'Deprovisioning', actions: { type: 'record', params: ({ event }) => ({ reason: 'Halted', type: 'Warning', message: `Halting the zone failed: ${errorText(event.error)}` }) } },
      },
      on: { POD_REMOVED: { actions: assign({ removed: true }) } },
    },
    Deprovisioning: {
      invoke: {
        src: 'deprovisionZone',
        input: ({ context }) => ({ key: context.key }),
        onDone: {
          target: 'Finalizing',
          actions: [
            assign({ problems: ({ event }) => event.output.problems }),
            {
              type: 'record',
              params: ({ event }) => event.output.problems.length === 0
                ? { reason: 'Deprovisioned', message: 'Zone, datasets, VNIC and address released' }
                : { reason: 'Deprovisioned', type: 'Warning', message: `Deprovisioned with problems: ${event.output.problems.join('; ')}` },
            },
          ],
        },
        onError: {
          target: 'Finalizing',
          actions: { type: 'record', params: ({ event }) => ({ reason: 'Deprovisioned', type: 'Warning', message: `Deprovisioning failed: ${errorText(event.error)}` }) },
        },
      },
      on: { POD_REMOVED: { actions: assign({ removed: true }) } },
    },
    Finalizing: {
      always: { guard: 'removed', target: 'Finalized' },
      invoke: {
        src: 'finalizePod',
        input: ({ context }) => ({ key: context.key, uid: context.uid }),
        onDone: 'Finalized',
        onError: 'FinalizeRetry',
      },
      on: { POD_REMOVED: { target: 'Finalized' } },
    },
    FinalizeRetry: {
      after: { finalizeRetry: 'Finalizing' },
      on: { POD_REMOVED: { target: 'Finalized' } },
    },
    // Not a root final state: a fixed-type event to the parent, which stops this actor
    // (XSTATE.md §0.4: per-child done events leak transition memo entries).
    Finalized: {
      entry: sendParent(({ context }) => ({ type: 'POD_FINALIZED', key: context.key })),
      on: { POD_REMOVED: {} },
    },
  },
  on: {
    POD_REMOVED: { target: '.Deprovisioning', actions: assign({ removed: true }) },
  },
});
