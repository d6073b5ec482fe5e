// The behaviour every Client implementation shares, as one suite: LocalClient and RemoteClient
// (over each transport) must be indistinguishable to the agent, the scheduler and the CLI.
import { describe, it as test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { SimulatedClock } from 'xstate';
import { ClientError, type Client, type ClientWatchEvent, type ListQuery, type WatchHandlers, type WatchQuery } from '../../src/client/client.ts';
import { startInformer, type Informer, type InformerEvent } from '../../src/client/informer.ts';
import type { KubeObject, Pod } from '../../src/api/model/types.ts';
import type { LmdbStore } from '../../src/store/lmdb.ts';

export interface ClientFixture {
  client: Client;
  stop(): Promise<void>;
  /** Compacts the backing store's event log so that old revisions expire. */
  compact(): Promise<void>;
}

/** Polls `cond` every 10 ms until it holds, failing after `ms`. */
export async function until(cond: () => boolean, what: string, ms = 3000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Drops every retained event of `store` (as test/server/watch.test.ts does), then restores retention. */
export async function compactStore(store: LmdbStore): Promise<void> {
  const s = store as unknown as { retainEvents: number; retainMs: number };
  const saved = { retainEvents: s.retainEvents, retainMs: s.retainMs };
  s.retainEvents = 1;
  s.retainMs = -1;
  try {
    while ((await store.compact()) > 0);
  } finally {
    Object.assign(s, saved);
  }
}

/** A watch's deliveries, for assertions. */
export interface Recorder {
  events: ClientWatchEvent[];
  closed: { expired: boolean; message?: string }[];
  /** Revisions of the BOOKMARKs received, in order. */
  bookmarks: string[];
  /** `TYPE name` per event. */
  readonly seen: string[];
  stop: () => void;
}

/** Starts a watch that records what it is given. */
export function record(client: Client, resource: string, q: Parameters<Client['watch']>[1]): Recorder {
  const r: Recorder = {
    events: [],
    closed: [],
    bookmarks: [],
    get seen() {
      return r.events.map((e) => `${e.type} ${e.object.metadata.name}`);
    },
    stop: () => {},
  };
  r.stop = client.watch(resource, q, { event: (e) => r.events.push(e), bookmark: (rv) => r.bookmarks.push(rv), closed: (c) => r.closed.push(c) });
  return r;
}

/** A minimal valid pod. */
export const pod = (name: string, namespace: string, labels: Record<string, string> = {}): Pod =>
  ({ metadata: { name, namespace, labels }, spec: { containers: [{ name: 'c', image: 'i' }] } }) as Pod;

/** Asserts that `p` rejects with a ClientError of this code and reason. */
export async function rejectsWith(p: Promise<unknown>, code: number, reason: string): Promise<ClientError> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof ClientError, `expected a ClientError, got ${String(e)}`);
    assert.equal(e.code, code, e.message);
    assert.equal(e.reason, reason, e.message);
    return e;
  }
  assert.fail(`expected ${code} ${reason}, but the call succeeded`);
}

/**
 * `inner` with its watches under the test's control: each watch's query is recorded, the live one
 * can be ended as a dropped connection would end it, and given a BOOKMARK; lists are counted.
 */
export function controlled(inner: Client) {
  const queries: WatchQuery[] = [];
  let lists = 0;
  let live: { handlers: WatchHandlers; stop: () => void } | undefined;
  const client: Client = Object.assign(Object.create(inner) as Client, {
    list: <T extends KubeObject>(resource: string, q?: ListQuery) => {
      lists++;
      return inner.list<T>(resource, q);
    },
    watch: <T extends KubeObject>(resource: string, q: WatchQuery, h: WatchHandlers<T>) => {
      queries.push(q);
      const entry = { handlers: h as unknown as WatchHandlers, stop: () => {} };
      entry.stop = inner.watch<T>(resource, q, h);
      live = entry;
      return () => {
        if (live === entry) live = undefined;
        entry.stop();
      };
    },
  });
  return {
    client,
    queries,
    get lists() {
      return lists;
    },
    /** Ends the live watch as not expired (a connection that dropped). */
    cut(): void {
      const w = live;
      assert.ok(w, 'a live watch');
      live = undefined;
      w.stop();
      w.handlers.closed({ expired: false, message: 'connection reset' });
    },
    bookmark(rv: string): void {
      assert.ok(live, 'a live watch');
      live.handlers.bookmark?.(rv);
    },
  };
}

