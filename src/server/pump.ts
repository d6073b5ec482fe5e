// Backpressure for streams written into a Sink (log follows, the node API proxy): write, and
// when the peer has not taken what was queued, wait until it has before producing more.
import type { Sink } from './http.ts';
import { realClock, type Clock } from '../time/clock.ts';

/** Above this many queued bytes a producer waits … */
export const HIGH_WATER = 256 * 1024;
/** … until the queue is back under this. */
export const LOW_WATER = 64 * 1024;
/**
 * The transport's drain event wakes a waiting producer; this poll is the fallback for what the
 * event does not cover (bytes still in the per-turn frame queue, a sink without onDrain).
 */
const POLL_MS = 5;

const waiters = new WeakMap<Sink, Set<() => void>>();

/**
 * Writes `chunk`; resolves when the sink has room again (at once, mostly), or the signal aborts.
 * `clock` paces the fallback poll.
 */
export async function pumpTo(sink: Sink, chunk: Uint8Array | string, signal?: AbortSignal, clock: Clock = realClock): Promise<void> {
  sink.write(chunk);
  if (sink.buffered() <= HIGH_WATER) return;
  let wake = waiters.get(sink);
  if (!wake) {
    const set = new Set<() => void>();
    waiters.set(sink, set);
    sink.onDrain?.(() => {
      for (const w of [...set]) w();
    });
    wake = set;
  }
  while (sink.buffered() > LOW_WATER && !signal?.aborted) {
    await new Promise<void>((resolve) => {
      const done = (): void => {
        clock.clearTimeout(t);
        wake.delete(done);
        resolve();
      };
      const t = clock.setTimeout(done, POLL_MS);
      wake.add(done);
    });
  }
}
