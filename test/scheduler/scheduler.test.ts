// The scheduling loop against a real store through the in-process Client: binding, the
// Unschedulable condition and FailedScheduling event, backoff on a simulated clock, and retries
// driven by cluster changes rather than polling.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { SimulatedClock } from 'xstate';
import type { CoreEvent, Node, Pod } from '../../src/api/model/types.ts';
import type { Client } from '../../src/client/client.ts';
import { startScheduler, type Scheduler } from '../../src/scheduler/scheduler.ts';
import { cluster, node, pod } from './fixtures.ts';

async function events(client: Client, podName: string): Promise<CoreEvent[]> {
  return (await client.list<CoreEvent>('events', { namespace: 'default', fieldSelector: `involvedObject.name=${podName}` })).items;
}

async function getPod(client: Client, name: string): Promise<Pod> {
  return client.get<Pod>('pods', 'default', name);
}

/** A fresh store, a simulated clock and a running scheduler; `done` tears everything down. */
async function running(nodes: Node[] = []) {
  const c = await cluster();
  for (const n of nodes) await c.client.create('nodes', n);
  const clock = new SimulatedClock();
  clock.set(Date.parse('2030-01-01T00:00:00Z'));
  const logs: string[] = [];
  const sched: Scheduler = startScheduler({ client: c.client, clock, log: (m) => logs.push(m) });
  await sched.synced;
  return {
    ...c, clock, sched, logs,
    async done() {
      await sched.stop();
      await c.close();
    },
  };
}

describe('scheduler: binding', () => {
  it('binds a pending pod, marks it PodScheduled=True and records a Normal Scheduled event', async () => {
    const t = await running([node('n1')]);
    try {
      const created = await t.client.create('pods', pod('web', { cpu: '1' }));
      await t.sched.idle();
      const p = await getPod(t.client, 'web');
      assert.equal(p.spec.nodeName, 'n1');
      assert.equal(p.status?.conditions?.find((c) => c.type === 'PodScheduled')?.status, 'True');
      const evs = await events(t.client, 'web');
      assert.equal(evs.length, 1);
      const e = evs[0] as CoreEvent;
      assert.equal(e.type, 'Normal');
      assert.equal(e.reason, 'Scheduled');
      assert.equal(e.message, 'Successfully assigned default/web to n1');
      assert.deepEqual(e.source, { component: 'default-scheduler' });
      assert.equal(e.reportingComponent, 'default-scheduler');
      assert.equal(e.involvedObject.uid, created.metadata.uid);
      assert.equal(e.involvedObject.kind, 'Pod');
      assert.equal(e.count, 1);
      assert.equal(e.firstTimestamp, '2030-01-01T00:00:00Z');
      assert.equal(t.sched.stats().bound, 1);
    } finally {
      await t.done();
    }
  });

  it('schedules pods that were waiting before it started, and counts pods already bound', async () => {
    const c = await cluster();
    try {
      await c.client.create('nodes', node('small', { pods: '2' }));
      await c.client.create('pods', pod('old', { nodeName: 'small' }));
      await c.client.create('pods', pod('a'));
      await c.client.create('pods', pod('b'));
      const sched = startScheduler({ client: c.client, clock: new SimulatedClock() });
      await sched.idle();
      const placed = await Promise.all(['a', 'b'].map((n) => getPod(c.client, n)));
      assert.deepEqual(placed.map((p) => p.spec.nodeName ?? '-').sort(), ['-', 'small'], 'max pods 2: one fits beside the old pod');
      const stuck = placed.find((p) => !p.spec.nodeName) as Pod;
      assert.equal(stuck.status?.conditions?.[0]?.message, '0/1 nodes are available: 1 Too many pods.');
      await sched.stop();
    } finally {
      await c.close();
    }
  });

  it('accounts for pods it bound a moment ago: no node is overcommitted', async () => {
    const t = await running([node('a', { cpu: '2' }), node('b', { cpu: '2' })]);
    try {
      await Promise.all(Array.from({ length: 6 }, (_, i) => t.client.create('pods', pod(`p${i}`, { cpu: '1' }))));
      await t.sched.idle();
      const pods = (await t.client.list<Pod>('pods')).items;
      const per = new Map<string, number>();
      for (const p of pods) if (p.spec.nodeName) per.set(p.spec.nodeName, (per.get(p.spec.nodeName) ?? 0) + 1);
      assert.deepEqual(Object.fromEntries(per), { a: 2, b: 2 });
      assert.equal(pods.filter((p) => !p.spec.nodeName).length, 2);
    } finally {
      await t.done();
    }
  });

  it('leaves pods of another scheduler and pods created with a node alone', async () => {
    const t = await running([node('n1')]);
    try {
      await t.client.create('pods', pod('theirs', { schedulerName: 'other-scheduler' }));
      await t.client.create('pods', pod('pinned', { nodeName: 'elsewhere' }));
      await t.sched.idle();
      assert.equal((await getPod(t.client, 'theirs')).spec.nodeName, undefined);
      assert.equal((await getPod(t.client, 'pinned')).spec.nodeName, 'elsewhere');
      assert.deepEqual(await events(t.client, 'theirs'), []);
    } finally {
      await t.done();
    }
  });

  it('never binds a terminating pod', async () => {
    const t = await running([]);
    try {
      const p = pod('dying');
      p.metadata.finalizers = ['example.com/hold'];
      await t.client.create('pods', p);
      await t.sched.idle();
      await t.client.delete('pods', 'default', 'dying');
      await t.client.create('nodes', node('n1'));
      await t.sched.idle();
      const after = await getPod(t.client, 'dying');
      assert.ok(after.metadata.deletionTimestamp);
      assert.equal(after.spec.nodeName, undefined);
      assert.equal(t.sched.stats().bound, 0);
    } finally {
      await t.done();
    }
  });
});

