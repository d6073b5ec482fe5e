// The scheduler as an actor: started in an actor system with a Client, it schedules; stopped,
// it lets go of its watches and timers.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createActor, createMachine, fromCallback, SimulatedClock } from 'xstate';
import type { Pod } from '../../src/api/model/types.ts';
import { schedulerActor, schedulerActorWith } from '../../src/scheduler/actor.ts';
import type { Scheduler } from '../../src/scheduler/scheduler.ts';
import { node, pod, withCluster } from './fixtures.ts';

describe('schedulerActor', () => {
  it('schedules while it runs and stops with its actor', () =>
    withCluster(async (c) => {
      await c.client.create('nodes', node('n1'));
      let loop: Scheduler | undefined;
      const actor = createActor(schedulerActor, { input: { client: c.client, clock: new SimulatedClock(), onStart: (s) => (loop = s) } }).start();
      assert.ok(loop);
      await c.client.create('pods', pod('a'));
      await loop.idle();
      assert.equal((await c.client.get<Pod>('pods', 'default', 'a')).spec.nodeName, 'n1');
      actor.stop();
      await loop.stop();
      await c.client.create('pods', pod('b'));
      await new Promise((r) => setImmediate(r));
      assert.equal((await c.client.get<Pod>('pods', 'default', 'b')).spec.nodeName, undefined);
    }));

  it('runs as an invoked child of a control-plane machine, stopped with its parent', () =>
    withCluster(async (c) => {
      await c.client.create('nodes', node('n1'));
      let loop: Scheduler | undefined;
      const controlPlane = createMachine({
        id: 'controlPlane',
        invoke: { id: 'scheduler', src: schedulerActor, input: { client: c.client, onStart: (s: Scheduler) => (loop = s) } },
      });
      const root = createActor(controlPlane).start();
      assert.ok(root.getSnapshot().children.scheduler);
      await c.client.create('pods', pod('a'));
      await loop!.idle();
      assert.equal((await c.client.get<Pod>('pods', 'default', 'a')).spec.nodeName, 'n1');
      root.stop();
      await loop!.stop();
    }));

  it('fills a machine\'s input-less `scheduler` slot when its options are bound', () =>
    withCluster(async (c) => {
      await c.client.create('nodes', node('n1'));
      let loop: Scheduler | undefined;
      // The shape of machines/cluster.ts: a placeholder actor, provided by the host.
      const cluster0 = createMachine({ id: 'cluster', invoke: { id: 'scheduler', src: 'scheduler' } }, { actors: { scheduler: fromCallback(() => () => {}) } });
      const root = createActor(cluster0.provide({ actors: { scheduler: schedulerActorWith({ client: c.client, onStart: (s) => (loop = s) }) } })).start();
      await c.client.create('pods', pod('a'));
      await loop!.idle();
      assert.equal((await c.client.get<Pod>('pods', 'default', 'a')).spec.nodeName, 'n1');
      root.stop();
      await loop!.stop();
    }));
});
