// The scheduler as an actor of the control plane's system: a callback actor that runs the
// scheduling loop while it lives and stops it (watches, timers) when its parent stops it.
import { fromCallback, type EventObject } from 'xstate';
import { startScheduler, type Scheduler, type SchedulerOptions } from './scheduler.ts';

/** Input of the scheduler actor: the Client it works through, plus optional clock, log and tuning. */
export interface SchedulerInput extends SchedulerOptions {
  /** Hands the running loop to the host: stats, idle(), and stop() to await writes in flight at shutdown. */
  onStart?: (scheduler: Scheduler) => void;
}

/**
 * The scheduler actor logic.
 * @example
 * let loop: Scheduler | undefined;
 * const actor = createActor(schedulerActor, { input: { client: new LocalClient(store), log, onStart: (s) => (loop = s) } }).start();
 * // at shutdown, before closing the store:
 * actor.stop();
 * await loop?.stop();
 */
export const schedulerActor = fromCallback<EventObject, SchedulerInput>(({ input }) => {
  const { onStart, ...options } = input;
  const scheduler = startScheduler(options);
  onStart?.(scheduler);
  return () => {
    void scheduler.stop();
  };
});
