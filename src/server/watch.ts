// Watch sessions on the watch hub (src/store/hub.ts): the initial events (state or replay), then
// the live events of the watcher's group, framed for newline-delimited JSON, Server-Sent Events or
// WebSocket messages. A group encodes each event once for all its members; WebSocket groups on
// uWebSockets.js go out with one topic publish, the others as the same bytes written to each sink.
import { pack } from 'msgpackr';
import { apiVersionOf, type ResourceDef } from '../api/model/resources.ts';
import { ApiError } from '../api/model/status.ts';
import type { KubeObject } from '../api/model/types.ts';
import { toTable, type IncludeObject } from '../api/wire/table.ts';
import { hubOf, type Channel } from '../store/hub.ts';
import { StoreError, type Store, type StoreEvent } from '../store/store.ts';
import { every, realClock, type Clock } from '../time/clock.ts';
import { toApiError } from './errors.ts';
import type { Publisher, Sink, Topics } from './http.ts';

/** ndjson and sse over HTTP; ws: one JSON text frame per event; ws-msgpack: one msgpack binary frame. */
export type Framing = 'ndjson' | 'sse' | 'ws' | 'ws-msgpack';

/** The WebSocket subprotocol that asks for msgpack frames. */
export const MSGPACK_SUBPROTOCOL = 'reddwarf.msgpack.v1';

export interface WatchSpec {
  def: ResourceDef;
  namespace?: string;
  /** Object filter from the label and field selectors (namespace is checked separately). */
  matches: (obj: KubeObject) => boolean;
  /** The node a `spec.nodeName=` field selector pins (the hub's index); `matches` still checks it. */
  nodeName?: string | undefined;
  /** The selectors as the client wrote them: watchers with equal ones share a group. */
  selector?: string;
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

/** Counts event encodings (tests check that a group encodes each event once). */
export const WATCH_STATS = { encodes: 0 };

type WireType = 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';
type Frame = string | Uint8Array;

/** The bytes of one watch event in `framing`. */
function frame(framing: Framing, value: { type: WireType; object: unknown }): Frame {
  WATCH_STATS.encodes++;
  switch (framing) {
    case 'ndjson': return `${JSON.stringify(value)}\n`;
    case 'sse': return `data: ${JSON.stringify(value)}\n\n`;
    case 'ws': return JSON.stringify(value);
    case 'ws-msgpack': return pack(value);
  }
}

const publisherIds = new WeakMap<Publisher, number>();
let nextId = 0;
const idOf = (p: Publisher): number => {
  let id = publisherIds.get(p);
  if (id === undefined) publisherIds.set(p, (id = ++nextId));
  return id;
};

/** One watcher in a group. */
interface Member {
  /** Writes a frame the group shares (checks the watcher's backlog first). */
  deliver(f: Frame): void;
  /** A table watcher that has not had its column headers yet. */
  headersPending: boolean;
  /** Over its buffer limit: gets ERROR 410 and is closed. */
  buffered(): number;
  tooSlow(): void;
}

/** A group: the framing and encoding its members share, and the events encoded for them. */
class WatchGroup implements Channel<Member> {
  /** The encoded initial events last handed out, for watchers that start where the last one did. */
  private start?: { key: string; frames: Frame[] };
  private checking = false;
  readonly topic?: string;

  constructor(
    private readonly spec: WatchSpec,
    private readonly clock: Clock,
    private readonly limits: WatchLimits,
    readonly publisher?: Publisher,
  ) {
    if (publisher) this.topic = `watch/${++nextId}`;
  }

  event(type: 'ADDED' | 'MODIFIED' | 'DELETED', e: StoreEvent, members: ReadonlySet<Member>): void {
    if (this.spec.table !== undefined) {
      // kubectl wants column headers with a watch's first event only.
      for (const m of members) {
        if (m.headersPending) {
          m.deliver(this.encodeObject(e.object, type, true));
          m.headersPending = false;
        } else m.deliver(this.encodeEvent(e, type));
      }
      return;
    }
    const bytes = this.encodeEvent(e, type);
    if (this.publisher && this.topic) {
      this.publisher.publish(this.topic, bytes, this.spec.framing === 'ws-msgpack');
      this.checkSoon(members);
      return;
    }
    for (const m of members) m.deliver(bytes);
  }

  /** The initial frames for a watcher starting at `key`, encoded once per start. */
  initial(key: string, make: () => Frame[]): Frame[] {
    if (this.start?.key !== key) this.start = { key, frames: make() };
    return this.start.frames;
  }

  /** Shared: the cache key names everything the bytes depend on. */
  encodeEvent(e: StoreEvent, type: WireType): Frame {
    const key = `${this.spec.framing}:${type}:${this.spec.table ?? ''}`;
    let bytes = e.cache.get(key);
    if (bytes === undefined) {
      bytes = this.encodeObject(e.object, type, false);
      e.cache.set(key, bytes);
    }
    return bytes;
  }

  encodeObject(object: unknown, type: WireType, headers: boolean): Frame {
    if (this.spec.table === undefined || type === 'ERROR' || type === 'BOOKMARK') return frame(this.spec.framing, { type, object });
    const o = object as KubeObject;
    const table = toTable(this.spec.def.resource, [o], { includeObject: this.spec.table, now: this.clock.now(), resourceVersion: o.metadata.resourceVersion ?? '', noHeaders: !headers });
    return frame(this.spec.framing, { type, object: table });
  }