describe('scheduler: unschedulable pods', () => {
  it('sets PodScheduled=False/Unschedulable with the FitError message and a Warning FailedScheduling event', async () => {
    const t = await running([node('small', { cpu: '1' }), node('ssd1', { labels: { disk: 'hdd' } }), node('ssd2', { labels: { disk: 'hdd' } })]);
    try {
      const created = await t.client.create('pods', pod('big', { cpu: '2', nodeSelector: { disk: 'ssd' } }));
      await t.sched.idle();
      const p = await getPod(t.client, 'big');
      const msg = "0/3 nodes are available: 1 Insufficient cpu, 2 node(s) didn't match Pod's node affinity/selector.";
      const cond = p.status?.conditions?.find((c) => c.type === 'PodScheduled');
      assert.deepEqual(cond, { type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message: msg, lastProbeTime: null, lastTransitionTime: '2030-01-01T00:00:00Z' });
      assert.equal(p.status?.phase, 'Pending');
      const evs = await events(t.client, 'big');
      assert.equal(evs.length, 1);
      const e = evs[0] as CoreEvent;
      assert.equal(e.type, 'Warning');
      assert.equal(e.reason, 'FailedScheduling');
      assert.equal(e.message, msg);
      assert.equal(e.count, 1);
      assert.equal(e.involvedObject.uid, created.metadata.uid);
      assert.equal(e.involvedObject.namespace, 'default');
      assert.equal(e.metadata.namespace, 'default');
      assert.deepEqual(e.source, { component: 'default-scheduler' });
      assert.equal(e.firstTimestamp, e.lastTimestamp);
    } finally {
      await t.done();
    }
  });

  it('retries after 1 s, 2 s … and counts on the same Event instead of adding one per retry', async () => {
    const t = await running([node('small', { cpu: '1' })]);
    try {
      await t.client.create('pods', pod('big', { cpu: '2' }));
      await t.sched.idle();
      const rv = (await getPod(t.client, 'big')).metadata.resourceVersion;
      t.clock.increment(999);
      await t.sched.idle();
      assert.equal(t.sched.stats().unschedulable, 1, 'not before 1 s');
      t.clock.increment(1);
      await t.sched.idle();
      assert.equal(t.sched.stats().unschedulable, 2);
      t.clock.increment(1999);
      await t.sched.idle();
      assert.equal(t.sched.stats().unschedulable, 2, 'then not before 2 s more');
      t.clock.increment(1);
      await t.sched.idle();
      assert.equal(t.sched.stats().unschedulable, 3);
      const evs = await events(t.client, 'big');
      assert.equal(evs.length, 1, 'one Event, counted');
      assert.equal(evs[0]?.count, 3);
      assert.equal(evs[0]?.firstTimestamp, '2030-01-01T00:00:00Z');
      assert.equal(evs[0]?.lastTimestamp, '2030-01-01T00:00:03Z');
      assert.equal((await getPod(t.client, 'big')).metadata.resourceVersion, rv, 'an unchanged condition is not rewritten');
    } finally {
      await t.done();
    }
  });

  it('starts a new Event when the reason changes, and when the old Event was deleted', async () => {
    const t = await running([node('small', { cpu: '1' })]);
    try {
      await t.client.create('pods', pod('big', { cpu: '2' }));
      await t.sched.idle();
      await t.client.patch('nodes', '', 'small', { spec: { unschedulable: true } });
      await t.sched.idle();
      let evs = await events(t.client, 'big');
      assert.deepEqual(evs.map((e) => e.message).sort(), ['0/1 nodes are available: 1 Insufficient cpu.', '0/1 nodes are available: 1 node(s) were unschedulable.']);
      const latest = evs.find((e) => e.message?.includes('unschedulable')) as CoreEvent;
      await t.client.delete('events', 'default', latest.metadata.name as string);
      t.clock.increment(2000);
      await t.sched.idle();
      evs = await events(t.client, 'big');
      assert.equal(evs.length, 2);
      assert.ok(evs.every((e) => e.count === 1));
      assert.match((await getPod(t.client, 'big')).status?.conditions?.[0]?.message ?? '', /were unschedulable/);
    } finally {
      await t.done();
    }
  });

  it('retries at once when a node is added, without waiting for the backoff', async () => {
    const t = await running([]);
    try {
      await t.client.create('pods', pod('p', { cpu: '1' }));
      await t.sched.idle();
      assert.equal((await getPod(t.client, 'p')).status?.conditions?.[0]?.message, 'no nodes available to schedule pods');
      await t.client.create('nodes', node('n1'));
      await t.sched.idle();
      const p = await getPod(t.client, 'p');
      assert.equal(p.spec.nodeName, 'n1');
      assert.equal(p.status?.conditions?.[0]?.status, 'True');
      const evs = await events(t.client, 'p');
      assert.deepEqual(evs.map((e) => e.reason).sort(), ['FailedScheduling', 'Scheduled']);
    } finally {
      await t.done();
    }
  });

  it('retries at once when a node becomes Ready or grows, not on a heartbeat', async () => {
    const t = await running([node('n1', { ready: 'False', cpu: '1' })]);
    try {
      await t.client.create('pods', pod('p', { cpu: '2' }));
      await t.sched.idle();
      const heartbeat = node('n1', { ready: 'False', cpu: '1' });
      (heartbeat.status?.conditions ?? [])[0]!.lastHeartbeatTime = '2030-01-01T00:00:10Z';
      await t.client.updateStatus('nodes', heartbeat);
      await t.sched.idle();
      assert.equal(t.sched.stats().unschedulable, 1, 'a heartbeat wakes nothing');
      await t.client.updateStatus('nodes', node('n1', { ready: 'True', cpu: '1' }));
      await t.sched.idle();
      assert.equal(t.sched.stats().unschedulable, 2);
      assert.match((await getPod(t.client, 'p')).status?.conditions?.[0]?.message ?? '', /1 Insufficient cpu/);
      await t.client.updateStatus('nodes', node('n1', { ready: 'True', cpu: '2' }));
      await t.sched.idle();
      assert.equal((await getPod(t.client, 'p')).spec.nodeName, 'n1');
    } finally {
      await t.done();
    }
  });

  it('retries at once when a bound pod goes away and frees room', async () => {
    const t = await running([node('n1', { cpu: '1' })]);
    try {
      await t.client.create('pods', pod('first', { cpu: '1' }));
      await t.sched.idle();
      await t.client.create('pods', pod('second', { cpu: '1' }));
      await t.sched.idle();
      assert.equal((await getPod(t.client, 'second')).spec.nodeName, undefined);
      // Terminating still holds the room …
      await t.client.delete('pods', 'default', 'first');
      await t.sched.idle();
      assert.equal((await getPod(t.client, 'second')).spec.nodeName, undefined);
      // … until the agent finalizes it.
      await t.client.finalize('pods', 'default', 'first');
      await t.sched.idle();
      assert.equal((await getPod(t.client, 'second')).spec.nodeName, 'n1');
    } finally {
      await t.done();
    }
  });

  it('retries at once when the pod itself changes (a toleration added)', async () => {
    const t = await running([node('n1', { taints: [{ key: 'dedicated', value: 'db', effect: 'NoSchedule' }] })]);
    try {
      await t.client.create('pods', pod('p'));
      await t.sched.idle();
      assert.equal((await getPod(t.client, 'p')).status?.conditions?.[0]?.message, '0/1 nodes are available: 1 node(s) had untolerated taint {dedicated: db}.');
      await t.client.patch('pods', 'default', 'p', { spec: { tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'db', effect: 'NoSchedule' }] } });
      await t.sched.idle();
      assert.equal((await getPod(t.client, 'p')).spec.nodeName, 'n1');
    } finally {
      await t.done();
    }
  });

  it('forgets a pod deleted while it waits', async () => {
    const t = await running([]);
    try {
      await t.client.create('pods', pod('p'));
      await t.sched.idle();
      assert.equal(t.sched.stats().waiting, 1);
      await t.client.delete('pods', 'default', 'p');
      await t.sched.idle();
      assert.deepEqual({ queued: t.sched.stats().queued, waiting: t.sched.stats().waiting }, { queued: 0, waiting: 0 });
      t.clock.increment(60_000);
      await t.sched.idle();
      assert.equal(t.sched.stats().unschedulable, 1);
    } finally {
      await t.done();
    }
  });
});
