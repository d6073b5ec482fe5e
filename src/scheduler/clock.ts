// The time source of the scheduler's backoff queue and event timestamps: real in production,
// XState's SimulatedClock (or any fake with the same three methods) in tests.

/** What the scheduler needs of a clock; XState's SimulatedClock satisfies it. */
export interface SchedulerClock {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(id: unknown): void;
}

/** Wall-clock time and Node's timers. */
export const realClock: SchedulerClock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (id) => clearTimeout(id as NodeJS.Timeout),
};
