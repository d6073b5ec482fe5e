// The LMDB store: one mutation path, revisions, optimistic concurrency, the event log and its
// compaction, and what survives a reopen.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { LmdbStore } from '../../src/store/lmdb.ts';
import { SimulatedClock } from 'xstate';
import { StoreError, type StoreEvent } from '../../src/store/store.ts';
import type { KubeObject, Pod } from '../../src/api/model/types.ts';
import { openStore, tempDir } from '../helpers/server.ts';

const pod = (name: string, extra: Partial<KubeObject> = {}): KubeObject => ({
  metadata: { name, namespace: 'default', labels: { app: 'web' } },
  spec: { containers: [{ name: 'c', image: 'nginx' }] },
  ...extra,
});

const isStoreError = (reason: string) => (e: unknown): boolean => e instanceof StoreError && e.reason === reason;

describe('store writes', () => {
  it('creates with uid, creationTimestamp, generation and the resourceVersion it stores (bug 3)', async () => {
    const { store, close } = await openStore();
    const created = await store.create('pods', pod('a'));
    assert.match(created.metadata.uid ?? '', /^[0-9a-f-]{36}$/);
    assert.match(created.metadata.creationTimestamp ?? '', /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    assert.equal(created.metadata.generation, 1);
    assert.equal(created.status?.phase, 'Pending');
    const stored = store.get('pods', 'default', 'a');
    assert.equal(stored?.metadata.resourceVersion, created.metadata.resourceVersion);
    assert.equal(Number(created.metadata.resourceVersion), store.revision());
    await close();
  });

  it('gives every write a new, larger revision', async () => {
    const { store, close } = await openStore();
    const a = await store.create('pods', pod('a'));
    const b = await store.update('pods', 'default', 'a', (p) => ({ ...(p as KubeObject), metadata: { ...p?.metadata, labels: { app: 'x' } } }));
    const c = await store.create('pods', pod('b'));
    const revs = [a, b.object, c].map((o) => Number(o.metadata.resourceVersion));
    assert.deepEqual([...revs].sort((x, y) => x - y), revs);
    assert.equal(new Set(revs).size, 3);
    await close();
  });

  it('lets exactly one of many concurrent creates of one name succeed (bug 4)', async () => {
    const { store, close } = await openStore();
    const results = await Promise.allSettled(Array.from({ length: 20 }, () => store.create('pods', pod('same'))));
    assert.equal(results.filter((r) => r.status === 'fulfilled').length, 1);
    for (const r of results) if (r.status === 'rejected') assert.ok(isStoreError('AlreadyExists')(r.reason));
    await close();
  });

  it('commits concurrent writers together and acknowledges each with its own revision', async () => {
    const { store, close } = await openStore();
    const before = store.revision();
    const created = await Promise.all(Array.from({ length: 200 }, (_, i) => store.create('pods', pod(`p${i}`))));
    const revs = created.map((o) => Number(o.metadata.resourceVersion));
    assert.equal(new Set(revs).size, 200);
    assert.equal(store.revision(), before + 200);
    assert.equal(store.list('pods').items.length, 200);
    await close();
  });

  it('loses no update when many writers read-modify-write one object at once', async () => {
    const { store, close } = await openStore();
    await store.create('pods', pod('n', { metadata: { name: 'n', namespace: 'default', labels: { n: '0' } } }));
    const bump = (p: KubeObject | undefined): KubeObject => ({ ...(p as KubeObject), metadata: { ...p?.metadata, labels: { n: String(Number(p?.metadata.labels?.n) + 1) } } });
    const results = await Promise.all(Array.from({ length: 25 }, () => store.update('pods', 'default', 'n', bump)));
    assert.equal(store.get('pods', 'default', 'n')?.metadata.labels?.n, '25');
    assert.equal(new Set(results.map((r) => r.object.metadata.resourceVersion)).size, 25);
    // Concurrent binds of one pod: exactly one wins.
    const binds = await Promise.allSettled(Array.from({ length: 10 }, (_, i) => store.bind('pods', 'default', 'n', { nodeName: `node-${i}` })));
    assert.equal(binds.filter((b) => b.status === 'fulfilled').length, 1);
    for (const b of binds) if (b.status === 'rejected') assert.ok(isStoreError('Conflict')(b.reason));
    await close();
  });

  it('refuses an update carrying a stale resourceVersion (409 Conflict)', async () => {
    const { store, close } = await openStore();
    const a = await store.create('pods', pod('a'));
    await store.update('pods', 'default', 'a', (p) => ({ ...(p as KubeObject), metadata: { ...p?.metadata, labels: { v: '2' } } }));
    await assert.rejects(store.update('pods', 'default', 'a', () => ({ ...a, metadata: { ...a.metadata, labels: { v: '3' } } })), isStoreError('Conflict'));
    assert.equal(store.get('pods', 'default', 'a')?.metadata.labels?.v, '2');
    await close();
  });

  it('keeps uid and status when a replace omits them (bug 8)', async () => {
    const { store, close } = await openStore();
    const a = await store.create('pods', pod('a'));
    await store.update('pods', 'default', 'a', (p) => ({ ...(p as KubeObject), status: { phase: 'Running', podIP: '10.88.0.2' } }), { subresource: 'status' });
    const { object } = await store.update('pods', 'default', 'a', () => pod('a', { metadata: { name: 'a', namespace: 'default', labels: { v: '2' } } }));
    assert.equal(object.metadata.uid, a.metadata.uid);
    assert.equal(object.status?.phase, 'Running');
    assert.equal(object.metadata.labels?.v, '2');
    await close();
  });

  it('writes only status through the status subresource', async () => {
    const { store, close } = await openStore();
    await store.create('pods', pod('a'));
    const { object } = await store.update('pods', 'default', 'a', (p) => ({ ...(p as KubeObject), spec: { containers: [] }, status: { phase: 'Running' } }), { subresource: 'status' });
    assert.equal(object.status?.phase, 'Running');
    assert.equal((object.spec?.containers as unknown[]).length, 1);
    await close();
  });

  it('skips a no-op update: no new revision, no event', async () => {
    const { store, close } = await openStore();
    const a = await store.create('pods', pod('a'));
    const events: StoreEvent[] = [];
    store.watch('pods', store.revision(), (e) => events.push(e));
    const { object } = await store.update('pods', 'default', 'a', (p) => p as KubeObject);
    assert.equal(object.metadata.resourceVersion, a.metadata.resourceVersion);
    assert.equal(events.length, 0);
    await close();
  });

  it('bumps generation when the spec changes, not when labels do', async () => {
    const { store, close } = await openStore();
    await store.create('services', { metadata: { name: 's', namespace: 'default' }, spec: { ports: [{ port: 80 }] } });
    const l = await store.update('services', 'default', 's', (s) => ({ ...(s as KubeObject), metadata: { ...s?.metadata, labels: { a: 'b' } } }));
    assert.equal(l.object.metadata.generation, 1);
    const sp = await store.update('services', 'default', 's', (s) => ({ ...(s as KubeObject), spec: { ports: [{ port: 81 }] } }));
    assert.equal(sp.object.metadata.generation, 2);
    await close();
  });

  it('rejects invalid objects with field causes and writes nothing', async () => {
    const { store, close } = await openStore();
    const before = store.revision();
    await assert.rejects(
      store.create('pods', { metadata: { name: 'Bad_Name', namespace: 'default' }, spec: { containers: [{ name: 'c', image: 'i' }] } }),
      (e) => isStoreError('Invalid')(e) && (e as StoreError).causes.some((c) => c.field === 'metadata.name'),
    );
    assert.equal(store.revision(), before);
    assert.equal(store.list('pods').items.length, 0);
    await close();
  });

  it('refuses objects in a namespace that does not exist', async () => {
    const { store, close } = await openStore();
    await assert.rejects(store.create('pods', pod('a', { metadata: { name: 'a', namespace: 'nope' } })), isStoreError('NamespaceNotFound'));
    await close();
  });

  it('stores cluster-scoped objects under their name even when the body names a namespace (bug 18)', async () => {
    const { store, close } = await openStore();
    await store.create('nodes', { metadata: { name: 'n1', namespace: 'default' } });
    const node = store.get('nodes', '', 'n1');
    assert.equal(node?.metadata.name, 'n1');
    assert.equal(node?.metadata.namespace, undefined);
    await close();
  });

  it('does nothing on a dry run', async () => {
    const { store, close } = await openStore();
    const before = store.revision();
    const out = await store.create('pods', pod('a'), { dryRun: true });
    assert.equal(out.metadata.name, 'a');
    assert.equal(store.get('pods', 'default', 'a'), undefined);
    assert.equal(store.revision(), before);
    await close();
  });

  it('names objects from generateName', async () => {
    const { store, close } = await openStore();
    const a = await store.create('pods', { metadata: { generateName: 'web-', namespace: 'default' }, spec: { containers: [{ name: 'c', image: 'i' }] } });
    assert.match(a.metadata.name ?? '', /^web-[a-z0-9]{5}$/);
    await close();
  });
});

describe('strategies guard every write', () => {
  it('binds through the pod strategy: node, PodScheduled at the clock\'s time, once (409 after)', async () => {
    const clock = new SimulatedClock();
    clock.set(Date.parse('2026-11-26T12:00:00Z'));
    const { store, close } = await openStore({ clock });
    const a = await store.create('pods', pod('a'));
    const bound = (await store.bind('pods', 'default', 'a', { nodeName: 'n1', uid: a.metadata.uid })) as Pod;
    assert.equal(bound.spec.nodeName, 'n1');
    assert.deepEqual(bound.status?.conditions, [{ type: 'PodScheduled', status: 'True', lastTransitionTime: '2026-11-26T12:00:00Z' }]);
    assert.equal(Number(bound.metadata.resourceVersion), store.revision());
    await assert.rejects(store.bind('pods', 'default', 'a', { nodeName: 'n2' }), (e) => isStoreError('Conflict')(e) && /already assigned to node "n1"/.test((e as StoreError).detail ?? ''));
    await assert.rejects(store.bind('pods', 'default', 'a', { nodeName: 'n2', resourceVersion: a.metadata.resourceVersion }), isStoreError('Conflict'));
    await assert.rejects(store.bind('pods', 'default', 'gone', { nodeName: 'n1' }), isStoreError('NotFound'));
    assert.equal((store.get('pods', 'default', 'a') as Pod).spec.nodeName, 'n1');
    await close();
  });

  it('refuses to bind a kind whose strategy has no binding', async () => {
    const { store, close } = await openStore();
    await store.create('services', { metadata: { name: 's', namespace: 'default' }, spec: { ports: [{ port: 80 }] } });
    await assert.rejects(store.bind('services', 'default', 's', { nodeName: 'n1' }), isStoreError('BadRequest'));
    await close();
  });

  it('keeps status out of main writes and spec out of status writes', async () => {
    const { store, close } = await openStore();
    await store.create('pods', pod('a'));
    await store.update('pods', 'default', 'a', (p) => ({ ...(p as KubeObject), status: { phase: 'Running' } }), { subresource: 'status' });
    const main = await store.update('pods', 'default', 'a', (p) => ({ ...(p as KubeObject), metadata: { ...p?.metadata, labels: { v: '2' } }, status: { phase: 'Failed' } }));
    assert.equal(main.object.metadata.labels?.v, '2');
    assert.equal(main.object.status?.phase, 'Running', 'a main write cannot set status');
    // Nor bind: spec.nodeName is the binding's to set.
    await assert.rejects(store.update('pods', 'default', 'a', (p) => ({ ...(p as KubeObject), spec: { ...p?.spec, nodeName: 'sneaky' } })), isStoreError('Invalid'));
    const status = await store.update('pods', 'default', 'a', (p) => ({ ...(p as KubeObject), spec: { containers: [], nodeName: 'sneaky' }, status: { phase: 'Succeeded' } }), { subresource: 'status' });
    assert.equal(status.object.status?.phase, 'Succeeded');
    assert.equal((status.object as Pod).spec.nodeName, undefined, 'a status write cannot bind');
    assert.equal((status.object as Pod).spec.containers.length, 1);
    await close();
  });

  it('lets events, and nothing else, be created in a terminating namespace', async () => {
    const { store, close } = await openStore();
    await store.create('namespaces', { metadata: { name: 'going' } });
    await store.create('pods', pod('keep', { metadata: { name: 'keep', namespace: 'going' } }));
    await store.delete('namespaces', '', 'going');
    await assert.rejects(store.create('pods', pod('b', { metadata: { name: 'b', namespace: 'going' } })), isStoreError('NamespaceTerminating'));
    const ev = await store.create('events', { metadata: { name: 'e1', namespace: 'going' }, involvedObject: { kind: 'Pod', name: 'keep', namespace: 'going' }, reason: 'Killing', message: 'bye' });
    assert.equal(ev.metadata.namespace, 'going');
    await close();
  });
});

describe('store deletes', () => {
  it('removes an unbound pod at once', async () => {
    const { store, close } = await openStore();
    await store.create('pods', pod('a'));
    const r = await store.delete('pods', 'default', 'a');
    assert.equal(r.removed, true);
    assert.equal(store.get('pods', 'default', 'a'), undefined);
    await close();
  });

  it('keeps a bound pod with deletionTimestamp until it is finalized', async () => {
    const clock = new SimulatedClock();
    clock.set(Date.parse('2026-11-26T12:00:00Z'));
    const { store, close } = await openStore({ clock });
    await store.create('pods', pod('a', { spec: { containers: [{ name: 'c', image: 'i' }], nodeName: 'n1', terminationGracePeriodSeconds: 10 } }));
    const r = await store.delete('pods', 'default', 'a');
    assert.equal(r.removed, false);
    assert.equal(r.object.metadata.deletionTimestamp, '2026-11-26T12:00:10Z');
    assert.equal(r.object.metadata.deletionGracePeriodSeconds, 10);
    // A second delete with a longer grace changes nothing; a shorter one shortens it.
    const again = await store.delete('pods', 'default', 'a', { gracePeriodSeconds: 60 });
    assert.equal(again.object.metadata.deletionTimestamp, '2026-11-26T12:00:10Z');
    const shorter = await store.delete('pods', 'default', 'a', { gracePeriodSeconds: 2 });
    assert.equal(shorter.object.metadata.deletionTimestamp, '2026-11-26T12:00:02Z');
    await store.finalize('pods', 'default', 'a');
    assert.equal(store.get('pods', 'default', 'a'), undefined);
    await close();
  });

  it('honours uid and resourceVersion preconditions', async () => {
    const { store, close } = await openStore();
    await store.create('pods', pod('a'));
    await assert.rejects(store.delete('pods', 'default', 'a', { preconditions: { uid: 'other' } }), isStoreError('Conflict'));
    await assert.rejects(store.delete('pods', 'default', 'a', { preconditions: { resourceVersion: '1' } }), isStoreError('Conflict'));
    assert.ok(store.get('pods', 'default', 'a'));
    await close();
  });
});

describe('store lists', () => {
  it('pages with limit and continue, in key order, across namespaces', async () => {
    const { store, close } = await openStore();
    await store.create('namespaces', { metadata: { name: 'other' } });
    for (const n of ['c', 'a', 'b']) await store.create('pods', pod(n));
    await store.create('pods', pod('z', { metadata: { name: 'z', namespace: 'other' } }));
    const first = store.list('pods', { limit: 2 });
    assert.deepEqual(first.items.map((p) => p.metadata.name), ['a', 'b']);
    assert.equal(first.remainingItemCount, 2);
    const second = store.list('pods', { limit: 2, continue: first.continue });
    assert.deepEqual(second.items.map((p) => `${p.metadata.namespace}/${p.metadata.name}`), ['default/c', 'other/z']);
    assert.equal(second.continue, undefined);
    assert.deepEqual(store.list('pods', { namespace: 'other' }).items.map((p) => p.metadata.name), ['z']);
    await close();
  });

  it('does not let a namespace prefix match a longer namespace name', async () => {
    const { store, close } = await openStore();
    await store.create('namespaces', { metadata: { name: 'default2' } });
    await store.create('pods', pod('x', { metadata: { name: 'x', namespace: 'default2' } }));
    assert.equal(store.list('pods', { namespace: 'default' }).items.length, 0);
    await close();
  });
});

describe('store watch and event log', () => {
  it('replays exactly the events after a revision, then streams new ones', async () => {
    const { store, close } = await openStore();
    const a = await store.create('pods', pod('a'));
    await store.create('pods', pod('b'));
    await store.create('services', { metadata: { name: 's', namespace: 'default' } });
    await store.delete('pods', 'default', 'a');
    const seen: string[] = [];
    store.watch('pods', Number(a.metadata.resourceVersion), (e) => seen.push(`${e.type} ${e.object.metadata.name} ${e.rev}`));
    assert.equal(seen.length, 2);
    assert.match(seen[0] ?? '', /^ADDED b /);
    assert.match(seen[1] ?? '', /^DELETED a /);
    await store.create('pods', pod('c'));
    assert.match(seen[2] ?? '', /^ADDED c /);
    assert.equal(seen.length, 3);
    await close();
  });

  it('gives DELETED events the deletion revision', async () => {
    const { store, close } = await openStore();
    await store.create('pods', pod('a'));
    const events: StoreEvent[] = [];
    store.watch('pods', store.revision(), (e) => events.push(e));
    await store.delete('pods', 'default', 'a');
    assert.equal(events[0]?.type, 'DELETED');
    assert.equal(events[0]?.object.metadata.resourceVersion, String(events[0]?.rev));
    await close();
  });

  it('keeps the log bounded and expires only resources whose events were dropped (bug 14)', async () => {
    const clock = new SimulatedClock();
    const { store, close } = await openStore({ clock, retainEvents: 10, retainMs: 1000 });
    const nodeStart = store.revision();
    const podRev = Number((await store.create('pods', pod('idle'))).metadata.resourceVersion);
    await store.create('nodes', { metadata: { name: 'n1' } });
    for (let i = 0; i < 30; i++) await store.update('nodes', '', 'n1', (n) => ({ ...(n as KubeObject), metadata: { ...n?.metadata, labels: { beat: String(i) } } }));
    // Everything is younger than the time window: nothing goes yet.
    assert.equal(await store.compact(), 0);
    clock.increment(10_000);
    const dropped = await store.compact();
    assert.ok(dropped >= 20, `dropped ${dropped}`);
    // An idle pod watcher's revision is still good: no pod event after it was dropped.
    const seen: string[] = [];
    store.watch('pods', podRev, (e) => seen.push(e.type));
    assert.deepEqual(seen, []);
    // A node watcher that far behind must relist.
    assert.throws(() => store.watch('nodes', nodeStart + 2, () => {}), isStoreError('Expired'));
    await close();
  });

  it('replays log records written before the log shared the objects table\'s encoding', async () => {
    const { dir, remove } = tempDir();
    const path = join(dir, 'store');
    let store = new LmdbStore({ path, compactEveryMs: 0 });
    await store.create('namespaces', { metadata: { name: 'default' } });
    const a = await store.create('pods', pod('a'));
    const rev = store.revision();
    // An older store's record: the objects themselves, not their bytes.
    const old = { ...a, metadata: { ...a.metadata, labels: { v: 'old' }, resourceVersion: String(rev + 1) } };
    const log = store.env.openDB<unknown, number>('log', { encoding: 'msgpack', sharedStructuresKey: Symbol.for('structures') });
    await log.put(rev + 1, { t: 'MODIFIED', r: 'pods', o: old, p: a, at: 0 });
    await store.close();
    store = new LmdbStore({ path, compactEveryMs: 0 });
    assert.equal(store.revision(), rev + 1, 'the newest log record is the revision');
    const seen: StoreEvent[] = [];
    store.watch('pods', rev - 1, (e) => seen.push(e));
    assert.deepEqual(seen.map((e) => [e.type, e.object.metadata.labels?.v, e.prev?.metadata.labels?.app]), [['ADDED', undefined, undefined], ['MODIFIED', 'old', 'web']]);
    assert.equal(seen[0]?.object.metadata.uid, a.metadata.uid);
    // And today's records: the bytes, with the replaced version's (the stored one, not the log's).
    await store.update('pods', 'default', 'a', (p) => ({ ...(p as KubeObject), metadata: { ...p?.metadata, labels: { v: 'new' } } }));
    const replay: StoreEvent[] = [];
    store.watch('pods', rev + 1, (e) => replay.push(e));
    assert.deepEqual(replay.map((e) => [e.type, e.rev, e.object.metadata.labels?.v, e.prev?.metadata.resourceVersion]), [['MODIFIED', rev + 2, 'new', a.metadata.resourceVersion]]);
    await store.close();
    remove();
  });

  it('survives a reopen: objects, revision and log are all there', async () => {
    const { dir, remove } = tempDir();
    const path = join(dir, 'store');
    let store = new LmdbStore({ path, compactEveryMs: 0 });
    await store.create('namespaces', { metadata: { name: 'default' } });
    const a = await store.create('pods', pod('a'));
    const rev = store.revision();
    await store.close();
    store = new LmdbStore({ path, compactEveryMs: 0 });
    assert.equal(store.revision(), rev);
    assert.equal(store.get('pods', 'default', 'a')?.metadata.uid, a.metadata.uid);
    const seen: string[] = [];
    store.watch('pods', rev - 1, (e) => seen.push(e.object.metadata.name as string));
    assert.deepEqual(seen, ['a']);
    const b = await store.create('pods', pod('b'));
    assert.equal(Number(b.metadata.resourceVersion), rev + 1);
    await store.close();
    remove();
  });
});
