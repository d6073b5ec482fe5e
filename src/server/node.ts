// The node:http + ws transport: the fallback where uWebSockets.js has no binary (illumos),
// serving the same HttpHandler as uws.ts.
import { createServer as createHttp, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createHttps } from 'node:https';
import { readFileSync } from 'node:fs';
import type { Duplex } from 'node:stream';
import net from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import { badRequest, methodNotAllowed, tooLarge } from '../api/model/status.ts';
import { errorReply } from './errors.ts';
import { FrameQueue } from './batch.ts';
import { isStream, STATUS_TEXT, type HttpHandler, type HttpRequest, type PlainReply, type Sink } from './http.ts';
import type { Listening, TlsFiles } from './listen.ts';
import type { TLSSocket } from 'node:tls';
import { MAX_HEADER_BYTES, MAX_WS_MESSAGE_BYTES } from './limits.ts';
import { realClock, sleep, type Clock } from '../time/clock.ts';

/** Slow-client limits (tests shorten them): a request's headers, and the whole request, must arrive in time. */
export const NODE_TIMEOUTS = { headersTimeoutMs: 30_000, requestTimeoutMs: 120_000, checkIntervalMs: 5_000 };

/** Starts listening on host:port with node:http (or https) and ws. */
export function listenNode(handler: HttpHandler, host: string, port: number, tls?: TlsFiles, clock: Clock = realClock): Promise<Listening> {
  const onRequest = (req: IncomingMessage, res: ServerResponse): void => void serve(handler, req, res);
  // With a CA file, clients may present a certificate it signed (CN = user, O = groups); a client
  // without one still connects and authenticates otherwise (bearer token).
  const caFile = (tls as (TlsFiles & { caFile?: string }) | undefined)?.caFile;
  const common = { maxHeaderSize: MAX_HEADER_BYTES, connectionsCheckingInterval: NODE_TIMEOUTS.checkIntervalMs };
  const server = tls
    ? createHttps({ ...common, cert: readFileSync(tls.certFile), key: readFileSync(tls.keyFile), ...(caFile ? { ca: readFileSync(caFile), requestCert: true, rejectUnauthorized: false } : {}) }, onRequest)
    : createHttp(common, onRequest);
  // requestTimeout bounds receiving the request only: watches (long responses) are not cut.
  server.headersTimeout = NODE_TIMEOUTS.headersTimeoutMs;
  server.requestTimeout = NODE_TIMEOUTS.requestTimeoutMs;
  // Malformed requests, oversized headers and slow clients get a Status, not a bare close.
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Duplex) => {
    if (!socket.writable || (socket as Duplex & { _httpMessage?: unknown })._httpMessage) {
      socket.destroy();
      return;
    }
    const code = err.code === 'HPE_HEADER_OVERFLOW' ? 431 : err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : 400;
    const reason = code === 431 ? 'request header fields too large' : code === 408 ? 'the request was not received in time' : 'malformed HTTP request';
    const body = JSON.stringify({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: reason, reason: code === 408 ? 'Timeout' : 'BadRequest', code });
    socket.end(`HTTP/1.1 ${code} ${STATUS_TEXT[code] ?? 'Bad Request'}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`);
  });
  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_WS_MESSAGE_BYTES, handleProtocols: (_set, req) => (req as IncomingMessage & { chosenProtocol?: string }).chosenProtocol ?? false });
  // Handshakes ws refuses itself (bad key, version, method, subprotocol syntax) get a Status too, not ws's text/html.
  wss.on('wsClientError', (err: Error, socket: Duplex, req: IncomingMessage) => {
    const reply = errorReply(req.method === 'GET' ? badRequest(err.message) : methodNotAllowed(req.method ?? ''));
    if (/Version/.test(err.message)) reply.headers['sec-websocket-version'] = '13, 8';
    writeRaw(socket, reply);
  });
  // Unhandled, node drops CONNECT requests without a word; refuse them like uWS does.
  server.on('connect', (req: IncomingMessage, socket: Duplex) => writeRaw(socket, errorReply(methodNotAllowed(req.method ?? 'CONNECT'))));
  const live = new Set<() => void>();
  let closing = false;

  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const request = readRequest(req, Buffer.alloc(0));
    const answer = handler.upgrade(request);
    if ('reply' in answer) {
      writeRaw(socket, answer.reply);
      return;
    }
    (req as IncomingMessage & { chosenProtocol?: string }).chosenProtocol = answer.protocol;
    // When ws refuses the handshake or the client leaves first, the answer's watch slot is given back.
    const abandon = (): void => answer.abandon?.();
    socket.once('close', abandon);
    wss.handleUpgrade(req, socket, head, (ws: WebSocket) => {
      socket.off('close', abandon);
      ws.on('message', () => {});
      // A protocol error (e.g. a frame over maxPayload) closes this socket; unhandled, it would end the process.
      ws.on('error', () => ws.terminate());
      // ws writes to the upgraded socket: corking it batches a turn's frames into one write.
      const queue = new FrameQueue((frames) => {
        if (ws.readyState !== ws.OPEN) return;
        socket.cork();
        for (const d of frames) ws.send(typeof d === 'string' ? utf8Once(d) : d, { binary: typeof d !== 'string' });
        socket.uncork();
      });
      ws.on('close', () => queue.clear());
      const sink: Sink = {
        write(d) {
          if (ws.readyState === ws.OPEN) queue.push(d);
        },
        buffered: () => ws.bufferedAmount + queue.queued,
        end: () => {
          queue.flush();
          ws.close(1000);
        },
        onClose(cb) {
          ws.on('close', cb);
        },
      };
      // Shutdown ends the watch like the server would: queued events first, then a 1000 close.
      const close = (): void => sink.end();
      live.add(close);
      ws.on('close', () => live.delete(close));
      answer.start(sink);
    });
  });

  const serve = async (h: HttpHandler, req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const length = Number(req.headers['content-length'] ?? 0);
    if (length > h.maxBodyBytes) return writeReply(res, errorReply(tooLarge(h.maxBodyBytes)), true);
    const chunks: Buffer[] = [];
    let size = 0;
    try {
      for await (const chunk of req) {
        size += (chunk as Buffer).length;
        if (size > h.maxBodyBytes) return writeReply(res, errorReply(tooLarge(h.maxBodyBytes)), true);
        chunks.push(chunk as Buffer);
      }
    } catch {
      return; // the client went away mid-body
    }
    const request = readRequest(req, Buffer.concat(chunks));
    const reply = await h.handle(request);
    // While shutting down, each answer closes its connection so clients reconnect elsewhere.
    if (!isStream(reply)) return writeReply(res, reply, closing, request.method === 'HEAD');
    res.writeHead(reply.status, reply.headers);
    // Headers go out before the first event: watch clients wait for them (KUBECTL.md §7).
    res.flushHeaders();
    const queue = new FrameQueue((frames) => {
      if (res.writableEnded || res.destroyed) return;
      res.cork();
      for (const d of frames) res.write(d);
      res.uncork();
    });
    const close = (): void => {
      queue.flush();
      res.end();
    };
    live.add(close);
    res.on('close', () => {
      live.delete(close);
      queue.clear();
    });
    reply.stream({
      write(d) {
        if (!res.writableEnded && !res.destroyed) queue.push(d);
      },
      buffered: () => res.writableLength + queue.queued,
      end: close,
      onClose(cb) {
        res.on('close', cb);
      },
      onDrain(cb) {
        res.on('drain', cb);
      },
    });
  };

  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      const address = server.address();
      resolve({
        port: typeof address === 'object' && address ? address.port : port,
        transport: 'node',
        async close(drain) {
          closing = true;
          // net.Server's close stops accepting only: http.Server's would also drop idle
          // keep-alive sockets, racing requests their clients are sending on them right now.
          const closed = new Promise<void>((r) => net.Server.prototype.close.call(server, () => r()));
          await drain?.();
          for (const close of [...live]) close();
          // Requests still arriving (body in transit) get their 503 and a closed connection; then
          // whatever is left is cut.
          server.closeIdleConnections();
          await Promise.race([closed, sleep(clock, 1_000)]);
          server.closeAllConnections();
          // A WebSocket client that never answers our close frame must not hold shutdown either.
          for (const ws of wss.clients) ws.terminate();
          await closed;
          wss.close();
        },
      });
    });
  });
}

