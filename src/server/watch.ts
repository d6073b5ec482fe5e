// Watch sessions: replay or synthesise the initial events, filter live store events per watcher,
// and frame them for newline-delimited JSON, Server-Sent Events or WebSocket messages.
// Each event is serialised once per framing and shared by every watcher that receives it.
import { pack } from 'msgpackr';
import { apiVersionOf, type ResourceDef } from '../api/resources.ts';
import { ApiError } from '../api/status.ts';
import type { KubeObject } from '../api/types.ts';
import { toTable, type IncludeObject } from '../api/table.ts';
import { StoreError, type Store, type StoreEvent } from '../store/store.ts';
import { toApiError } from './errors.ts';
import type { Sink } from './http.ts';

/** ndjson and sse over HTTP; ws: one JSON text frame per event; ws-msgpack: one msgpack binary frame. */
export type Framing = 'ndjson' | 'sse' | 'ws' | 'ws-msgpack';

/** The WebSocket subprotocol that asks for msgpack frames. */
export const MSGPACK_SUBPROTOCOL = 'reddwarf.msgpack.v1';

export interface WatchSpec {
  def: ResourceDef;
  namespace?: string;
  /** Object filter from the label and field selectors (namespace is checked separately). */
  matches: (obj: KubeObject) => boolean;
  /** undefined or 0: start with ADDED events for the current state; N: replay after N. */
  resourceVersion?: number;
  sendInitialEvents?: boolean;
  bookmarks: boolean;
  timeoutSeconds?: number;
  table?: IncludeObject;
  framing: Framing;
}

export interface WatchLimits {
  /** Bytes a watcher may have queued before it is cut off with a 410 (it then relists). */
  maxBufferedBytes: number;
  bookmarkEveryMs: number;
  /** Comment frames that keep idle SSE streams (and the proxies between) alive. */
  sseKeepAliveMs: number;
}

export const DEFAULT_WATCH_LIMITS: WatchLimits = { maxBufferedBytes: 16 * 1024 * 1024, bookmarkEveryMs: 60_000, sseKeepAliveMs: 15_000 };

type WireType = 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';

