// Transport-neutral request and reply types: the handlers see only these, so uWebSockets.js and
// node:http serve exactly the same code.

export interface HttpRequest {
  method: string;
  /** Path without the query string, percent-decoding left to the router. */
  path: string;
  query: URLSearchParams;
  /** Lower-cased header names. */
  headers: Record<string, string>;
  body: Buffer;
  /** The peer's address (for per-client limits), when the transport knows it. */
  remote?: string;
  /** A client certificate the transport verified against the cluster CA: CN = user, O = groups. */
  peer?: { user: string; groups: string[] };
  /** The authenticated user's name, set by the guard (for the request log). */
  user?: string;
}

/** Where a stream (chunked HTTP, SSE, WebSocket frames) writes. */
export interface Sink {
  /** Queues data; never throws once the peer is gone. */
  write(data: string | Uint8Array): void;
  /** Bytes queued but not yet taken by the peer: what backpressure is judged on. */
  buffered(): number;
  end(): void;
  /** Called once when the peer goes away or the stream ends. */
  onClose(cb: () => void): void;
  /** Called each time the transport's send buffer has drained (HTTP streams; producers waiting on buffered() resume). */
  onDrain?(cb: () => void): void;
  /** Topic fan-out (uWebSockets.js WebSockets): one publish reaches every sink subscribed to the topic. */
  topics?: Topics;
}

/** One server's topic publisher: the same object for every sink of that server. */
export interface Publisher {
  publish(topic: string, data: string | Uint8Array, binary: boolean): void;
}

/** A sink's side of topic fan-out. */
export interface Topics {
  readonly publisher: Publisher;
  subscribe(topic: string): void;
  unsubscribe(topic: string): void;
  /**
   * Sends `frames` to this sink now, in order with what was published to it before (write()
   * may batch to the end of the turn, which could overtake or fall behind a publish).
   */
  send(frames: readonly (string | Uint8Array)[]): void;
}

export interface PlainReply {
  status: number;
  headers: Record<string, string>;
  body: string | Uint8Array;
}

export interface StreamReply {
  status: number;
  headers: Record<string, string>;
  /** Starts the stream once the status and headers have been sent. */
  stream(sink: Sink): void;
}

export type HttpReply = PlainReply | StreamReply;

/** The answer to a WebSocket upgrade: refuse with a reply, or accept and start (or abandon, if the handshake then fails). */
export type UpgradeAnswer = { reply: PlainReply } | { protocol?: string; start(sink: Sink): void; abandon?(): void };

/** What a transport adapter drives. */
export interface HttpHandler {
  handle(req: HttpRequest): Promise<HttpReply>;
  upgrade(req: HttpRequest): UpgradeAnswer;
  /** Body size above which a request is refused before it is read in full. */
  readonly maxBodyBytes: number;
}

export const isStream = (r: HttpReply): r is StreamReply => 'stream' in r;

/** A JSON reply. */
export function json(status: number, body: unknown, headers: Record<string, string> = {}): PlainReply {
  return { status, headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) };
}

/** A plain-text reply. */
export function text(status: number, body: string): PlainReply {
  return { status, headers: { 'content-type': 'text/plain; charset=utf-8' }, body };
}

/** HTTP reason phrases for the codes we answer with (uWS wants a full status line). */
export const STATUS_TEXT: Record<number, string> = {
  101: 'Switching Protocols', 200: 'OK', 201: 'Created', 202: 'Accepted', 204: 'No Content', 304: 'Not Modified',
  400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found', 405: 'Method Not Allowed',
  406: 'Not Acceptable', 409: 'Conflict', 410: 'Gone', 413: 'Payload Too Large', 414: 'URI Too Long', 415: 'Unsupported Media Type',
  422: 'Unprocessable Entity', 429: 'Too Many Requests', 431: 'Request Header Fields Too Large', 500: 'Internal Server Error', 503: 'Service Unavailable', 504: 'Gateway Timeout',
};
