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

/** Wall-clock time and Node's timers. Timers are unref'd: a pending one never keeps the process alive. */
export const realClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms).unref(),
  clearTimeout: (id) => clearTimeout(id as NodeJS.Timeout),
};

/**
 * Calls `fn` every `ms` on `clock` until the returned function is called. Each tick is scheduled
 * after the previous one ran, so a simulated clock advanced by N periods fires N times.
 */
export function every(clock: Clock, ms: number, fn: () => void): () => void {
  let stopped = false;
  let timer: unknown;
  const tick = (): void => {
    if (stopped) return;
    timer = clock.setTimeout(tick, ms);
    fn();
  };
  timer = clock.setTimeout(tick, ms);
  return () => {
    stopped = true;
    clock.clearTimeout(timer);
  };
}

/** Resolves after `ms` on `clock`. */
export function sleep(clock: Clock, ms: number): Promise<void> {
  return new Promise((resolve) => clock.setTimeout(resolve, ms));
}

/**
 * realClock whose timers hold the process open: for a command whose only pending work is a wait
 * (the CLI's polls and deadlines), which realClock's unref'd timers would let the process skip.
 */
export const keepAliveClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (id) => clearTimeout(id as NodeJS.Timeout),
};

/**
 * Keeps the process alive until `p` settles. realClock's timers are unref'd, so work that is
 * awaited while nothing else holds the event loop (an agent retrying its registration before the
 * API server is up) must say so, or the process ends under it.
 */
export async function holding<T>(p: Promise<T>): Promise<T> {
  const hold = setInterval(() => {}, 2 ** 30);
  try {
    return await p;
  } finally {
    clearInterval(hold);
  }
}
