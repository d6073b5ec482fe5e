// Binding races: the pods/binding preconditions keep a decision from landing on a pod that was
// deleted, changed or bound by someone else while the scheduler was deciding.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { SimulatedClock } from 'xstate';
import type { CoreEvent, Pod } from '../../src/api/model/types.ts';
import { ClientError, type Binding, type Client } from '../../src/client/client.ts';
import { node, override, pod, withCluster } from './fixtures.ts';

/** `inner`, with a hook that runs before every bind reaches it. */
function hooked(inner: Client, beforeBind: (namespace: string, name: string, b: Binding) => Promise<void>): Client {
  return override(inner, {
    bind: async (namespace, name, b) => {
      await beforeBind(namespace, name, b);
      return inner.bind(namespace, name, b);
    },
  });
}

async function scheduledEvents(client: Client): Promise<CoreEvent[]> {
  return (await client.list<CoreEvent>('events', { namespace: 'default', fieldSelector: 'reason=Scheduled' })).items;
}

describe('binding races', () => {
  it('does not bind a pod deleted while it was being scheduled, and releases its reservation', () =>
    withCluster(async (c) => {
      await c.client.create('nodes', node('n1', { cpu: '1' }));
      const sched = c.scheduler({
        client: hooked(c.client, async (ns, name) => {
          await c.client.delete('pods', ns, name);
        }),
      });
      await sched.synced;
      await c.client.create('pods', pod('doomed', { cpu: '1' }));
      await sched.idle();
      await assert.rejects(c.client.get('pods', 'default', 'doomed'), { code: 404 });
      assert.equal(sched.stats().bound, 0);
      assert.equal(sched.stats().gone, 1);
      assert.equal(sched.view.getSnapshot().context.usage.get('n1')?.cpu ?? 0, 0, 'the assumed cpu is given back');
      assert.deepEqual(await scheduledEvents(c.client), []);
    }));

  it('does not bind over a pod that changed meanwhile, then binds the new version', () =>
    withCluster(async (c) => {
      await c.client.create('nodes', node('n1'));
      let changes = 0;
      const seen: string[] = [];
      const sched = c.scheduler({
        client: hooked(c.client, async (ns, name, b) => {
          seen.push(b.resourceVersion ?? '');
          if (changes++ === 0) await c.client.patch('pods', ns, name, { metadata: { labels: { touched: 'yes' } } });
        }),
      });
      await sched.synced;
      await c.client.create('pods', pod('p'));
      await sched.idle();
      const p = await c.client.get<Pod>('pods', 'default', 'p');
      assert.equal(p.spec.nodeName, 'n1');
      assert.equal(p.metadata.labels?.touched, 'yes', 'the change was not overwritten');
      assert.deepEqual({ bound: sched.stats().bound, conflicts: sched.stats().conflicts }, { bound: 1, conflicts: 1 });
      assert.equal(seen.length, 2);
      assert.notEqual(seen[0], seen[1], 'the retry carried the new resourceVersion');
      assert.equal((await scheduledEvents(c.client)).length, 1);
    }));

  it('does not bind a pod that started terminating meanwhile', () =>
    withCluster(async (c) => {
      await c.client.create('nodes', node('n1'));
      const sched = c.scheduler({
        client: hooked(c.client, async (ns, name) => {
          await c.client.delete('pods', ns, name);
        }),
      });
      await sched.synced;
      const p = pod('held');
      p.metadata.finalizers = ['example.com/hold'];
      await c.client.create('pods', p);
      await sched.idle();
      const after = await c.client.get<Pod>('pods', 'default', 'held');
      assert.ok(after.metadata.deletionTimestamp);
      assert.equal(after.spec.nodeName, undefined);
      assert.equal(sched.stats().conflicts, 1);
      assert.deepEqual({ queued: sched.stats().queued, waiting: sched.stats().waiting }, { queued: 0, waiting: 0 });
    }));

  it('lets exactly one of two schedulers racing on one pod bind it', () =>
    withCluster(async (c) => {
      await c.client.create('nodes', node('n1'));
      await c.client.create('nodes', node('n2'));
      // Hold every bind until both schedulers have decided, so both really race.
      const waiting: (() => void)[] = [];
      const gate = (): Promise<void> => new Promise<void>((resolve) => {
        waiting.push(resolve);
        if (waiting.length === 2) for (const w of waiting.splice(0)) w();
      });
      const one = c.scheduler({ client: hooked(c.client, gate) });
      const two = c.scheduler({ client: hooked(c.client, gate) });
      await Promise.all([one.synced, two.synced]);
      await c.client.create('pods', pod('contested'));
      await Promise.all([one.idle(), two.idle()]);
      const stats = [one.stats(), two.stats()];
      assert.equal(stats[0]!.bound + stats[1]!.bound, 1, 'exactly one bind wins');
      assert.equal(stats[0]!.conflicts + stats[1]!.conflicts, 1, 'the other is refused');
      const p = await c.client.get<Pod>('pods', 'default', 'contested');
      assert.ok(p.spec.nodeName === 'n1' || p.spec.nodeName === 'n2');
      const events = await scheduledEvents(c.client);
      assert.equal(events.length, 1);
      assert.equal(events[0]?.message, `Successfully assigned default/contested to ${p.spec.nodeName}`);
      const failed = (await c.client.list<CoreEvent>('events', { namespace: 'default', fieldSelector: 'reason=FailedScheduling' })).items;
      assert.deepEqual(failed, [], 'losing a race is not a scheduling failure');
      for (const s of [one, two]) assert.equal(s.view.getSnapshot().context.placed.get('default/contested')?.assumed, false);
    }));

  it('sends the uid and resourceVersion of the version it decided on', () =>
    withCluster(async (c) => {
      await c.client.create('nodes', node('n1'));
      const binds: Binding[] = [];
      const sched = c.scheduler({ client: hooked(c.client, async (_ns, _n, b) => void binds.push(b)) });
      await sched.synced;
      const created = await c.client.create('pods', pod('p'));
      await sched.idle();
      assert.deepEqual(binds, [{ nodeName: 'n1', uid: created.metadata.uid, resourceVersion: created.metadata.resourceVersion }]);
    }));

  it('reports a bind the API refuses for another reason, backs off and retries', () =>
    withCluster(async (c) => {
      await c.client.create('nodes', node('n1'));
      let refusals = 1;
      const client = hooked(c.client, async () => {
        if (refusals-- > 0) throw new ClientError(500, 'InternalError', 'Internal error occurred: disk full');
      });
      const clock = new SimulatedClock();
      const logs: string[] = [];
      const sched = c.scheduler({ client, clock, log: (m) => logs.push(m) });
      await sched.synced;
      await c.client.create('pods', pod('p'));
      await sched.idle();
      assert.equal((await c.client.get<Pod>('pods', 'default', 'p')).spec.nodeName, undefined);
      const failed = (await c.client.list<CoreEvent>('events', { namespace: 'default', fieldSelector: 'reason=FailedScheduling' })).items;
      assert.deepEqual(failed.map((e) => [e.type, e.message]), [['Warning', 'Binding rejected: Internal error occurred: disk full']]);
      assert.equal(sched.stats().errors, 1);
      assert.equal(sched.view.getSnapshot().context.placed.size, 0, 'the reservation was released');
      assert.ok(logs.some((m) => /binding pod default\/p failed/.test(m)));
      clock.increment(1000);
      await sched.idle();
      assert.equal((await c.client.get<Pod>('pods', 'default', 'p')).spec.nodeName, 'n1');
    }));
});
