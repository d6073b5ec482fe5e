// The watch hub: one store subscription per resource, whatever the number of watchers. Watchers
// that would receive the same bytes (same resource, namespace, selectors, framing and encoding)
// share a group; each store event is filtered once per group (selector transitions included) and
// handed to the group's channel once, which encodes it once and fans it out to its members. The
// API server's watches (src/server/watch.ts), the in-process Client and the namespace controller
// all watch through here.
import type { KubeObject } from '../api/model/types.ts';
import type { EventType, ListResult, Store, StoreEvent } from './store.ts';

/** Which objects a group sees. */
export interface Selection {
  namespace?: string;
  /** The label and field selectors (namespace is checked separately). */
  matches?: (obj: KubeObject) => boolean;
  /**
   * The `spec.nodeName=X` a field selector pins (each node agent's pod watch): the hub indexes
   * such groups by node, so an event is checked only against its node's groups, not all of them.
   */
  nodeName?: string;
}

/** What a group does with its events: encode once, deliver to every member. */
export interface Channel<M> {
  /** One event the group's selection sees, typed after selector transitions. */
  event(type: EventType, e: StoreEvent, members: ReadonlySet<M>): void;
  /** The last member left; the group is gone. */
  close?(): void;
}

interface Group<M> {
  readonly selection: Selection;
  readonly channel: Channel<M>;
  readonly members: Set<M>;
}

interface Feed {
  readonly groups: Map<string, Group<unknown>>;
  /** Groups pinned to one node, by node name (Kubernetes' watch cache indexes pods the same way). */
  readonly byNode: Map<string, Set<Group<unknown>>>;
  /** Every other group: they see every event. */
  readonly open: Set<Group<unknown>>;
  readonly stop: () => void;
}

const inScope = (sel: Selection, o: KubeObject | undefined): boolean =>
  o !== undefined && (sel.namespace === undefined || o.metadata.namespace === sel.namespace) && (sel.matches === undefined || sel.matches(o));

const nodeOf = (o: KubeObject | undefined): string | undefined => (o?.spec as { nodeName?: string } | undefined)?.nodeName;

/** The event type `sel` sees for `e`, or undefined: MODIFIED in or out of scope is ADDED or DELETED, as the watch cache reports it. */
export function seen(sel: Selection, e: StoreEvent): EventType | undefined {
  const now = inScope(sel, e.object);
  if (e.type !== 'MODIFIED') return now ? e.type : undefined;
  const before = e.prev === undefined ? now : inScope(sel, e.prev);
  if (now && before) return 'MODIFIED';
  if (now) return 'ADDED';
  return before ? 'DELETED' : undefined;
}

export class WatchHub {
  private readonly feeds = new Map<string, Feed>();

  constructor(private readonly store: Store) {}

  /** The current state `sel` sees, consistent with the revision it reports (the start of a watch). */
  snapshot(resource: string, sel: Selection): ListResult {
    return this.store.list(resource, { namespace: sel.namespace, filter: sel.matches });
  }

  /**
   * Calls `fn` for each event of `resource` after `fromRev` that `sel` sees, up to the current
   * revision (a resuming watcher's missed events). Throws StoreError('Expired') when they have
   * been compacted away.
   */
  replay(resource: string, fromRev: number, sel: Selection, fn: (type: EventType, e: StoreEvent) => void): void {
    // Store.watch replays synchronously before it returns; the subscription itself is not wanted.
    const stop = this.store.watch(resource, fromRev, (e) => {
      const type = seen(sel, e);
      if (type !== undefined) fn(type, e);
    });
    stop();
  }