/** An informer over `client` that records its events (`TYPE name`) and its log. */
function inform(client: Client, namespace: string, clock: SimulatedClock, pageSize?: number) {
  const events: InformerEvent<Pod>[] = [];
  const logs: string[] = [];
  const informer: Informer<Pod> = startInformer<Pod>({ client, resource: 'pods', namespace, clock, log: (m) => logs.push(m), event: (e) => events.push(e), ...(pageSize ? { pageSize } : {}) });
  return { informer, events, logs, seen: () => events.map((e) => `${e.type} ${e.object.metadata.name}`) };
}

/** Registers the shared Client suite under `name`; `knownGaps` marks tests (by title) as todo, with why. */
export function clientContract(name: string, make: () => Promise<ClientFixture>, knownGaps: Record<string, string> = {}): void {
  // A known gap still runs, but as todo: it reports without failing the suite until fixed.
  const it = (title: string, fn: () => Promise<void>): void => {
    const todo = knownGaps[title];
    if (todo) test(title, { todo }, fn);
    else test(title, fn);
  };
  describe(`Client contract: ${name}`, () => {
    let fx: ClientFixture;
    let c: Client;
    let n = 0;
    /** A fresh namespace per test keeps lists and watches apart. */
    const namespace = async (): Promise<string> => {
      const ns = `c${++n}`;
      await c.create('namespaces', { metadata: { name: ns } });
      return ns;
    };

    before(async () => {
      fx = await make();
      c = fx.client;
    });
    after(async () => {
      await fx.stop();
    });

    it('creates, gets, updates and lists namespaced objects', async () => {
      const ns = await namespace();
      const created = await c.create<Pod>('pods', pod('a', ns, { app: 'x' }));
      assert.equal(created.kind, 'Pod');
      assert.equal(created.metadata.namespace, ns);
      assert.ok(created.metadata.uid);
      assert.ok(created.metadata.resourceVersion);
      const got = await c.get<Pod>('pods', ns, 'a');
      assert.deepEqual(got, created);
      got.metadata.labels = { app: 'y' };
      const updated = await c.update<Pod>('pods', got);
      assert.equal(updated.metadata.labels?.app, 'y');
      assert.ok(Number(updated.metadata.resourceVersion) > Number(created.metadata.resourceVersion));
      assert.equal(updated.metadata.uid, created.metadata.uid);
      await c.create('pods', pod('b', ns));
      const list = await c.list<Pod>('pods', { namespace: ns });
      assert.deepEqual(list.items.map((p) => p.metadata.name), ['a', 'b']);
      assert.ok(Number(list.resourceVersion) >= Number(updated.metadata.resourceVersion));
      assert.equal(list.continue, undefined);
      // Without a namespace the list spans them all.
      const all = await c.list('pods');
      assert.ok(all.items.some((p) => p.metadata.namespace === ns && p.metadata.name === 'b'));
    });

    it('handles cluster-scoped objects', async () => {
      const node = await c.create<KubeObject>('nodes', { metadata: { name: 'n1', labels: { zone: 'a' } } });
      assert.equal(node.kind, 'Node');
      assert.equal(node.metadata.namespace, undefined);
      assert.equal((await c.get('nodes', '', 'n1')).metadata.uid, node.metadata.uid);
      const patched = await c.patch('nodes', '', 'n1', { metadata: { labels: { zone: 'b' } } });
      assert.equal(patched.metadata.labels?.zone, 'b');
      assert.deepEqual((await c.list('nodes', { labelSelector: 'zone=b' })).items.map((o) => o.metadata.name), ['n1']);
      const deleted = await c.delete('nodes', '', 'n1');
      assert.equal(deleted.metadata.name, 'n1');
      assert.equal(deleted.metadata.uid, node.metadata.uid);
      await rejectsWith(c.get('nodes', '', 'n1'), 404, 'NotFound');
    });

    it('serves a named group (node.k8s.io RuntimeClass): create, get, list, watch, group-qualified errors', async () => {
      const rec = record(c, 'runtimeclasses', {});
      try {
        const rc = await c.create<KubeObject>('runtimeclasses', { metadata: { name: 'contract-lx' }, handler: 'lx' });
        assert.equal(rc.apiVersion, 'node.k8s.io/v1');
        assert.equal(rc.kind, 'RuntimeClass');
        assert.equal((await c.get<KubeObject>('runtimeclasses', '', 'contract-lx')).handler, 'lx');
        assert.ok((await c.list('runtimeclasses')).items.some((o) => o.metadata.name === 'contract-lx'));
        await until(() => rec.events.some((e) => e.type === 'ADDED' && e.object.metadata.name === 'contract-lx'), 'the RuntimeClass ADDED event');
        const gone = await rejectsWith(c.get('runtimeclasses', '', 'nope'), 404, 'NotFound');
        assert.equal(gone.message, 'runtimeclasses.node.k8s.io "nope" not found');
        const deleted = await c.delete('runtimeclasses', '', 'contract-lx');
        assert.equal(deleted.metadata.uid, rc.metadata.uid);
        assert.equal(deleted.apiVersion, 'node.k8s.io/v1');
      } finally {
        rec.stop();
      }
    });

    it('reports NotFound, AlreadyExists, Conflict and Invalid as ClientErrors', async () => {
      const ns = await namespace();
      const missing = await rejectsWith(c.get('pods', ns, 'nope'), 404, 'NotFound');
      assert.equal(missing.message, 'pods "nope" not found');
      await rejectsWith(c.patch('pods', ns, 'nope', { metadata: { labels: { a: 'b' } } }), 404, 'NotFound');
      await rejectsWith(c.delete('pods', ns, 'nope'), 404, 'NotFound');
      await rejectsWith(c.create('pods', pod('p', 'no-such-namespace')), 404, 'NotFound');
      const first = await c.create<Pod>('pods', pod('p', ns));
      const dup = await rejectsWith(c.create('pods', pod('p', ns)), 409, 'AlreadyExists');
      assert.equal(dup.message, 'pods "p" already exists');
      await c.patch('pods', ns, 'p', { metadata: { labels: { v: '2' } } });
      await rejectsWith(c.update('pods', first), 409, 'Conflict');
      await rejectsWith(c.updateStatus('pods', first), 409, 'Conflict');
      const bad = { metadata: { name: 'bad', namespace: ns }, spec: { containers: [] } } as unknown as Pod;
      await rejectsWith(c.create('pods', bad), 422, 'Invalid');
    });

    it('filters lists by label and field selectors and pages them', async () => {
      const ns = await namespace();
      await c.create('pods', pod('x', ns, { app: 'a', tier: 'web' }));
      await c.create('pods', pod('y', ns, { app: 'b', tier: 'web' }));
      await c.create('pods', pod('z', ns, { app: 'a' }));
      const names = async (q: Parameters<Client['list']>[1]) => (await c.list('pods', { namespace: ns, ...q })).items.map((o) => o.metadata.name);
      assert.deepEqual(await names({ labelSelector: 'app=a' }), ['x', 'z']);
      assert.deepEqual(await names({ labelSelector: 'app in (a,b),tier' }), ['x', 'y']);
      assert.deepEqual(await names({ labelSelector: '!tier' }), ['z']);
      assert.deepEqual(await names({ fieldSelector: 'metadata.name=y' }), ['y']);
      assert.deepEqual(await names({ fieldSelector: 'metadata.name!=y', labelSelector: 'tier=web' }), ['x']);
      assert.deepEqual((await c.list('pods', { fieldSelector: `metadata.namespace=${ns}` })).items.map((o) => o.metadata.name), ['x', 'y', 'z']);
      const page1 = await c.list('pods', { namespace: ns, limit: 2 });
      assert.deepEqual(page1.items.map((o) => o.metadata.name), ['x', 'y']);
      assert.ok(page1.continue);
      const page2 = await c.list('pods', { namespace: ns, limit: 2, continue: page1.continue });
      assert.deepEqual(page2.items.map((o) => o.metadata.name), ['z']);
      assert.equal(page2.continue, undefined);
      assert.equal(page2.resourceVersion, page1.resourceVersion);
      await rejectsWith(c.list('pods', { namespace: ns, labelSelector: 'app in (' }), 400, 'BadRequest');
      await rejectsWith(c.list('pods', { namespace: ns, fieldSelector: 'spec.nope=1' }), 400, 'BadRequest');
    });

    it('patches objects and their status, and replaces status alone', async () => {
      const ns = await namespace();
      await c.create('pods', pod('p', ns, { a: '1' }));
      const p1 = await c.patch<Pod>('pods', ns, 'p', { metadata: { labels: { b: '2' } }, status: { phase: 'Running' } });
      assert.deepEqual(p1.metadata.labels, { a: '1', b: '2' });
      assert.equal(p1.status?.phase, 'Pending', 'the main resource cannot write status');
      const p2 = await c.patch<Pod>('pods', ns, 'p', { metadata: { labels: { a: null } }, status: { phase: 'Running' } }, { status: true });
      assert.equal(p2.status?.phase, 'Running');
      assert.deepEqual(p2.metadata.labels, { a: '1', b: '2' }, 'a status patch leaves labels alone');
      const next = structuredClone(p2);
      next.status = { ...next.status, phase: 'Succeeded' };
      next.spec.containers = [{ name: 'c', image: 'other' }];
      const p3 = await c.updateStatus<Pod>('pods', next);
      assert.equal(p3.status?.phase, 'Succeeded');
      assert.equal(p3.spec.containers[0]?.image, 'i', 'a status write keeps the spec');
      assert.ok(Number(p3.metadata.resourceVersion) > Number(p2.metadata.resourceVersion));
    });

    it('deletes unbound pods at once and bound pods gracefully, until finalized', async () => {
      const ns = await namespace();
      const a = await c.create<Pod>('pods', pod('a', ns));
      const gone = await c.delete('pods', ns, 'a');
      assert.equal(gone.metadata.uid, a.metadata.uid);
      await rejectsWith(c.get('pods', ns, 'a'), 404, 'NotFound');

      const b = await c.create<Pod>('pods', pod('b', ns));
      await c.bind(ns, 'b', { nodeName: 'n1', uid: b.metadata.uid });
      await rejectsWith(c.delete('pods', ns, 'b', { preconditions: { uid: 'wrong' } }), 409, 'Conflict');
      const terminating = (await c.delete('pods', ns, 'b', { gracePeriodSeconds: 60 })) as Pod;
      assert.ok(terminating.metadata.deletionTimestamp);
      assert.equal(terminating.metadata.deletionGracePeriodSeconds, 60);
      assert.ok((await c.get('pods', ns, 'b')).metadata.deletionTimestamp, 'still there while terminating');
      await rejectsWith(c.finalize('pods', ns, 'b', { uid: 'wrong' }), 409, 'Conflict');
      await c.finalize('pods', ns, 'b', { uid: b.metadata.uid });
      await rejectsWith(c.get('pods', ns, 'b'), 404, 'NotFound');
      await rejectsWith(c.finalize('pods', ns, 'b'), 404, 'NotFound');

      // gracePeriodSeconds 0 removes even a bound pod at once.
      await c.create('pods', pod('c', ns));
      await c.bind(ns, 'c', { nodeName: 'n1' });
      await c.delete('pods', ns, 'c', { gracePeriodSeconds: 0 });
      await rejectsWith(c.get('pods', ns, 'c'), 404, 'NotFound');
    });

    it('binds a pod once, with uid and resourceVersion preconditions', async () => {
      const ns = await namespace();
      const p = await c.create<Pod>('pods', pod('p', ns));
      await rejectsWith(c.bind(ns, 'p', { nodeName: 'n1', uid: 'not-the-uid' }), 409, 'Conflict');
      await rejectsWith(c.bind(ns, 'p', { nodeName: 'n1', resourceVersion: '1' }), 409, 'Conflict');
      await c.bind(ns, 'p', { nodeName: 'n1', uid: p.metadata.uid, resourceVersion: p.metadata.resourceVersion });
      const bound = await c.get<Pod>('pods', ns, 'p');
      assert.equal(bound.spec.nodeName, 'n1');
      assert.equal(bound.status?.conditions?.find((x) => x.type === 'PodScheduled')?.status, 'True');
      const again = await rejectsWith(c.bind(ns, 'p', { nodeName: 'n2' }), 409, 'Conflict');
      assert.match(again.message, /already assigned to node "n1"/);
      await rejectsWith(c.bind(ns, 'nope', { nodeName: 'n1' }), 404, 'NotFound');
    });

    it('watches without a revision: ADDED for the current state, then changes in scope', async () => {
      const ns = await namespace();
      const other = await namespace();
      await c.create('pods', pod('a', ns));
      await c.create('pods', pod('b', ns));
      const w = record(c, 'pods', { namespace: ns });
      await until(() => w.events.length === 2, 'initial ADDED events');
      assert.deepEqual(w.seen.sort(), ['ADDED a', 'ADDED b']);
      await c.create('pods', pod('elsewhere', other));
      await c.create('pods', pod('c', ns));
      await c.patch('pods', ns, 'a', { metadata: { labels: { x: 'y' } } });
      await c.delete('pods', ns, 'b');
      await until(() => w.events.length === 5, 'live events');
      assert.deepEqual(w.seen.slice(2), ['ADDED c', 'MODIFIED a', 'DELETED b']);
      assert.equal(w.events[3]?.object.metadata.labels?.x, 'y');
      assert.deepEqual(w.closed, []);
      w.stop();
      await c.create('pods', pod('after-stop', ns));
      const sentinel = record(c, 'pods', { namespace: ns, fieldSelector: 'metadata.name=after-stop' });
      await until(() => sentinel.events.length === 1, 'the sentinel watch');
      sentinel.stop();
      assert.equal(w.events.length, 5, 'nothing after stop');
    });

    it('resumes from a resourceVersion with exactly the missed events', async () => {
      const ns = await namespace();
      await c.create('pods', pod('before', ns));
      const { resourceVersion } = await c.list('pods', { namespace: ns });
      for (let i = 0; i < 5; i++) await c.create('pods', pod(`p${i}`, ns));
      await c.delete('pods', ns, 'p1');
      const w = record(c, 'pods', { namespace: ns, resourceVersion });
      await until(() => w.events.length === 6, 'replayed events');
      await c.create('pods', pod('live', ns));
      await until(() => w.events.length === 7, 'the live event');
      assert.deepEqual(w.seen, ['ADDED p0', 'ADDED p1', 'ADDED p2', 'ADDED p3', 'ADDED p4', 'DELETED p1', 'ADDED live']);
      const revs = w.events.map((e) => Number(e.object.metadata.resourceVersion));
      assert.deepEqual([...revs].sort((x, y) => x - y), revs);
      assert.ok((revs[0] ?? 0) > Number(resourceVersion));
      assert.deepEqual(w.closed, []);
      w.stop();
    });

    it('reports selector transitions as ADDED and DELETED', async () => {
      const ns = await namespace();
      await c.create('pods', pod('x', ns, { app: 'a' }));
      const byLabel = record(c, 'pods', { namespace: ns, labelSelector: 'app=b' });
      const byName = record(c, 'pods', { fieldSelector: `metadata.name=x,metadata.namespace=${ns}` });
      await until(() => byName.events.length === 1, 'initial x');
      await c.create('pods', pod('y', ns, { app: 'b' }));
      await c.patch('pods', ns, 'x', { metadata: { labels: { app: 'b' } } });
      await c.patch('pods', ns, 'y', { metadata: { labels: { app: 'c' } } });
      await c.patch('pods', ns, 'x', { metadata: { labels: { more: '1' } } });
      await until(() => byLabel.events.length === 4, 'label events');
      assert.deepEqual(byLabel.seen, ['ADDED y', 'ADDED x', 'DELETED y', 'MODIFIED x']);
      assert.equal(byLabel.events[2]?.object.metadata.labels?.app, 'c', 'DELETED carries the object as it is now');
      await until(() => byName.events.length === 3, 'x events');
      assert.deepEqual(byName.seen, ['ADDED x', 'MODIFIED x', 'MODIFIED x']);
      byLabel.stop();
      byName.stop();
    });

    it('ends a watch with a bad selector as not expired', async () => {
      const w = record(c, 'pods', { labelSelector: 'app in (' });
      await until(() => w.closed.length === 1, 'closed');
      assert.equal(w.closed[0]?.expired, false);
      assert.ok(w.closed[0]?.message);
      assert.deepEqual(w.events, []);
    });

    it('sends a BOOKMARK after the initial events only when asked for bookmarks', async () => {
      const ns = await namespace();
      await c.create('pods', pod('a', ns));
      const { resourceVersion } = await c.list('pods', { namespace: ns });
      const asked = record(c, 'pods', { namespace: ns, allowWatchBookmarks: true });
      const plain = record(c, 'pods', { namespace: ns });
      await until(() => asked.bookmarks.length === 1 && plain.events.length === 1, 'the initial events and the bookmark');
      assert.deepEqual(asked.seen, ['ADDED a']);
      assert.ok(Number(asked.bookmarks[0]) >= Number(resourceVersion), `bookmark ${asked.bookmarks[0]} is at or after the list's ${resourceVersion}`);
      await c.create('pods', pod('b', ns));
      await until(() => asked.events.length === 2 && plain.events.length === 2, 'b');
      assert.deepEqual(plain.bookmarks, []);
      asked.stop();
      plain.stop();
    });

    it('informer: synced only after every listed object was delivered as ADDED; then changes in order, cached', async () => {
      const ns = await namespace();
      for (const name of ['a', 'b', 'c']) await c.create('pods', pod(name, ns, { v: '1' }));
      const clock = new SimulatedClock();
      // Pages of two: the list takes two calls, and synced must wait for both.
      const r = inform(c, ns, clock, 2);
      const marks: string[] = [];
      void r.informer.synced.then(() => marks.push(`synced after ${r.events.length}`));
      assert.equal(r.informer.hasSynced(), false);
      await r.informer.synced;
      assert.equal(r.informer.hasSynced(), true);
      assert.deepEqual(marks, ['synced after 3']);
      assert.deepEqual(r.seen(), ['ADDED a', 'ADDED b', 'ADDED c']);
      await c.create('pods', pod('d', ns));
      await c.patch('pods', ns, 'a', { metadata: { labels: { v: '2' } } });
      await c.delete('pods', ns, 'b');
      await c.patch('pods', ns, 'a', { metadata: { labels: { v: '3' } } });
      await until(() => r.events.length === 7, 'the live events');
      assert.deepEqual(r.seen().slice(3), ['ADDED d', 'MODIFIED a', 'DELETED b', 'MODIFIED a']);
      assert.equal(r.events[4]?.old?.metadata.labels?.v, '1', 'MODIFIED carries the version it replaces');
      assert.equal(r.events[6]?.old?.metadata.labels?.v, '2');
      assert.equal(r.informer.get(ns, 'a')?.metadata.labels?.v, '3');
      assert.equal(r.informer.get(ns, 'b'), undefined);
      assert.deepEqual(r.informer.list(ns).map((p) => p.metadata.name).sort(), ['a', 'c', 'd']);
      assert.equal(r.informer.size, 3);
      assert.equal(r.informer.resourceVersion, r.informer.get(ns, 'a')?.metadata.resourceVersion);
      r.informer.stop();
      await c.create('pods', pod('after-stop', ns));
      const sentinel = record(c, 'pods', { namespace: ns, fieldSelector: 'metadata.name=after-stop' });
      await until(() => sentinel.events.length === 1, 'the sentinel watch');
      sentinel.stop();
      assert.equal(r.events.length, 7, 'nothing after stop');
      assert.deepEqual(r.logs, []);
    });

    it('informer: a transform shapes what is cached and delivered', async () => {
      const ns = await namespace();
      await c.create('pods', pod('a', ns, { keep: 'me' }));
      const events: InformerEvent<Pod>[] = [];
      const slim = (p: Pod): Pod => ({ metadata: { name: p.metadata.name, namespace: p.metadata.namespace, uid: p.metadata.uid, resourceVersion: p.metadata.resourceVersion }, spec: { containers: [] } }) as Pod;
      const informer = startInformer<Pod>({ client: c, resource: 'pods', namespace: ns, clock: new SimulatedClock(), log: () => {}, transform: slim, event: (e) => events.push(e) });
      await informer.synced;
      await c.patch('pods', ns, 'a', { metadata: { labels: { keep: 'you' } } });
      await c.delete('pods', ns, 'a');
      await until(() => events.length === 3, 'ADDED, MODIFIED and DELETED');
      assert.deepEqual(events.map((e) => e.type), ['ADDED', 'MODIFIED', 'DELETED']);
      assert.ok(events.every((e) => e.object.metadata.labels === undefined && e.object.spec.containers.length === 0), 'every delivery is transformed');
      assert.equal(events[1]?.old?.metadata.labels, undefined, 'and so is the cache');
      informer.stop();
    });

    // Compacting: after the tests that resume from old revisions.
    it('informer: resumes from its last BOOKMARK after the watch drops, with no relist', async () => {
      const ns = await namespace();
      const other = await namespace();
      await c.create('pods', pod('a', ns));
      const ctl = controlled(c);
      const clock = new SimulatedClock();
      const r = inform(ctl.client, ns, clock);
      await r.informer.synced;
      assert.equal(ctl.queries[0]?.allowWatchBookmarks, true, 'the informer asks for bookmarks');
      // Writes out of scope move the revision on; only a bookmark tells the informer.
      for (let i = 0; i < 3; i++) await c.create('pods', pod(`x${i}`, other));
      const { resourceVersion: now } = await c.list('pods', { namespace: other });
      ctl.bookmark(now);
      assert.equal(r.informer.resourceVersion, now);
      ctl.cut();
      // The revision the informer listed at is compacted away; the bookmark's is not.
      await fx.compact();
      clock.increment(250);
      await c.create('pods', pod('b', ns));
      await until(() => r.events.length === 2, 'b');
      assert.deepEqual(r.seen(), ['ADDED a', 'ADDED b']);
      assert.equal(ctl.queries.length, 2);
      assert.equal(ctl.queries[1]?.resourceVersion, now, 'resumed from the bookmark');
      assert.equal(ctl.lists, 1, 'no relist');
      r.informer.stop();
    });

    it('informer: relists after a 410 and reports what changed while it was blind, exactly once', async () => {
      const ns = await namespace();
      for (const name of ['a', 'b', 'c', 'u']) await c.create('pods', pod(name, ns, { v: '1' }));
      const ctl = controlled(c);
      const clock = new SimulatedClock();
      const r = inform(ctl.client, ns, clock);
      await r.informer.synced;
      const oldC = r.informer.get(ns, 'c');
      ctl.cut();
      // While nobody watches: a deleted, b changed, c replaced by a new pod of its name, d new, u untouched.
      await c.delete('pods', ns, 'a');
      await c.patch('pods', ns, 'b', { metadata: { labels: { v: '2' } } });
      await c.delete('pods', ns, 'c');
      const newC = await c.create<Pod>('pods', pod('c', ns));
      await c.create('pods', pod('d', ns));
      await fx.compact();
      clock.increment(250);
      await until(() => r.events.length === 9, 'the relist diff');
      assert.deepEqual(r.seen().slice(4), ['DELETED a', 'MODIFIED b', 'DELETED c', 'ADDED c', 'ADDED d']);
      assert.equal(r.events[5]?.object.metadata.labels?.v, '2');
      assert.equal(r.events[6]?.object.metadata.uid, oldC?.metadata.uid);
      assert.equal(r.events[7]?.object.metadata.uid, newC.metadata.uid);
      assert.ok(r.logs.some((m) => /pods watch expired .*relisting/.test(m)), r.logs.join('\n'));
      assert.equal(ctl.lists, 2);
      // The watch goes on from the relist, and nothing is delivered twice.
      await c.create('pods', pod('e', ns));
      await until(() => r.events.length === 10, 'e');
      assert.equal(r.seen()[9], 'ADDED e');
      assert.deepEqual(r.informer.list(ns).map((p) => p.metadata.name).sort(), ['b', 'c', 'd', 'e', 'u']);
      r.informer.stop();
    });

    // Last: compaction raises the floor of every resource.
    it('closes with expired for a compacted resourceVersion', async () => {
      const ns = await namespace();
      const first = await c.create<KubeObject>('pods', pod('old', ns));
      for (let i = 0; i < 3; i++) await c.create('pods', pod(`n${i}`, ns));
      await fx.compact();
      const w = record(c, 'pods', { namespace: ns, resourceVersion: String(Number(first.metadata.resourceVersion) - 1) });
      await until(() => w.closed.length === 1, 'closed');
      assert.equal(w.closed[0]?.expired, true);
      assert.match(w.closed[0]?.message ?? '', /too old resource version/);
      assert.deepEqual(w.events, []);
      // A fresh watch (or one from a current revision) still works.
      const { resourceVersion } = await c.list('pods', { namespace: ns });
      const fresh = record(c, 'pods', { namespace: ns, resourceVersion });
      await c.create('pods', pod('new', ns));
      await until(() => fresh.events.length === 1, 'event after compaction');
      assert.deepEqual(fresh.seen, ['ADDED new']);
      fresh.stop();
      w.stop();
    });
  });
}
