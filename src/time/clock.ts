// The one time source of src/: the store's timestamps, watch timeouts and bookmarks, the REST
// handlers, the scheduler's back-off queue, the control plane and the agent all read time and
// set timers through a Clock. Production passes realClock; tests pass XState's SimulatedClock
// (which satisfies this interface) and move time with `clock.increment(ms)`.

/** What src/ needs of a clock; XState's SimulatedClock satisfies it. */
export interface Clock {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(id: unknown): void;
}

/**
 * Wall-clock time and Node's timers. A one-shot timer holds the process open, as it is work
 * someone waits for (a retry, a poll, a deadline); the periodic ticks of `every` do not.
 */
export const realClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (id) => clearTimeout(id as NodeJS.Timeout),
};

/** Lets a real timer not hold the process open (a simulated clock's ids have nothing to undo). */
const background = (timer: unknown): unknown => {
  (timer as { unref?: () => void } | null)?.unref?.();
  return timer;
};

/**
 * Calls `fn` every `ms` on `clock` until the returned function is called. Each tick is scheduled
 * after the previous one ran, so a simulated clock advanced by N periods fires N times. Periodic
 * ticks are background work (bookmarks, heartbeats, compaction): they never hold the process open.
 */
export function every(clock: Clock, ms: number, fn: () => void): () => void {
  let stopped = false;
  let timer: unknown;
  const tick = (): void => {
    if (stopped) return;
    timer = background(clock.setTimeout(tick, ms));
    fn();
  };
  timer = background(clock.setTimeout(tick, ms));
  return () => {
    stopped = true;
    clock.clearTimeout(timer);
  };
}

/** Resolves after `ms` on `clock`. */
export function sleep(clock: Clock, ms: number): Promise<void> {
  return new Promise((resolve) => clock.setTimeout(resolve, ms));
}
