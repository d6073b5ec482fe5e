// The scheduler as an actor of the control plane's system: a callback actor that runs the
// scheduling loop while it lives and stops it (watches, timers) when its parent stops it.
import { fromCallback, type EventObject } from 'xstate';
import { startScheduler, type Scheduler, type SchedulerOptions } from './scheduler.ts';

/** Input of the scheduler actor: the Client it works through, plus optional clock, log and tuning. */
export interface SchedulerInput extends SchedulerOptions {
  /** Hands the running loop to the host: stats, idle(), and stop() to await writes in flight at shutdown. */
  onStart?: (scheduler: Scheduler) => void;
}

/** Runs the loop for one actor's life; the returned cleanup stops it. */
function run(input: SchedulerInput): () => void {
  const { onStart, ...options } = input;
  const scheduler = startScheduler(options);
  onStart?.(scheduler);
  return () => {
    void scheduler.stop();
  };
}

/**
 * The scheduler actor logic, configured by its input.
 * @example
 * let loop: Scheduler | undefined;
 * const actor = createActor(schedulerActor, { input: { client: new LocalClient(store), log, onStart: (s) => (loop = s) } }).start();
 * // at shutdown, before closing the store:
 * actor.stop();
 * await loop?.stop();
 */
export const schedulerActor = fromCallback<EventObject, SchedulerInput>(({ input }) => run(input));

/**
 * The scheduler actor logic with its options bound, for a machine that invokes it without input
 * (the cluster machine's `scheduler` slot).
 * @example
 * startControlPlane({ client, scheduler: schedulerActorWith({ client, log, onStart: (s) => (loop = s) }), … });
 */
export function schedulerActorWith(options: SchedulerInput) {
  return fromCallback<EventObject>(() => run(options));
}
