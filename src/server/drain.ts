// Graceful shutdown for a handler: once draining, new requests get 503 while the ones already
// in the handler (writes awaiting their commit) run to their reply.
import { ApiError } from '../api/model/status.ts';
import { errorReply } from './errors.ts';
import type { HttpHandler } from './http.ts';
import { realClock, type Clock } from '../time/clock.ts';

/** A count of requests in some phase, and a way to wait (bounded) until there are none. */
export class InFlight {
  private n = 0;
  private idle: (() => void)[] = [];

  /** `clock` bounds the wait in settled(). */
  constructor(private readonly clock: Clock = realClock) {}

  /** Counts one; the returned function (idempotent) uncounts it. */
  start(): () => void {
    this.n++;
    let ended = false;
    return () => {
      if (ended) return;
      ended = true;
      if (--this.n === 0) for (const cb of this.idle.splice(0)) cb();
    };
  }

  /** Resolves when none are left, or after `timeoutMs` (a hung request must not hold shutdown). */
  settled(timeoutMs: number): Promise<void> {
    if (this.n === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = this.clock.setTimeout(resolve, timeoutMs);
      this.idle.push(() => {
        this.clock.clearTimeout(timer);
        resolve();
      });
    });
  }
}

/** The answer to a request that arrives while the server shuts down. */
export const shuttingDown = (): ApiError => new ApiError(503, 'ServiceUnavailable', 'the server is shutting down');

export class Drain {
  private readonly inflight: InFlight;
  private draining = false;
  readonly handler: HttpHandler;

  constructor(inner: HttpHandler, clock: Clock = realClock) {
    this.inflight = new InFlight(clock);
    const refusal = () => errorReply(shuttingDown());
    this.handler = {
      maxBodyBytes: inner.maxBodyBytes,
      handle: async (req) => {
        if (this.draining) return refusal();
        const done = this.inflight.start();
        try {
          return await inner.handle(req);
        } finally {
          done();
        }
      },
      upgrade: (req) => (this.draining ? { reply: refusal() } : inner.upgrade(req)),
    };
  }

  /** Refuses new requests from now on. */
  begin(): void {
    this.draining = true;
  }

  /** Resolves when no request is in the handler, or after `timeoutMs`. */
  settled(timeoutMs: number): Promise<void> {
    return this.inflight.settled(timeoutMs);
  }
}
