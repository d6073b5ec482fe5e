// One list-then-watch of a resource through the Client (client-go's informer, one consumer): a
// paged list delivered as ADDED events and then `synced`; a watch from the list's revision keeps
// an indexed cache current; BOOKMARKs move the revision a resumed watch starts after; a watch that
// ends is resumed from there after a back-off on the clock; a 410 relists and diffs the fresh list
// against the cache, so a consumer sees each change that happened while it was blind exactly once.
import type { KubeObject } from '../api/model/types.ts';
import type { Clock } from '../time/clock.ts';
import type { Client, ClientWatchEvent, WatchQuery } from './client.ts';

/** A change to the cache, as consumers see it. */
export interface InformerEvent<T extends KubeObject = KubeObject> extends ClientWatchEvent<T> {
  /** The cached version this event replaces (MODIFIED) or removes (DELETED). */
  old?: T;
}

/** Where an informer delivers changes; any subset. */
export interface InformerHandlers<T extends KubeObject> {
  /** Every change, in order (before the add/update/delete of the same change). */
  event?(e: InformerEvent<T>): void;
  add?(obj: T): void;
  update?(old: T, obj: T): void;
  delete?(obj: T): void;
}

/** Retry delays of lists and watches: the first, doubling up to the cap. */
export interface InformerBackoff {
  initialMs: number;
  maxMs: number;
}

export const DEFAULT_INFORMER_BACKOFF: InformerBackoff = { initialMs: 250, maxMs: 10_000 };

export interface InformerOptions<T extends KubeObject> extends InformerHandlers<T> {
  client: Client;
  resource: string;
  /** Scope of the list and the watch (the cache holds only what matches). */
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
  /** Retry timers run on it; tests pass a SimulatedClock. */
  clock: Clock;
  /** Failed lists and ended watches are reported here (never thrown). */
  log: (m: string) => void;
  backoff?: InformerBackoff;
  /** Objects per list page. */
  pageSize?: number;
  /**
   * Applied to every listed or watched object before it is cached and delivered (client-go's
   * SetTransform): keep only what the consumer reads, and the cache holds that much. It must keep
   * metadata's name, namespace, uid and resourceVersion.
   */
  transform?: (obj: T) => T;
}

/** A running informer. */
export interface Informer<T extends KubeObject> {
  /** Resolves once the first list has been delivered, every object as ADDED (never, if stopped first). */
  readonly synced: Promise<void>;
  hasSynced(): boolean;
  get(namespace: string, name: string): T | undefined;
  /** The cached objects, of one namespace or of all. */
  list(namespace?: string): T[];
  /** How many objects the cache holds. */
  readonly size: number;
  /** The revision a resumed watch starts after: the list's, then the newest event or bookmark seen. */
  readonly resourceVersion: string;
  /** Stops the watch and any retry; no handler is called afterwards. */
  stop(): void;
}

const PAGE = 500;

/**
 * Lists, then watches, `o.resource` until stop(), keeping a cache and calling the handlers.
 * @example
 * const nodes = startInformer<Node>({ client, resource: 'nodes', clock, log, event: (e) => onNode(e) });
 * await nodes.synced;
 * nodes.get('', 'n1');
 */
