// Waiting for the operator's SIGTERM or SIGINT, then shutting down within the deadline.
import { realClock, type Clock } from '../time/clock.ts';

/** How long a graceful shutdown may take before the process exits anyway (SPEC §8: 5 s). */
export const SHUTDOWN_DEADLINE_MS = 5_000;

/** Resolves on the first SIGTERM or SIGINT. */
function waitForSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const on = (s: NodeJS.Signals): void => {
      process.off('SIGTERM', on);
      process.off('SIGINT', on);
      resolve(s);
    };
    process.on('SIGTERM', on);
    process.on('SIGINT', on);
  });
}

/**
 * Waits for SIGTERM/SIGINT, then runs `stop`. A second signal, or a stop that outlives the
 * deadline (on `clock`), ends the process at once: an operator's shutdown never hangs.
 */
export async function stopOnSignal(log: (m: string) => void, what: string, stop: () => Promise<void>, clock: Clock = realClock): Promise<void> {
  const signal = await waitForSignal();
  log(`${signal}: ${what}`);
  const force = (why: string) => (): void => {
    log(why);
    process.exit(1);
  };
  const deadline = clock.setTimeout(force(`shutdown took over ${SHUTDOWN_DEADLINE_MS / 1000} s; exiting now`), SHUTDOWN_DEADLINE_MS);
  const again = force('second signal: exiting now');
  process.once('SIGTERM', again);
  process.once('SIGINT', again);
  try {
    await stop();
  } finally {
    clock.clearTimeout(deadline);
    process.off('SIGTERM', again);
    process.off('SIGINT', again);
  }
}
