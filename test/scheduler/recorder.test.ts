// The event recorder: Kubernetes-shaped Events, counted instead of repeated, with valid names.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { SimulatedClock } from 'xstate';
import type { CoreEvent, Pod } from '../../src/api/model/types.ts';
import { EventRecorder } from '../../src/scheduler/recorder.ts';
import { isDns1123Subdomain } from '../../src/api/model/validation.ts';
import { cluster, override, pod } from './fixtures.ts';

async function setup() {
  const c = await cluster();
  const clock = new SimulatedClock();
  clock.set(Date.parse('2030-05-06T07:08:09Z'));
  const logs: string[] = [];
  const rec = new EventRecorder(c.client, clock, { component: 'default-scheduler', instance: 'default-scheduler-test', log: (m) => logs.push(m) });
  return { ...c, clock, rec, logs };
}

describe('EventRecorder', () => {
  it('writes a legacy core/v1 Event that kubectl describe finds by the pod uid', async () => {
    const t = await setup();
    try {
      const p = await t.client.create<Pod>('pods', pod('web'));
      await t.rec.record(p, 'Warning', 'FailedScheduling', 'no nodes available to schedule pods');
      const uid = p.metadata.uid as string;
      const found = (await t.client.list<CoreEvent>('events', { namespace: 'default', fieldSelector: `involvedObject.name=web,involvedObject.namespace=default,involvedObject.uid=${uid}` })).items;
      assert.equal(found.length, 1);
      const e = found[0] as CoreEvent;
      assert.match(e.metadata.name ?? '', /^web\.[0-9a-f]+$/);
      assert.deepEqual(e.involvedObject, { kind: 'Pod', namespace: 'default', name: 'web', uid, apiVersion: 'v1', resourceVersion: p.metadata.resourceVersion });
      assert.equal(e.reportingInstance, 'default-scheduler-test');
      assert.equal(e.firstTimestamp, '2030-05-06T07:08:09Z');
    } finally {
      await t.close();
    }
  });

  it('counts concurrent repeats on one Event without racing', async () => {
    const t = await setup();
    try {
      const p = await t.client.create<Pod>('pods', pod('web'));
      await Promise.all(Array.from({ length: 5 }, (_, i) => {
        t.clock.increment(i * 1000);
        return t.rec.record(p, 'Warning', 'FailedScheduling', 'same');
      }));
      const found = (await t.client.list<CoreEvent>('events')).items;
      assert.equal(found.length, 1);
      assert.equal(found[0]?.count, 5);
      assert.equal(found[0]?.lastTimestamp, '2030-05-06T07:08:19Z');
      assert.equal(t.rec.remembered, 1);
      await t.rec.forget('default/web');
      assert.equal(t.rec.remembered, 0);
    } finally {
      await t.close();
    }
  });

  it('starts a new Event for a new pod of the same name', async () => {
    const t = await setup();
    try {
      const first = await t.client.create<Pod>('pods', pod('web'));
      await t.rec.record(first, 'Warning', 'FailedScheduling', 'same');
      await t.client.delete('pods', 'default', 'web');
      const second = await t.client.create<Pod>('pods', pod('web'));
      await t.rec.record(second, 'Warning', 'FailedScheduling', 'same');
      const found = (await t.client.list<CoreEvent>('events')).items;
      assert.deepEqual(found.map((e) => e.involvedObject.uid).sort(), [first.metadata.uid, second.metadata.uid].sort());
    } finally {
      await t.close();
    }
  });

  it('keeps event names valid for the longest pod names', async () => {
    const t = await setup();
    try {
      const long = `${'a'.repeat(60)}.${'b'.repeat(60)}.${'c'.repeat(60)}.${'d'.repeat(70)}`;
      assert.equal(long.length, 253);
      const p = await t.client.create<Pod>('pods', pod(long));
      await t.rec.record(p, 'Normal', 'Scheduled', `Successfully assigned default/${long} to n1`);
      const [e] = (await t.client.list<CoreEvent>('events')).items;
      assert.ok(e && isDns1123Subdomain(e.metadata.name ?? ''), e?.metadata.name);
      assert.equal(e.involvedObject.name, long);
      assert.deepEqual(t.logs, []);
    } finally {
      await t.close();
    }
  });

  it('logs, and does not throw, when the API refuses an event', async () => {
    const t = await setup();
    try {
      const ghost = pod('ghost', { namespace: 'missing' });
      await t.rec.record(ghost, 'Warning', 'FailedScheduling', 'x');
      assert.equal(t.logs.length, 1);
      assert.match(t.logs[0] ?? '', /event for pod missing\/ghost not written/);
    } finally {
      await t.close();
    }
  });

  it('writes posted events a few at a time behind a bounded backlog, dropping and counting the excess', async () => {
    const t = await setup();
    try {
      // Event writes wait for the test's word, so the backlog fills.
      let release: () => void = () => {};
      const gate = new Promise<void>((r) => (release = r));
      const client = override(t.client, { create: async (resource, obj) => (await gate, t.client.create(resource, obj)) });
      const rec = new EventRecorder(client, t.clock, { component: 'default-scheduler', instance: 'i', log: (m) => t.logs.push(m) }, { inflight: 1, queued: 2 });
      const posted = await Promise.all(['a', 'b', 'c'].map((n) => t.client.create<Pod>('pods', pod(n))));
      const writes = posted.map((p) => rec.post(p, 'Normal', 'Scheduled', `Successfully assigned default/${p.metadata.name} to n1`));
      // One in flight, two waiting: the fourth and fifth are dropped at once.
      await rec.post(posted[0] as Pod, 'Normal', 'Scheduled', 'extra');
      await rec.post(posted[1] as Pod, 'Normal', 'Scheduled', 'extra');
      assert.equal(rec.dropped, 2);
      assert.equal(t.logs.length, 1, 'dropping is logged once');
      assert.match(t.logs[0] ?? '', /more than 2 events waiting/);
      release();
      await Promise.all(writes);
      const events = (await t.client.list<CoreEvent>('events')).items;
      assert.deepEqual(events.map((e) => e.involvedObject.name).sort(), ['a', 'b', 'c']);
      assert.ok(events.every((e) => e.reason === 'Scheduled' && e.count === 1));
      assert.equal(rec.remembered, 0, 'posted events are not kept for aggregation');
    } finally {
      await t.close();
    }
  });
});
