// Request limits that protect the API server from overload and abuse: concurrent non-watch
// requests (--max-requests-inflight, as kube-apiserver), URL length, and watches per client.
import { ApiError } from '../api/model/status.ts';

export const DEFAULT_MAX_REQUESTS_INFLIGHT = 400;
/** Longest path + query string accepted (kube-apiserver's Go server takes ~1 MiB headers; we are stricter). */
export const MAX_URL_BYTES = 8 * 1024;
/** Longest request header block (node's maxHeaderSize; uWS has its own fixed limit). */
export const MAX_HEADER_BYTES = 16 * 1024;
/** Open watches one client (user, else remote address) may hold. */
export const DEFAULT_MAX_WATCHES_PER_CLIENT = 250;
/** Largest WebSocket message a client may send: watch clients have nothing to say. */
export const MAX_WS_MESSAGE_BYTES = 64 * 1024;

export interface LimitOptions {
  maxRequestsInflight?: number;
  maxWatchesPerClient?: number;
}

export const tooManyRequests = (message = 'Too many requests, please try again later.', retryAfterSeconds = 1): ApiError =>
  new ApiError(429, 'TooManyRequests', message, { retryAfterSeconds });

export const uriTooLong = (max: number): ApiError => new ApiError(414, 'BadRequest', `the request URI is too long (limit ${max} bytes)`);

export class Limits {
  readonly maxInflight: number;
  readonly maxWatches: number;
  private inflight = 0;
  private readonly watches = new Map<string, number>();

  constructor(o: LimitOptions = {}) {
    this.maxInflight = o.maxRequestsInflight ?? DEFAULT_MAX_REQUESTS_INFLIGHT;
    this.maxWatches = o.maxWatchesPerClient ?? DEFAULT_MAX_WATCHES_PER_CLIENT;
  }

  get current(): number {
    return this.inflight;
  }

  /** Takes an in-flight slot; the returned function gives it back (once). Throws 429 when full. */
  acquire(): () => void {
    if (this.inflight >= this.maxInflight) throw tooManyRequests();
    this.inflight++;
    let done = false;
    return () => {
      if (done) return;
      done = true;
      this.inflight--;
    };
  }

  /** Counts a watch for `client`; the returned function ends it. Throws 429 over the limit. */
  watch(client: string): () => void {
    const n = this.watches.get(client) ?? 0;
    if (n >= this.maxWatches) throw tooManyRequests(`too many open watches for this client (limit ${this.maxWatches})`, 5);
    this.watches.set(client, n + 1);
    let done = false;
    return () => {
      if (done) return;
      done = true;
      const left = (this.watches.get(client) ?? 1) - 1;
      if (left <= 0) this.watches.delete(client);
      else this.watches.set(client, left);
    };
  }

  watchesOf(client: string): number {
    return this.watches.get(client) ?? 0;
  }

  /** 431 for a header block over MAX_HEADER_BYTES (node:http refuses it in its parser; uWS does not). */
  checkHeaders(headers: Record<string, string>): void {
    let n = 0;
    for (const k in headers) n += k.length + (headers[k] as string).length + 4;
    if (n > MAX_HEADER_BYTES) throw new ApiError(431, 'BadRequest', `request header fields too large (limit ${MAX_HEADER_BYTES} bytes)`);
  }

  /** 414 for a URL over MAX_URL_BYTES. */
  checkUrl(path: string, query: URLSearchParams): void {
    const q = query.toString();
    if (path.length + q.length > MAX_URL_BYTES) throw uriTooLong(MAX_URL_BYTES);
  }
}