  /**
   * Adds `member` to the group `key` of `resource` (made with `channel()` on first use). From now
   * on it receives every event after the store's current revision: call this in the same
   * synchronous step as the snapshot or replay it starts from, so nothing falls in between.
   * Returns the group's channel (shared with the other members) and the function that takes the
   * member out again.
   */
  join<M, C extends Channel<M>>(resource: string, key: string, sel: Selection, channel: () => C, member: M): { channel: C; leave: () => void } {
    const feed = this.feed(resource);
    let group = feed.groups.get(key) as Group<M> | undefined;
    if (!group) {
      group = { selection: sel, channel: channel(), members: new Set() };
      feed.groups.set(key, group as Group<unknown>);
      index(feed, group as Group<unknown>, true);
    }
    group.members.add(member);
    const joined = group;
    let left = false;
    const leave = (): void => {
      if (left) return;
      left = true;
      joined.members.delete(member);
      if (joined.members.size > 0 || feed.groups.get(key) !== joined) return;
      feed.groups.delete(key);
      index(feed, joined as Group<unknown>, false);
      joined.channel.close?.();
      if (feed.groups.size === 0 && this.feeds.get(resource) === feed) {
        this.feeds.delete(resource);
        feed.stop();
      }
    };
    return { channel: joined.channel as C, leave };
  }

  /**
   * In-process watchers: `fn` gets each event `sel` sees from now on. Watchers with equal `key`s
   * (their selectors as written) share a group, so `key` must say everything `sel` depends on.
   */
  listen(resource: string, key: string, sel: Selection, fn: Listener): () => void {
    return this.join(resource, `listen\u0000${key}`, sel, listenerChannel, { fn }).leave;
  }

  /** Number of groups watching `resource` (for tests and introspection). */
  groups(resource: string): number {
    return this.feeds.get(resource)?.groups.size ?? 0;
  }

  private feed(resource: string): Feed {
    let feed = this.feeds.get(resource);
    if (feed) return feed;
    const groups = new Map<string, Group<unknown>>();
    const byNode = new Map<string, Set<Group<unknown>>>();
    const open = new Set<Group<unknown>>();
    const deliver = (g: Group<unknown>, e: StoreEvent): void => {
      const type = seen(g.selection, e);
      if (type === undefined) return;
      try {
        g.channel.event(type, e, g.members);
      } catch (err) {
        // One broken group must not starve the others.
        console.error(`watch group for ${resource} failed:`, err);
      }
    };
    const stop = this.store.watch(resource, undefined, (e) => {
      for (const g of open) deliver(g, e);
      if (byNode.size === 0) return;
      const now = nodeOf(e.object);
      const before = nodeOf(e.prev);
      if (now !== undefined) for (const g of byNode.get(now) ?? []) deliver(g, e);
      // A pod that moved between nodes (never by a bind, but by a replace) leaves its old node's groups.
      if (before !== undefined && before !== now) for (const g of byNode.get(before) ?? []) deliver(g, e);
    });
    feed = { groups, byNode, open, stop };
    this.feeds.set(resource, feed);
    return feed;
  }
}

/** Files a group under its node (or with the open groups), or takes it out again. */
function index(feed: Feed, g: Group<unknown>, add: boolean): void {
  const node = g.selection.nodeName;
  if (node === undefined) {
    if (add) feed.open.add(g);
    else feed.open.delete(g);
    return;
  }
  let set = feed.byNode.get(node);
  if (add) {
    if (!set) feed.byNode.set(node, (set = new Set()));
    set.add(g);
  } else if (set) {
    set.delete(g);
    if (set.size === 0) feed.byNode.delete(node);
  }
}

/** A group key for a selection as the client wrote it: equal keys select equal objects. */
export const selectionKey = (namespace = '', labelSelector = '', fieldSelector = ''): string => `${namespace}\u0000${labelSelector}\u0000${fieldSelector}`;

/** An in-process watcher's callback: the event type after selector transitions, and the object. */
export type Listener = (type: EventType, object: KubeObject) => void;

const listenerChannel = (): Channel<{ fn: Listener }> => ({
  event(type, e, members) {
    for (const m of members) {
      try {
        m.fn(type, e.object);
      } catch (err) {
        console.error(`watcher of ${e.resource} failed:`, err);
      }
    }
  },
});

const hubs = new WeakMap<Store, WatchHub>();

/** The one hub of `store`: every watcher in this process shares its subscriptions. */
export function hubOf(store: Store): WatchHub {
  let hub = hubs.get(store);
  if (!hub) hubs.set(store, (hub = new WatchHub(store)));
  return hub;
}
