// The watch hub as watchers see it: a group shares one encoding of each event (and one topic
// publish on uWebSockets.js), a slow watcher is cut with 410 while its group-mates go on, a
// watcher joining mid-stream gets neither duplicates nor gaps, and bookmarks and timeouts run on
// the injected clock.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { SimulatedClock } from 'xstate';
import { resourceDef, type ResourceDef } from '../../src/api/model/resources.ts';
import type { KubeObject } from '../../src/api/model/types.ts';
import { hubOf } from '../../src/store/hub.ts';
import type { LmdbStore } from '../../src/store/lmdb.ts';
import type { Publisher, Sink, Topics } from '../../src/server/http.ts';
import { DEFAULT_WATCH_LIMITS, runWatch, WATCH_STATS, type Framing, type WatchSpec } from '../../src/server/watch.ts';
import { openStore } from '../helpers/server.ts';

interface Event { type: string; object: { code?: number; metadata: { name?: string; resourceVersion?: string } } }

const pods = resourceDef('pods') as ResourceDef;
const pod = (name: string, labels: Record<string, string> = {}) => ({ metadata: { name, namespace: 'default', labels }, spec: { containers: [{ name: 'c', image: 'i' }] } });

/** A sink that records what it is given; `backlog` is what it reports as still queued. */
class FakeSink implements Sink {
  frames: (string | Uint8Array)[] = [];
  ended = false;
  backlog = 0;
  topics?: Topics;
  private closers: (() => void)[] = [];
  write(d: string | Uint8Array): void {
    if (!this.ended) this.frames.push(d);
  }
  buffered(): number {
    return this.backlog;
  }
  end(): void {
    this.ended = true;
    for (const c of this.closers.splice(0)) c();
  }
  onClose(cb: () => void): void {
    this.closers.push(cb);
  }
  /** The client leaves. */
  close(): void {
    this.end();
  }
  get events(): Event[] {
    return this.frames.filter((f) => String(f).trim() !== '').map((f) => JSON.parse(String(f)) as Event);
  }
  get names(): string[] {
    return this.events.map((e) => `${e.type} ${e.object.metadata.name ?? e.object.code}`);
  }
}

/** uWebSockets.js topics in miniature: publish reaches every subscribed sink, in order. */
class FakePublisher implements Publisher {
  published = 0;
  readonly subscribers = new Map<string, Set<FakeSink>>();
  publish(topic: string, data: string | Uint8Array): void {
    this.published++;
    for (const s of this.subscribers.get(topic) ?? []) s.write(data);
  }
  sink(): FakeSink {
    const sink = new FakeSink();
    sink.topics = {
      publisher: this,
      subscribe: (t) => {
        if (!this.subscribers.has(t)) this.subscribers.set(t, new Set());
        this.subscribers.get(t)?.add(sink);
      },
      unsubscribe: (t) => void this.subscribers.get(t)?.delete(sink),
      send: (frames) => {
        for (const f of frames) sink.write(f);
      },
    };
    return sink;
  }
}

const spec = (over: Partial<WatchSpec> = {}): WatchSpec => ({ def: pods, namespace: 'default', matches: () => true, bookmarks: false, framing: 'ws' as Framing, ...over });