// A watch group hands every member the same string: encode it to UTF-8 once per turn, not once
// per socket (ws would convert it on each send).
const encoded = new Map<string, Buffer>();
function utf8Once(s: string): Buffer {
  let b = encoded.get(s);
  if (b === undefined) {
    if (encoded.size === 0) queueMicrotask(() => encoded.clear());
    encoded.set(s, (b = Buffer.from(s)));
  }
  return b;
}

function readRequest(req: IncomingMessage, body: Buffer): HttpRequest {
  const url = req.url ?? '/';
  const q = url.indexOf('?');
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(req.headers)) if (v !== undefined) headers[k] = Array.isArray(v) ? v.join(', ') : v;
  const r: HttpRequest = { method: (req.method ?? 'GET').toUpperCase(), path: q < 0 ? url : url.slice(0, q), query: new URLSearchParams(q < 0 ? '' : url.slice(q + 1)), headers, body };
  if (req.socket.remoteAddress) r.remote = req.socket.remoteAddress;
  const peer = peerOf(req.socket as TLSSocket);
  if (peer) r.peer = peer;
  return r;
}

/** The user of a verified client certificate: CN = user, O = groups. */
function peerOf(socket: TLSSocket): HttpRequest['peer'] {
  if (!socket.encrypted || !socket.authorized) return undefined;
  const cert = socket.getPeerCertificate();
  const cn = cert?.subject?.CN as string | string[] | undefined;
  const user = Array.isArray(cn) ? cn[0] : cn;
  if (!user) return undefined;
  const o = cert.subject.O as string | string[] | undefined;
  return { user, groups: o === undefined ? [] : Array.isArray(o) ? o : [o] };
}

function writeReply(res: ServerResponse, reply: PlainReply, close = false, head = false): void {
  const headers: Record<string, string | number> = { ...reply.headers, 'content-length': typeof reply.body === 'string' ? Buffer.byteLength(reply.body) : reply.body.byteLength };
  if (close) headers.connection = 'close';
  res.writeHead(reply.status, headers);
  res.end(head ? undefined : reply.body);
}

/** An HTTP answer on a socket that asked to upgrade (refused upgrades). */
function writeRaw(socket: Duplex, reply: PlainReply): void {
  const body = typeof reply.body === 'string' ? Buffer.from(reply.body) : Buffer.from(reply.body);
  const head = [`HTTP/1.1 ${reply.status} ${STATUS_TEXT[reply.status] ?? 'Error'}`, ...Object.entries(reply.headers).map(([k, v]) => `${k}: ${v}`), `content-length: ${body.length}`, 'connection: close', '', ''].join('\r\n');
  // node leaves upgrade and CONNECT sockets without an 'error' listener: a client reset here would end the process.
  socket.on('error', () => socket.destroy());
  socket.end(Buffer.concat([Buffer.from(head), body]));
}
