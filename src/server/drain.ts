// Graceful shutdown for a handler: once draining, new requests get 503 while the ones already
// in the handler (writes awaiting their commit) run to their reply.
import { ApiError } from '../api/status.ts';
import { errorReply } from './errors.ts';
import type { HttpHandler } from './http.ts';

export class Drain {
  private inflight = 0;
  private draining = false;
  private idle: (() => void)[] = [];
  readonly handler: HttpHandler;

  constructor(inner: HttpHandler) {
    const refusal = () => errorReply(new ApiError(503, 'ServiceUnavailable', 'the server is shutting down'));
    this.handler = {
      maxBodyBytes: inner.maxBodyBytes,
      handle: async (req) => {
        if (this.draining) return refusal();
        this.inflight++;
        try {
          return await inner.handle(req);
        } finally {
          if (--this.inflight === 0) for (const cb of this.idle.splice(0)) cb();
        }
      },
      upgrade: (req) => (this.draining ? { reply: refusal() } : inner.upgrade(req)),
    };
  }

  /** Refuses new requests from now on. */
  begin(): void {
    this.draining = true;
  }

  /** Resolves when no request is in the handler, or after `timeoutMs` (a hung request must not hold shutdown). */
  settled(timeoutMs: number): Promise<void> {
    if (this.inflight === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, timeoutMs);
      this.idle.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }
}
