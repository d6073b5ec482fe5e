// The uWebSockets.js transport: HTTP, chunked and SSE streams, and WebSocket watches, all driven
// by the transport-neutral HttpHandler.
import { createRequire } from 'node:module';
import type * as UWS from 'uWebSockets.js';
import { isStream, STATUS_TEXT, type HttpHandler, type HttpRequest, type PlainReply, type Publisher, type Sink, type Topics } from './http.ts';
import { errorReply } from './errors.ts';
import { FrameQueue } from './batch.ts';
import { tooLarge } from '../api/model/status.ts';
import type { Listening, TlsFiles } from './listen.ts';
import { MAX_WS_MESSAGE_BYTES } from './limits.ts';
import { InFlight, shuttingDown } from './drain.ts';
import { realClock, type Clock } from '../time/clock.ts';

type UwsModule = typeof UWS;

/** Loads the native module, or explains why it cannot (illumos has no build). */
export function loadUws(): UwsModule {
  const require = createRequire(import.meta.url);
  // The package prints a warning and swaps in a slow JS shim when its binary does not load;
  // we want our own node:http fallback instead, so load the binary directly.
  const dir = require.resolve('uWebSockets.js/package.json').replace(/package\.json$/, '');
  return require(`${dir}binaries/uws_${process.platform}_${process.arch}_${process.versions.modules}.node`) as UwsModule;
}

interface WsData {
  start?: (sink: Sink) => void;
  closers: (() => void)[];
  closed: boolean;
}

/** Starts listening on host:port with uWebSockets.js. */
export function listenUws(handler: HttpHandler, host: string, port: number, tls?: TlsFiles, clock: Clock = realClock): Promise<Listening> {
  const uws = loadUws();
  const app = tls ? uws.SSLApp({ key_file_name: tls.keyFile, cert_file_name: tls.certFile }) : uws.App();
  const live = new Set<() => void>();
  // uWS has no app.close(): keep-alive connections outlive the listen socket, so after close()
  // every request on them is refused and the connection closed.
  let closing = false;
  // Requests still receiving their body: shutdown waits for them (bounded).
  const bodies = new InFlight(clock);

  // One publisher per app: watch groups publish each event once to their topic.
  const publisher: Publisher = {
    publish(topic, data, binary) {
      app.publish(topic, data, binary);
    },
  };

  app.ws<WsData>('/*', {
    // Client messages are ignored (as kube-apiserver's watch does); keep them small.
    maxPayloadLength: MAX_WS_MESSAGE_BYTES,
    // Above our own slow-watcher limit, so uWS never drops a message silently before we cut the watch.
    maxBackpressure: 256 * 1024 * 1024,
    // Past that, close rather than skip a subscriber's messages: never a silent loss.
    closeOnBackpressureLimit: 1,
    idleTimeout: 120,
    sendPingsAutomatically: true,
    upgrade(res, req, context) {
      const request = readRequest(req);
      request.remote = Buffer.from(res.getRemoteAddressAsText()).toString();
      const key = req.getHeader('sec-websocket-key');
      const extensions = req.getHeader('sec-websocket-extensions');
      const answer = handler.upgrade(request);
      if ('reply' in answer) {
        writePlain(res, answer.reply);
        return;
      }
      res.upgrade<WsData>({ start: answer.start, closers: [], closed: false }, key, answer.protocol ?? '', extensions, context);
    },
    open(ws) {
      const data = ws.getUserData();
      const queue = new FrameQueue((frames) => {
        if (data.closed) return;
        /* Writes made outside of a uWS callback, like from a timer, must be corked */
        ws.cork(() => sendFrames(ws, frames));
      });
      data.closers.push(() => queue.clear());
      const topics: Topics = {
        publisher,
        subscribe(topic) {
          // What this sink was written before goes out before anything published to it.
          queue.flush();
          if (!data.closed) ws.subscribe(topic);
        },
        unsubscribe(topic) {
          if (!data.closed) ws.unsubscribe(topic);
        },
        send(frames) {
          queue.flush();
          if (data.closed) return;
          // A direct send drains what was published to this socket first, so order is kept.
          ws.cork(() => sendFrames(ws, frames));
        },
      };
      const sink: Sink = {
        topics,
        write(d) {
          if (!data.closed) queue.push(d);
        },
        buffered: () => (data.closed ? 0 : ws.getBufferedAmount() + queue.queued),
        end() {
          queue.flush();
          if (!data.closed) ws.cork(() => ws.end(1000));
        },
        onClose(cb) {
          data.closers.push(cb);
        },
      };
      // Shutdown ends the watch like the server would: queued events first, then a 1000 close.
      const close = (): void => sink.end();
      live.add(close);
      data.closers.push(() => live.delete(close));
      data.start?.(sink);
    },
    close(ws) {
      const data = ws.getUserData();
      data.closed = true;
      for (const cb of data.closers) cb();
    },
  });

  app.any('/*', (res, req) => {
    if (closing) {
      writePlain(res, errorReply(shuttingDown()), false, true);
      return;
    }
    const request = readRequest(req);
    request.remote = Buffer.from(res.getRemoteAddressAsText()).toString();
    let aborted = false;
    const onAbort: (() => void)[] = [];
    /* onAborted needs to be set if doing anything async like reading body */
    res.onAborted(() => {
      aborted = true;
      for (const cb of onAbort) cb();
    });
    const respond = (): void => {
      handler.handle(request).then((reply) => {
        if (aborted) return;
        if (!isStream(reply)) {
          res.cork(() => writePlain(res, reply, request.method === 'HEAD', closing));
          return;
        }
        let ended = false;
        let backlog = 0;
        const closers: (() => void)[] = [];
        const finish = (): void => {
          if (ended) return;
          ended = true;
          live.delete(close);
          for (const cb of closers) cb();
        };
        const queue = new FrameQueue((frames) => {
          if (ended || aborted) return;
          const chunk = frames.every((f) => typeof f === 'string') ? frames.join('') : Buffer.concat(frames.map((f) => (typeof f === 'string' ? Buffer.from(f) : f)));
          /* Writes made outside of a uWS callback, like from a timer, must be corked */
          res.cork(() => {
            if (!res.write(chunk)) backlog += typeof chunk === 'string' ? Buffer.byteLength(chunk) : chunk.byteLength;
          });
        });
        const close = (): void => {
          queue.flush();
          if (!ended && !aborted) res.cork(() => res.end());
          finish();
        };
        live.add(close);
        onAbort.push(() => queue.clear(), finish);
        res.cork(() => {
          res.writeStatus(statusLine(reply.status));
          for (const [k, v] of Object.entries(reply.headers)) res.writeHeader(k, v);
        });
        const drained: (() => void)[] = [];
        res.onWritable(() => {
          backlog = 0;
          for (const cb of drained) cb();
          return true;
        });
        reply.stream({
          write(d) {
            if (!ended && !aborted) queue.push(d);
          },
          buffered: () => backlog + queue.queued,
          end: close,
          onClose(cb) {
            closers.push(cb);
          },
          onDrain(cb) {
            drained.push(cb);
          },
        });
      }, (e: unknown) => {
        if (!aborted) res.cork(() => writePlain(res, errorReply(e)));
      });
    };
    const length = Number(request.headers['content-length'] ?? 0);
    const chunked = (request.headers['transfer-encoding'] ?? '').includes('chunked');
    if (length > handler.maxBodyBytes) {
      writePlain(res, errorReply(tooLarge(handler.maxBodyBytes)), false, true);
      return;
    }
    if (length === 0 && !chunked) return respond();
    const chunks: Buffer[] = [];
    let size = 0;
    const done = bodies.start();
    onAbort.push(done);
    res.onData((chunk, isLast) => {
      if (aborted || size > handler.maxBodyBytes) return;
      size += chunk.byteLength;
      if (size > handler.maxBodyBytes) {
        res.cork(() => writePlain(res, errorReply(tooLarge(handler.maxBodyBytes)), false, true));
        aborted = true;
        done();
        return;
      }
      /* The chunk is only valid in this callback: copy it out. */
      chunks.push(Buffer.from(new Uint8Array(chunk)));
      if (isLast) {
        request.body = Buffer.concat(chunks);
        done();
        respond();
      }
    });
  });

  return new Promise((resolve, reject) => {
    app.listen(host, port, (token) => {
      if (!token) {
        reject(new Error(`cannot listen on ${host}:${port}: the address is in use or not available`));
        return;
      }
      resolve({
        port: uws.us_socket_local_port(token as unknown as UWS.us_socket),
        transport: 'uws',
        async close(drain) {
          // Closing a listen socket twice crashes the process (SIGSEGV).
          if (closing) return;
          closing = true;
          uws.us_listen_socket_close(token);
          // Requests whose body was still arriving reach the handler (and its 503) before the end.
          await bodies.settled(1_000);
          await drain?.();
          for (const close of [...live]) close();
        },
      });
    });
  });
}

