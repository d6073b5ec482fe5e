// The scheduler on its informers: what a relist after a 410 finds is scheduled and accounted,
// a watch that ended otherwise resumes from the last revision, a failed list is retried on the
// clock and nothing is decided before both lists are in.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { SimulatedClock } from 'xstate';
import type { KubeObject, Pod } from '../../src/api/model/types.ts';
import { ClientError, type Client, type ListQuery, type WatchHandlers } from '../../src/client/client.ts';
import { node, override, pod, withCluster } from './fixtures.ts';

/** A Client whose watches can be cut (events dropped) and ended on demand. */
function flaky(inner: Client) {
  const watches = new Map<string, { handlers: WatchHandlers; cut: boolean }>();
  let listFailures = 0;
  const client = override(inner, {
    list: <T extends KubeObject>(resource: string, q?: ListQuery) => {
      if (listFailures > 0) {
        listFailures--;
        return Promise.reject(new ClientError(503, 'ServiceUnavailable', 'try later'));
      }
      return inner.list<T>(resource, q);
    },
    watch: <T extends KubeObject>(resource: string, q: Parameters<Client['watch']>[1], h: WatchHandlers<T>) => {
      const entry = { handlers: h as unknown as WatchHandlers, cut: false };
      watches.set(resource, entry);
      const stop = inner.watch<T>(resource, q, { event: (e) => !entry.cut && h.event(e), closed: (r) => h.closed(r) });
      return () => {
        entry.cut = true;
        stop();
      };
    },
  });
  return {
    client,
    cut: (resource: string) => void (watches.get(resource)!.cut = true),
    end: (resource: string, expired: boolean) => watches.get(resource)!.handlers.closed({ expired, message: expired ? 'too old resource version' : 'connection reset' }),
    failLists: (n: number) => void (listFailures = n),
  };
}

describe('scheduler informers', () => {
  it('relists nodes after a 410 and schedules what the lost events would have allowed', () =>
    withCluster(async (c) => {
      const f = flaky(c.client);
      const logs: string[] = [];
      const clock = new SimulatedClock();
      const sched = c.scheduler({ client: f.client, clock, log: (m) => logs.push(m) });
      await sched.synced;
      f.cut('nodes');
      await c.client.create('nodes', node('n1'));
      await c.client.create('pods', pod('p'));
      await sched.idle();
      assert.equal((await c.client.get<Pod>('pods', 'default', 'p')).spec.nodeName, undefined, 'the node event was lost');
      f.end('nodes', true);
      // The watch had delivered nothing since its list: the relist waits out the first back-off.
      clock.increment(250);
      await sched.idle();
      assert.equal((await c.client.get<Pod>('pods', 'default', 'p')).spec.nodeName, 'n1');
      assert.ok(logs.some((m) => /nodes watch expired/.test(m)));
    }));

  it('relists pods after a 410: forgets deleted ones, counts bound ones, queues new ones', () =>
    withCluster(async (c) => {
      await c.client.create('nodes', node('n1', { pods: '2' }));
      const f = flaky(c.client);
      const sched = c.scheduler({ client: f.client });
      await sched.synced;
      await c.client.create('pods', pod('a'));
      await sched.idle();
      f.cut('pods');
      await c.client.finalize('pods', 'default', 'a');
      await c.client.create('pods', pod('elsewhere', { nodeName: 'n1' }));
      await c.client.create('pods', pod('b'));
      await c.client.create('pods', pod('c'));
      await sched.idle();
      assert.equal(sched.stats().bound, 1, 'nothing new was seen');
      f.end('pods', true);
      await sched.idle();
      const ctx = sched.view.getSnapshot().context;
      assert.equal(ctx.placed.has('default/a'), false);
      assert.equal(ctx.usage.get('n1')?.pods, 2);
      const placed = await Promise.all(['b', 'c'].map((n) => c.client.get<Pod>('pods', 'default', n)));
      assert.equal(placed.filter((p) => p.spec.nodeName === 'n1').length, 1, 'max pods 2: "elsewhere" and one more');
    }));

  it('resumes a watch that ended for another reason from the last revision, after a backoff', () =>
    withCluster(async (c) => {
      await c.client.create('nodes', node('n1'));
      const f = flaky(c.client);
      const clock = new SimulatedClock();
      const sched = c.scheduler({ client: f.client, clock });
      await sched.synced;
      f.cut('pods');
      f.end('pods', false);
      await c.client.create('pods', pod('p'));
      await sched.idle();
      assert.equal((await c.client.get<Pod>('pods', 'default', 'p')).spec.nodeName, undefined);
      clock.increment(1000);
      await sched.idle();
      assert.equal((await c.client.get<Pod>('pods', 'default', 'p')).spec.nodeName, 'n1', 'the missed ADDED was replayed');
    }));

  it('retries a failed list on the clock and only then starts scheduling', () =>
    withCluster(async (c) => {
      await c.client.create('nodes', node('n1'));
      await c.client.create('pods', pod('p'));
      const f = flaky(c.client);
      f.failLists(1);
      const clock = new SimulatedClock();
      const logs: string[] = [];
      const sched = c.scheduler({ client: f.client, clock, log: (m) => logs.push(m) });
      let synced = false;
      void sched.synced.then(() => (synced = true));
      await new Promise((r) => setImmediate(r));
      assert.equal(synced, false);
      assert.ok(logs.some((m) => /scheduler: listing nodes failed, retrying in 0.25s: try later/.test(m)));
      clock.increment(1000);
      await sched.idle();
      assert.equal(synced, true);
      assert.equal((await c.client.get<Pod>('pods', 'default', 'p')).spec.nodeName, 'n1');
      assert.equal(sched.stats().unschedulable, 0, 'no decision was made on a half-built view');
    }));
});
