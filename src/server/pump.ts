// Backpressure for streams written into a Sink (log follows, the node API proxy): write, and
// when the peer has not taken what was queued, wait until it has before producing more.
import type { Sink } from './http.ts';

/** Above this many queued bytes a producer waits … */
export const HIGH_WATER = 256 * 1024;
/** … until the queue is back under this. */
export const LOW_WATER = 64 * 1024;
/** The Sink has no drain event: its queue is looked at this often while a producer waits. */
const POLL_MS = 10;

/** Writes `chunk`; resolves when the sink has room again (at once, mostly), or the signal aborts. */
export async function pumpTo(sink: Sink, chunk: Uint8Array | string, signal?: AbortSignal): Promise<void> {
  sink.write(chunk);
  if (sink.buffered() <= HIGH_WATER) return;
  while (sink.buffered() > LOW_WATER && !signal?.aborted) {
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}