/** Streams a watch into `sink` until the client leaves, the timeout ends it, or it falls behind. */
export function runWatch(store: Store, spec: WatchSpec, sink: Sink, limits: WatchLimits = DEFAULT_WATCH_LIMITS): void {
  const { def } = spec;
  let ended = false;
  let headersSent = false;
  let unsubscribe: (() => void) | undefined;
  const timers: NodeJS.Timeout[] = [];
  let lastWrite = Date.now();

  const finish = (): void => {
    if (ended) return;
    ended = true;
    unsubscribe?.();
    for (const t of timers) clearInterval(t);
    sink.end();
  };
  sink.onClose(() => {
    if (ended) return;
    ended = true;
    unsubscribe?.();
    for (const t of timers) clearInterval(t);
  });

  const inScope = (obj: KubeObject | undefined): boolean =>
    obj !== undefined && (spec.namespace === undefined || obj.metadata.namespace === spec.namespace) && spec.matches(obj);

  /** The bytes of one watch event in this stream's framing. */
  const encode = (value: { type: WireType; object: unknown }): string | Uint8Array => {
    switch (spec.framing) {
      case 'ndjson': return `${JSON.stringify(value)}\n`;
      case 'sse': return `data: ${JSON.stringify(value)}\n\n`;
      case 'ws': return JSON.stringify(value);
      case 'ws-msgpack': return pack(value);
    }
  };

  const encodeObject = (object: unknown, type: WireType): string | Uint8Array => {
    if (spec.table === undefined || type === 'ERROR' || type === 'BOOKMARK') return encode({ type, object });
    // kubectl wants column headers only with the first event of a watch.
    const table = toTable(def.resource, [object as KubeObject], { includeObject: spec.table, now: Date.now(), resourceVersion: (object as KubeObject).metadata.resourceVersion ?? '', noHeaders: headersSent });
    headersSent = true;
    return encode({ type, object: table });
  };

  let wrote = false;
  const send = (data: string | Uint8Array): void => {
    wrote = true;
    lastWrite = Date.now();
    sink.write(data);
  };

  const tooSlow = (): void => {
    const err = new ApiError(410, 'Expired', `watch of ${def.resource} closed: the client fell behind by more than ${limits.maxBufferedBytes} bytes; list again and resume from the list's resourceVersion`);
    send(encodeObject(err.toStatus(), 'ERROR'));
    finish();
  };

  const deliver = (type: WireType, e: StoreEvent): void => {
    if (ended) return;
    if (sink.buffered() > limits.maxBufferedBytes) return tooSlow();
    // Shared encodings: the cache key names everything the bytes depend on.
    if (spec.table !== undefined && !headersSent) return send(encodeObject(e.object, type));
    const key = `${spec.framing}:${type}:${spec.table ?? ''}`;
    let bytes = e.cache.get(key);
    if (bytes === undefined) {
      bytes = encodeObject(e.object, type);
      e.cache.set(key, bytes);
    }
    send(bytes);
  };

  const onEvent = (e: StoreEvent): void => {
    const now = inScope(e.object);
    if (e.type === 'MODIFIED') {
      // Selector transitions, as the watch cache reports them.
      const before = e.prev === undefined ? now : inScope(e.prev);
      if (now && before) deliver('MODIFIED', e);
      else if (now) deliver('ADDED', e);
      else if (before) deliver('DELETED', e);
      return;
    }
    if (now) deliver(e.type, e);
  };

  const bookmark = (annotations?: Record<string, string>): void => {
    const metadata: Record<string, unknown> = { resourceVersion: String(store.revision()) };
    if (annotations) metadata.annotations = annotations;
    send(encode({ type: 'BOOKMARK', object: { kind: def.kind, apiVersion: apiVersionOf(def), metadata } }));
  };

  try {
    const rv = spec.resourceVersion;
    if (rv === undefined || rv === 0 || spec.sendInitialEvents) {
      // "Get state and start at most recent": list and subscribe in one synchronous step.
      const snapshot = store.list(def.resource, { namespace: spec.namespace, filter: spec.matches });
      const from = rv !== undefined && rv > snapshot.revision ? rv : snapshot.revision;
      unsubscribe = store.watch(def.resource, from, onEvent);
      if (spec.sendInitialEvents !== false) {
        for (const obj of snapshot.items) {
          const e: StoreEvent = { type: 'ADDED', rev: Number(obj.metadata.resourceVersion), resource: def.resource, object: obj, cache: new Map() };
          deliver('ADDED', e);
        }
      }
      if (spec.sendInitialEvents && spec.bookmarks) bookmark({ 'k8s.io/initial-events-end': 'true' });
    } else {
      unsubscribe = store.watch(def.resource, rv, onEvent);
    }
  } catch (e) {
    if (!(e instanceof StoreError) && !(e instanceof ApiError)) console.error('watch failed:', e);
    send(encodeObject(toApiError(e).toStatus(), 'ERROR'));
    finish();
    return;
  }

  // Headers must reach the client before the first event (client-node's informer waits for
  // them). uWebSockets.js sends them only with a non-empty body chunk, so an idle stream starts
  // with whitespace every client skips: a blank line (JSON decoders, client-node, python's
  // iter_resp_lines) or an SSE comment.
  if (!wrote && (spec.framing === 'ndjson' || spec.framing === 'sse')) send(spec.framing === 'sse' ? ':\n\n' : '\n');
  if (spec.timeoutSeconds !== undefined && spec.timeoutSeconds > 0) timers.push(setTimeout(finish, spec.timeoutSeconds * 1000));
  if (spec.bookmarks) timers.push(setInterval(() => bookmark(), limits.bookmarkEveryMs).unref());
  if (spec.framing === 'sse') {
    timers.push(setInterval(() => {
      if (Date.now() - lastWrite >= limits.sseKeepAliveMs) send(':\n\n');
    }, limits.sseKeepAliveMs).unref());
  }
}
