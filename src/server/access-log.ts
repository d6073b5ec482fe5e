// One log entry per API request (user, verb, path, status, duration), for --log-level debug.
// Wraps the guarded handler, so the user is the one authentication found.
import { attributesOf } from './authorize.ts';
import { isStream, type HttpHandler, type HttpReply, type HttpRequest } from './http.ts';
import { route } from './router.ts';
import type { Clock } from '../time/clock.ts';

export interface RequestLogEntry {
  user: string;
  verb: string;
  path: string;
  status: number;
  durationMs: number;
}

function verb(req: HttpRequest, upgrade: boolean): string {
  const r = route(req.path);
  return r?.type === 'resource' ? attributesOf(req, r, upgrade).verb : req.method.toLowerCase();
}

/** Logs every request once its reply is produced; a stream (watch) once it ends; `clock` times them. */
export function withRequestLog(inner: HttpHandler, log: (e: RequestLogEntry) => void, clock: Clock): HttpHandler {
  const entry = (req: HttpRequest, upgrade: boolean, status: number, started: number): RequestLogEntry => ({
    user: req.user ?? 'anonymous',
    verb: verb(req, upgrade),
    path: req.path,
    status,
    durationMs: clock.now() - started,
  });
  return {
    maxBodyBytes: inner.maxBodyBytes,
    async handle(req): Promise<HttpReply> {
      const started = clock.now();
      const reply = await inner.handle(req);
      if (!isStream(reply)) {
        log(entry(req, false, reply.status, started));
        return reply;
      }
      return {
        ...reply,
        stream(sink) {
          sink.onClose(() => log(entry(req, false, reply.status, started)));
          reply.stream(sink);
        },
      };
    },
    upgrade(req) {
      const started = clock.now();
      const answer = inner.upgrade(req);
      if ('reply' in answer) {
        log(entry(req, true, answer.reply.status, started));
        return answer;
      }
      return {
        ...answer,
        start(sink) {
          sink.onClose(() => log(entry(req, true, 101, started)));
          answer.start(sink);
        },
      };
    },
  };
}