/* You MUST copy data out of req here, as req is only valid within this immediate callback */
function readRequest(req: UWS.HttpRequest): HttpRequest {
  const headers: Record<string, string> = {};
  req.forEach((k, v) => {
    headers[k] = headers[k] === undefined ? v : `${headers[k]}, ${v}`;
  });
  return {
    method: req.getCaseSensitiveMethod().toUpperCase(),
    path: req.getUrl(),
    query: new URLSearchParams(req.getQuery() ?? ''),
    headers,
    body: Buffer.alloc(0),
  };
}

function statusLine(code: number): string {
  return `${code} ${STATUS_TEXT[code] ?? 'Unknown'}`;
}

function writePlain(res: UWS.HttpResponse, reply: PlainReply, head = false, closeConnection = false): void {
  res.writeStatus(statusLine(reply.status));
  for (const [k, v] of Object.entries(reply.headers)) res.writeHeader(k, v);
  if (head) res.endWithoutBody(typeof reply.body === 'string' ? Buffer.byteLength(reply.body) : reply.body.byteLength);
  else res.end(reply.body, closeConnection);
}

/** Sends frames in order; a socket over uWS's backpressure limit is closed (1011), never skipped silently. */
function sendFrames(ws: { send(d: string | Uint8Array, binary: boolean): number; end(code: number, reason: string): void }, frames: readonly (string | Uint8Array)[]): void {
  for (const d of frames) {
    if (ws.send(d, typeof d !== 'string') === 2) {
      ws.end(1011, 'backpressure');
      return;
    }
  }
}