describe('watch hub', () => {
  let store: LmdbStore;
  let close: () => Promise<void>;
  before(async () => {
    ({ store, close } = await openStore());
  });
  after(async () => {
    await close();
  });

  it('gives two watchers with the same selector every event, encoded once for both', async () => {
    const a = new FakeSink();
    const b = new FakeSink();
    const from = store.revision();
    runWatch(store, spec({ resourceVersion: from }), a);
    runWatch(store, spec({ resourceVersion: from }), b);
    assert.equal(hubOf(store).groups('pods'), 1, 'one group');
    const before = WATCH_STATS.encodes;
    for (let i = 0; i < 5; i++) await store.create('pods', pod(`same${i}`));
    await store.delete('pods', 'default', 'same0');
    assert.equal(WATCH_STATS.encodes - before, 6, 'one encoding per event, not one per watcher');
    const expected = ['ADDED same0', 'ADDED same1', 'ADDED same2', 'ADDED same3', 'ADDED same4', 'DELETED same0'];
    assert.deepEqual(a.names, expected);
    assert.deepEqual(b.names, expected);
    a.close();
    b.close();
    assert.equal(hubOf(store).groups('pods'), 0, 'the group goes with its last watcher');
  });

  it('publishes each event once to a uWebSockets.js topic for the whole group', async () => {
    const pub = new FakePublisher();
    const sinks = [pub.sink(), pub.sink(), pub.sink()];
    const from = store.revision();
    for (const s of sinks) runWatch(store, spec({ resourceVersion: from, framing: 'ws-msgpack' }), s);
    for (let i = 0; i < 4; i++) await store.create('pods', pod(`topic${i}`));
    assert.equal(pub.published, 4, 'one publish per event');
    for (const s of sinks) assert.equal(s.frames.length, 4);
    // The very same bytes reached every watcher.
    for (let i = 0; i < 4; i++) assert.ok(sinks.every((s) => s.frames[i] === sinks[0]?.frames[i]));
    for (const s of sinks) s.close();
  });

  it('cuts a slow watcher with ERROR 410 while its group-mates keep receiving', async () => {
    for (const topics of [false, true]) {
      const pub = new FakePublisher();
      const make = (): FakeSink => (topics ? pub.sink() : new FakeSink());
      const slow = make();
      const mates = [make(), make()];
      const from = store.revision();
      const limits = { ...DEFAULT_WATCH_LIMITS, maxBufferedBytes: 1000 };
      for (const s of [slow, ...mates]) runWatch(store, spec({ resourceVersion: from }), s, limits);
      await store.create('pods', pod(`s${topics}0`));
      slow.backlog = 5000;
      await store.create('pods', pod(`s${topics}1`));
      await new Promise((r) => setImmediate(r));
      await store.create('pods', pod(`s${topics}2`));
      const last = slow.events[slow.events.length - 1];
      assert.equal(last?.type, 'ERROR', `topics ${topics}: ${slow.names.join(', ')}`);
      assert.equal(last?.object.code, 410);
      assert.ok(slow.ended, 'the slow watcher is closed');
      // What it got before the error is a gap-free prefix.
      assert.deepEqual(slow.names.slice(0, -1), [`ADDED s${topics}0`, `ADDED s${topics}1`].slice(0, slow.events.length - 1));
      for (const m of mates) assert.deepEqual(m.names, [0, 1, 2].map((i) => `ADDED s${topics}${i}`));
      for (const m of mates) m.close();
    }
  });

  it('gives a watcher that joins mid-stream neither duplicates nor gaps', async () => {
    const early = new FakeSink();
    runWatch(store, spec({ resourceVersion: store.revision(), selector: 'mid' }), early);
    const revs: string[] = [];
    for (let i = 0; i < 3; i++) revs.push((await store.create('pods', pod(`mid${i}`))).metadata.resourceVersion as string);
    // Resumes after mid0, and a fresh one from the current state, both into the running group.
    const resumed = new FakeSink();
    runWatch(store, spec({ resourceVersion: Number(revs[0]), selector: 'mid' }), resumed);
    const fresh = new FakeSink();
    runWatch(store, spec({ selector: 'mid', matches: (o: KubeObject) => o.metadata.name?.startsWith('mid') === true }), fresh);
    for (let i = 3; i < 5; i++) await store.create('pods', pod(`mid${i}`));
    assert.deepEqual(early.names, [0, 1, 2, 3, 4].map((i) => `ADDED mid${i}`));
    assert.deepEqual(resumed.names, [1, 2, 3, 4].map((i) => `ADDED mid${i}`));
    assert.deepEqual(fresh.names, [0, 1, 2, 3, 4].map((i) => `ADDED mid${i}`));
    for (const s of [early, resumed, fresh]) s.close();
  });

  it('shares the initial ADDED list among watchers that start at the same revision', async () => {
    const from = store.revision();
    const a = new FakeSink();
    runWatch(store, spec({ framing: 'ws-msgpack' }), a);
    const before = WATCH_STATS.encodes;
    const b = new FakeSink();
    runWatch(store, spec({ framing: 'ws-msgpack' }), b);
    assert.equal(store.revision(), from);
    assert.equal(WATCH_STATS.encodes, before, 'the second watcher got the first one\'s bytes');
    assert.ok(a.frames.length > 0);
    assert.ok(a.frames.every((f, i) => f === b.frames[i]));
    a.close();
    b.close();
  });

  it('turns MODIFIED in and out of a selector into ADDED and DELETED', async () => {
    const w = new FakeSink();
    runWatch(store, spec({ resourceVersion: store.revision(), selector: 'app=x', matches: (o) => o.metadata.labels?.app === 'x' }), w);
    await store.create('pods', pod('sel', { app: 'y' }));
    const set = (app: string) => store.update('pods', 'default', 'sel', (cur) => ({ ...(cur as KubeObject), metadata: { ...(cur as KubeObject).metadata, labels: { app } } }));
    await set('x');
    await set('x2');
    await set('x');
    assert.deepEqual(w.names, ['ADDED sel', 'DELETED sel', 'ADDED sel']);
    w.close();
  });

  it('checks a pod event only against the watches of its node (spec.nodeName=… groups are indexed)', async () => {
    const checked = new Map<string, number>();
    const onNode = (node: string): FakeSink => {
      const w = new FakeSink();
      const matches = (o: KubeObject): boolean => {
        checked.set(node, (checked.get(node) ?? 0) + 1);
        return (o.spec as { nodeName?: string }).nodeName === node;
      };
      runWatch(store, spec({ resourceVersion: store.revision(), selector: `spec.nodeName=${node}`, matches, nodeName: node }), w);
      return w;
    };
    const [n1, n2, n3] = ['n1', 'n2', 'n3'].map(onNode) as [FakeSink, FakeSink, FakeSink];
    await store.create('pods', pod('idx'));
    await store.bind('pods', 'default', 'idx', { nodeName: 'n2' });
    const gone = await store.delete('pods', 'default', 'idx', { gracePeriodSeconds: 0 });
    if (!gone.removed) await store.finalize('pods', 'default', 'idx');
    assert.deepEqual(n1.names, []);
    assert.deepEqual(n3.names, []);
    assert.equal(n2.names[0], 'ADDED idx');
    assert.equal(n2.names.at(-1), 'DELETED idx');
    // Only n2's group looked at the pod: the unbound create and n1/n3 cost nothing.
    assert.equal(checked.get('n1') ?? 0, 0);
    assert.equal(checked.get('n3') ?? 0, 0);
    for (const w of [n1, n2, n3]) w.close();
  });

  it('ends a watch on a closing store with an ERROR Status instead of throwing', async () => {
    const closing = await openStore();
    await closing.store.close();
    const w = new FakeSink();
    runWatch(closing.store, spec(), w);
    assert.equal(w.events[0]?.type, 'ERROR');
    assert.ok(w.ended);
    await closing.close();
  });

  it('sends bookmarks and ends at timeoutSeconds on the injected clock', async () => {
    const clock = new SimulatedClock();
    const w = new FakeSink();
    runWatch(store, spec({ resourceVersion: store.revision(), bookmarks: true, timeoutSeconds: 10 }), w, { ...DEFAULT_WATCH_LIMITS, bookmarkEveryMs: 3000 }, clock);
    assert.equal(w.events.length, 0);
    clock.increment(3000);
    clock.increment(3000);
    assert.deepEqual(w.events.map((e) => e.type), ['BOOKMARK', 'BOOKMARK']);
    assert.equal(w.events[0]?.object.metadata.resourceVersion, String(store.revision()));
    assert.ok(!w.ended);
    clock.increment(4000);
    assert.ok(w.ended, 'timeoutSeconds ended the watch');
    clock.increment(3000);
    assert.equal(w.events.length, 3, 'no bookmark after the end');
  });

  it('keeps an idle SSE stream alive with comments on the injected clock', () => {
    const clock = new SimulatedClock();
    const w = new FakeSink();
    runWatch(store, spec({ resourceVersion: store.revision(), framing: 'sse' }), w, { ...DEFAULT_WATCH_LIMITS, sseKeepAliveMs: 1000 }, clock);
    const comments = () => w.frames.filter((f) => f === ':\n\n').length;
    const first = comments();
    clock.increment(1000);
    clock.increment(1000);
    assert.equal(comments(), first + 1, 'the first comment counts as a write; then one per idle period');
    clock.increment(1000);
    assert.equal(comments(), first + 2);
    w.close();
  });
});