export function startInformer<T extends KubeObject>(o: InformerOptions<T>): Informer<T> {
  const { client, resource, clock, log } = o;
  const backoff = o.backoff ?? DEFAULT_INFORMER_BACKOFF;
  const pageSize = o.pageSize ?? PAGE;
  const transform = o.transform;
  const scope: Pick<WatchQuery, 'namespace' | 'labelSelector' | 'fieldSelector'> = {};
  if (o.namespace !== undefined) scope.namespace = o.namespace;
  if (o.labelSelector) scope.labelSelector = o.labelSelector;
  if (o.fieldSelector) scope.fieldSelector = o.fieldSelector;

  /** namespace → name → object ('' for cluster-scoped objects). */
  const cache = new Map<string, Map<string, T>>();
  let size = 0;
  let rv = '';
  let stopped = false;
  let synced = false;
  let stopWatch: (() => void) | undefined;
  let timer: unknown;
  let retryMs = backoff.initialMs;
  let markSynced: () => void = () => {};
  const syncedPromise = new Promise<void>((resolve) => (markSynced = resolve));

  const nsOf = (obj: T): string => obj.metadata.namespace ?? '';
  const nameOf = (obj: T): string => obj.metadata.name ?? '';

  function cached(namespace: string, name: string): T | undefined {
    return cache.get(namespace)?.get(name);
  }

  function put(obj: T): void {
    const namespace = nsOf(obj);
    let names = cache.get(namespace);
    if (!names) cache.set(namespace, (names = new Map()));
    const before = names.size;
    names.set(nameOf(obj), obj);
    size += names.size - before;
  }

  function remove(namespace: string, name: string): void {
    const names = cache.get(namespace);
    if (!names?.delete(name)) return;
    size--;
    if (names.size === 0) cache.delete(namespace);
  }

  /** Calls the handlers; a handler that throws is logged, and the informer carries on. */
  function deliver(e: InformerEvent<T>): void {
    try {
      o.event?.(e);
      if (e.type === 'ADDED') o.add?.(e.object);
      else if (e.type === 'MODIFIED') o.update?.(e.old as T, e.object);
      else o.delete?.(e.object);
    } catch (err) {
      log(`${resource} informer: handling ${e.type} ${nsOf(e.object)}/${nameOf(e.object)} failed: ${(err as Error).message}`);
    }
  }

  /** Takes `obj` into the cache and tells what changed (nothing when its revision is the cached one). */
  function upsert(obj: T): void {
    const old = cached(nsOf(obj), nameOf(obj));
    if (old === undefined) {
      put(obj);
      return deliver({ type: 'ADDED', object: obj });
    }
    if (old.metadata.uid !== obj.metadata.uid) {
      // Deleted and created again under the same name: two objects, not one that changed.
      put(obj);
      deliver({ type: 'DELETED', object: old, old });
      return deliver({ type: 'ADDED', object: obj });
    }
    if (old.metadata.resourceVersion === obj.metadata.resourceVersion) return;
    put(obj);
    deliver({ type: 'MODIFIED', object: obj, old });
  }

  function onEvent(e: ClientWatchEvent<T>): void {
    rv = e.object.metadata.resourceVersion ?? rv;
    if (e.type !== 'DELETED') return upsert(transform ? transform(e.object) : e.object);
    const old = cached(nsOf(e.object), nameOf(e.object));
    if (old === undefined) return;
    remove(nsOf(e.object), nameOf(e.object));
    deliver({ type: 'DELETED', object: transform ? transform(e.object) : e.object, old });
  }

  /** Makes the cache the listed state: DELETED for what vanished, then ADDED/MODIFIED in list order. */
  function replace(items: T[]): void {
    if (size > 0) {
      const listed = new Map<string, Set<string>>();
      for (const obj of items) {
        let names = listed.get(nsOf(obj));
        if (!names) listed.set(nsOf(obj), (names = new Set()));
        names.add(nameOf(obj));
      }
      for (const [namespace, names] of [...cache]) {
        for (const [name, old] of [...names]) {
          if (listed.get(namespace)?.has(name)) continue;
          remove(namespace, name);
          deliver({ type: 'DELETED', object: old, old });
        }
      }
    }
    for (const obj of items) upsert(transform ? transform(obj) : obj);
  }

  /** Every object in scope, page by page, at one revision. */
  async function listAll(): Promise<{ items: T[]; resourceVersion: string }> {
    let page = await client.list<T>(resource, { ...scope, limit: pageSize });
    const resourceVersion = page.resourceVersion;
    const items = page.items;
    while (page.continue && !stopped) {
      page = await client.list<T>(resource, { ...scope, limit: pageSize, continue: page.continue });
      for (const obj of page.items) items.push(obj);
    }
    return { items, resourceVersion };
  }

  /** Runs `what` after the current back-off, and doubles it. */
  function later(what: () => void): void {
    if (stopped) return;
    const delay = retryMs;
    retryMs = Math.min(backoff.maxMs, retryMs * 2);
    timer = clock.setTimeout(() => {
      timer = undefined;
      what();
    }, delay);
  }

  async function relist(): Promise<void> {
    stopWatch?.();
    stopWatch = undefined;
    let answer: { items: T[]; resourceVersion: string };
    try {
      answer = await listAll();
    } catch (e) {
      if (stopped) return;
      log(`listing ${resource} failed, retrying in ${retryMs / 1000}s: ${(e as Error).message}`);
      later(() => void relist());
      return;
    }
    if (stopped) return;
    replace(answer.items);
    rv = answer.resourceVersion;
    if (!synced) {
      synced = true;
      markSynced();
    }
    watch(true);
  }

  function watch(afterList: boolean): void {
    if (stopped) return;
    let over = false;
    // Whether this watch delivered anything: a watch from a fresh list that expires at once would
    // otherwise relist in a loop.
    let productive = false;
    const alive = (): boolean => {
      if (over || stopped) return false;
      productive = true;
      retryMs = backoff.initialMs;
      return true;
    };
    let stop = (): void => {};
    const end = (): void => {
      over = true;
      stop();
      if (stopWatch === end) stopWatch = undefined;
    };
    stopWatch = end;
    const query: WatchQuery = { ...scope, allowWatchBookmarks: true };
    if (rv) query.resourceVersion = rv;
    const closed = (why: { expired: boolean; message?: string }): void => {
      if (over || stopped) return;
      end();
      if (why.expired) {
        // Events were compacted away: only a fresh list can tell what changed.
        log(`${resource} watch expired (${why.message ?? '410 Gone'}), relisting`);
        if (productive || !afterList) void relist();
        else later(() => void relist());
      } else {
        log(`${resource} watch ended${why.message ? ` (${why.message})` : ''}, resuming from revision ${rv} in ${retryMs / 1000}s`);
        later(() => watch(false));
      }
    };
    try {
      stop = client.watch<T>(resource, query, {
        event: (e) => {
          if (alive()) onEvent(e);
        },
        bookmark: (revision) => {
          if (alive()) rv = revision;
        },
        closed,
      });
    } catch (e) {
      // Clients report failures through closed(); one that throws is treated the same way.
      closed({ expired: false, message: (e as Error).message });
      return;
    }
    // Ended before the watch call returned: let go of what it holds now.
    if (over) stop();
  }

  void relist();
  return {
    synced: syncedPromise,
    hasSynced: () => synced,
    get: cached,
    list(namespace) {
      if (namespace !== undefined) return [...(cache.get(namespace)?.values() ?? [])];
      const all: T[] = [];
      for (const names of cache.values()) for (const obj of names.values()) all.push(obj);
      return all;
    },
    get size() {
      return size;
    },
    get resourceVersion() {
      return rv;
    },
    stop() {
      stopped = true;
      stopWatch?.();
      stopWatch = undefined;
      if (timer !== undefined) clock.clearTimeout(timer);
      timer = undefined;
    },
  };
}