  /** Published bytes are not in a socket's backlog until uWS drains them: judge after this turn's events. */
  private checkSoon(members: ReadonlySet<Member>): void {
    if (this.checking) return;
    this.checking = true;
    queueMicrotask(() => {
      this.checking = false;
      for (const m of members) if (m.buffered() > this.limits.maxBufferedBytes) m.tooSlow();
    });
  }
}

/** Streams a watch into `sink` until the client leaves, the timeout ends it, or it falls behind. */
export function runWatch(store: Store, spec: WatchSpec, sink: Sink, limits: WatchLimits = DEFAULT_WATCH_LIMITS, clock: Clock = realClock): void {
  const { def } = spec;
  const hub = hubOf(store);
  // Topics carry shared bytes only: table watchers get their own first event.
  const topics: Topics | undefined = spec.table === undefined && (spec.framing === 'ws' || spec.framing === 'ws-msgpack') ? sink.topics : undefined;
  const key = [spec.framing, spec.table ?? '', spec.namespace ?? '', spec.selector ?? '', topics ? idOf(topics.publisher) : ''].join('\u0000');
  const sel = { namespace: spec.namespace, matches: spec.matches, ...(spec.nodeName !== undefined ? { nodeName: spec.nodeName } : {}) };
  let ended = false;
  let wrote = false;
  const stops: (() => void)[] = [];

  const stop = (): void => {
    ended = true;
    for (const s of stops.splice(0)) s();
  };
  const finish = (): void => {
    if (ended) return;
    stop();
    sink.end();
  };
  sink.onClose(() => {
    if (!ended) stop();
  });

  /** Frames for this watcher alone, in order with what its group sends it. */
  const direct = (frames: readonly Frame[]): void => {
    if (frames.length === 0) return;
    wrote = true;
    if (topics) topics.send(frames);
    else for (const f of frames) sink.write(f);
  };

  const member: Member = {
    headersPending: spec.table !== undefined,
    deliver(f) {
      if (ended) return;
      if (sink.buffered() > limits.maxBufferedBytes) return member.tooSlow();
      wrote = true;
      sink.write(f);
    },
    buffered: () => sink.buffered(),
    tooSlow() {
      if (ended) return;
      const err = new ApiError(410, 'Expired', `watch of ${def.resource} closed: the client fell behind by more than ${limits.maxBufferedBytes} bytes; list again and resume from the list's resourceVersion`);
      const bytes = group.encodeObject(err.toStatus(), 'ERROR', false);
      // Out of the group first: nothing may follow the error.
      stop();
      direct([bytes]);
      sink.end();
    },
  };

  let group: WatchGroup;
  try {
    const joined = hub.join(def.resource, key, sel, () => new WatchGroup(spec, clock, limits, topics?.publisher), member);
    group = joined.channel;
    stops.push(joined.leave);
  } catch (e) {
    // The store is closing (or failed): the watch ends with a Status, as any other failure.
    stop();
    direct([frame(spec.framing, { type: 'ERROR', object: toApiError(e).toStatus() })]);
    sink.end();
    return;
  }

  const bookmark = (annotations?: Record<string, string>): Frame => {
    const metadata: Record<string, unknown> = { resourceVersion: String(store.revision()) };
    if (annotations) metadata.annotations = annotations;
    return group.encodeObject({ kind: def.kind, apiVersion: apiVersionOf(def), metadata }, 'BOOKMARK', false);
  };

  try {
    const rv = spec.resourceVersion;
    let frames: Frame[] = [];
    if (rv === undefined || rv === 0 || spec.sendInitialEvents) {
      // "Get state and start at most recent": the snapshot and the join are one synchronous step.
      const snapshot = hub.snapshot(def.resource, sel);
      if (spec.sendInitialEvents !== false) {
        frames = group.initial(`list:${snapshot.revision}`, () => snapshot.items.map((o, i) => group.encodeObject(o, 'ADDED', i === 0)));
      }
      if (spec.sendInitialEvents && spec.bookmarks) frames = [...frames, bookmark({ 'k8s.io/initial-events-end': 'true' })];
    } else {
      frames = group.initial(`replay:${rv}:${store.revision()}`, () => {
        const out: Frame[] = [];
        hub.replay(def.resource, rv, sel, (type, e) => out.push(out.length === 0 && spec.table !== undefined ? group.encodeObject(e.object, type, true) : group.encodeEvent(e, type)));
        return out;
      });
    }
    if (frames.length > 0 && spec.table !== undefined) member.headersPending = false;
    direct(frames);
  } catch (e) {
    if (!(e instanceof StoreError) && !(e instanceof ApiError)) console.error('watch failed:', e);
    const bytes = group.encodeObject(toApiError(e).toStatus(), 'ERROR', false);
    stop();
    direct([bytes]);
    sink.end();
    return;
  }
  if (topics && group.topic) {
    const topic = group.topic;
    topics.subscribe(topic);
    stops.push(() => topics.unsubscribe(topic));
  }

  // Headers must reach the client before the first event (client-node's informer waits for
  // them). uWebSockets.js sends them only with a non-empty body chunk, so an idle stream starts
  // with whitespace every client skips: a blank line (JSON decoders, client-node, python's
  // iter_resp_lines) or an SSE comment.
  if (!wrote && (spec.framing === 'ndjson' || spec.framing === 'sse')) direct([spec.framing === 'sse' ? ':\n\n' : '\n']);
  if (spec.timeoutSeconds !== undefined && spec.timeoutSeconds > 0) {
    const t = clock.setTimeout(finish, spec.timeoutSeconds * 1000);
    stops.push(() => clock.clearTimeout(t));
  }
  if (spec.bookmarks) stops.push(every(clock, limits.bookmarkEveryMs, () => direct([bookmark()])));
  if (spec.framing === 'sse') {
    stops.push(every(clock, limits.sseKeepAliveMs, () => {
      // Not a write that postpones the next one: an idle stream gets a comment every period.
      if (!wrote) sink.write(':\n\n');
      wrote = false;
    }));
  }
}
