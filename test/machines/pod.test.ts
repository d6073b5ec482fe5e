// The pod machine under a simulated clock: every transition of a pod's life, no real waiting.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createActor, fromPromise, SimulatedClock, type AnyActorRef } from 'xstate';
import { clusterMachine, hostingPods, podId, SHARD_SIZE, shardId } from '../../machines/cluster.ts';
import { podMachine, type PodInput, type PodReport, type PodEventRecord, type ZoneHealth, type ZoneUp } from '../../machines/pod.ts';

/** Lets promise actors settle after the clock moved. */
const settle = async (): Promise<void> => {
  for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
};

interface Harness {
  clock: SimulatedClock;
  reports: PodReport[];
  events: PodEventRecord[];
  calls: string[];
  zone: { health: ZoneHealth; provisionFails?: string; restartFails: number; shutdownHangs: boolean; pullFails: number; updates: number };
  root: ReturnType<typeof createActor<typeof clusterMachine>>;
  send(e: Parameters<ReturnType<typeof createActor<typeof clusterMachine>>['send']>[0]): void;
  pod(key?: string): AnyActorRef | undefined;
  state(key?: string): unknown;
  context(key?: string): Record<string, unknown>;
}

function harness(): Harness {
  const clock = new SimulatedClock();
  const reports: PodReport[] = [];
  const events: PodEventRecord[] = [];
  const calls: string[] = [];
  const zone = { health: 'running' as ZoneHealth, provisionFails: undefined as string | undefined, restartFails: 0, shutdownHangs: false, pullFails: 0, updates: 0 };
  const hosted = podMachine.provide({
    actors: {
      pullImages: fromPromise<void, { key: string }>(async () => {
        calls.push('pull');
        if (zone.pullFails > 0) {
          zone.pullFails--;
          throw new Error('Failed to pull image "registry.test/app:1": not found');
        }
      }),
      updateContainers: fromPromise<void, { key: string }>(async () => {
        calls.push('update');
        zone.updates++;
      }),
      provisionZone: fromPromise<ZoneUp, { key: string }>(async () => {
        calls.push('provision');
        if (zone.provisionFails) throw new Error(zone.provisionFails);
        zone.health = 'running';
        return { podIP: '10.88.0.2' };
      }),
      checkZone: fromPromise<ZoneHealth, { key: string }>(async () => {
        calls.push('check');
        return zone.health;
      }),
      restartZone: fromPromise<ZoneUp, { key: string }>(async () => {
        calls.push('restart');
        if (zone.restartFails > 0) {
          zone.restartFails--;
          throw new Error('boot failed');
        }
        zone.health = 'running';
        return { podIP: '10.88.0.2' };
      }),
      shutdownZone: fromPromise<void, { key: string; graceMs: number }>(({ signal }) => {
        calls.push('shutdown');
        if (!zone.shutdownHangs) return Promise.resolve();
        return new Promise((_, reject) => signal.addEventListener('abort', () => reject(new Error('aborted'))));
      }),
      haltZone: fromPromise<void, { key: string }>(async () => {
        calls.push('halt');
      }),
      deprovisionZone: fromPromise<{ problems: string[] }, { key: string }>(async () => {
        calls.push('deprovision');
        return { problems: [] };
      }),
      finalizePod: fromPromise<void, { key: string; uid: string }>(async () => {
        calls.push('finalize');
      }),
    },
    actions: {
      report: (_, p: PodReport) => {
        reports.push(p);
      },
      record: (_, p: PodEventRecord) => {
        events.push(p);
      },
    },
  });
  const root = createActor(clusterMachine.provide({ actors: { shard: hostingPods(hosted) } }), { clock });
  root.subscribe({ error: (e) => assert.fail(`cluster failed: ${String(e)}`) });
  root.start();
  const key0 = 'default/web';
  return {
    clock,
    reports,
    events,
    calls,
    zone,
    root,
    send: (e) => root.send(e),
    pod: (key = key0) => root.system.get(podId(key)),
    state: (key = key0) => root.system.get(podId(key))?.getSnapshot().value,
    context: (key = key0) => root.system.get(podId(key))?.getSnapshot().context,
  };
}

const input = (extra: Partial<PodInput> = {}): PodInput => ({ key: 'default/web', uid: 'u1', restartPolicy: 'Always', ...extra });

describe('pod machine', () => {
  it('provisions a new pod and runs it, reporting Pending then Running', async () => {
    const h = harness();
    h.send({ type: 'POD_BOUND', input: input() });
    assert.deepEqual(h.state(), { Provisioning: 'PullingImages' });
    await settle();
    assert.deepEqual(h.state(), { Running: 'Idle' });
    assert.deepEqual(h.calls, ['pull', 'provision']);
    assert.deepEqual(h.reports.map((r) => r.phase), ['Pending', 'Running']);
    assert.equal(h.reports[0]?.reason, 'ContainerCreating');
    assert.deepEqual(h.events.map((e) => e.reason), ['Provisioning', 'Started']);
    assert.equal(h.context().podIP, '10.88.0.2');
  });

  it('goes Failed with the runtime message when provisioning fails', async () => {
    const h = harness();
    h.zone.provisionFails = 'zoneadm install exited 1';
    h.send({ type: 'POD_BOUND', input: input() });
    await settle();
    assert.equal(h.state(), 'Failed');
    const failed = h.reports.at(-1);
    assert.equal(failed?.phase, 'Failed');
    assert.match(failed?.message ?? '', /zoneadm install exited 1/);
    assert.ok(h.events.some((e) => e.reason === 'Failed' && e.type === 'Warning' && /zoneadm install exited 1/.test(e.message)));
  });

  it('checks the zone every 30 s and restarts a crashed one with backoff 10 s, 20 s …', async () => {
    const h = harness();
    h.send({ type: 'POD_BOUND', input: input() });
    await settle();
    h.clock.increment(29_999);
    await settle();
    assert.equal(h.calls.filter((c) => c === 'check').length, 0);
    h.clock.increment(1);
    await settle();
    assert.equal(h.calls.filter((c) => c === 'check').length, 1);
    assert.deepEqual(h.state(), { Running: 'Idle' });
    h.zone.health = 'stopped';
    h.zone.restartFails = 1;
    h.clock.increment(30_000);
    await settle();
    assert.equal(h.state(), 'BackOff');
    assert.ok(h.events.some((e) => e.reason === 'BackOff'));
    h.clock.increment(9_999);
    await settle();
    assert.equal(h.state(), 'BackOff');
    h.clock.increment(1);
    await settle();
    // The first restart fails: back off twice as long.
    assert.equal(h.state(), 'BackOff');
    assert.equal(h.context().backoffMs, 20_000);
    h.clock.increment(20_000);
    await settle();
    assert.deepEqual(h.state(), { Running: 'Idle' });
    assert.equal(h.context().restartCount, 1);
    assert.deepEqual(h.calls.filter((c) => c === 'restart').length, 2);
  });

  it('caps the restart backoff at 5 minutes', async () => {
    const h = harness();
    h.send({ type: 'POD_BOUND', input: input() });
    await settle();
    h.zone.health = 'stopped';
    h.zone.restartFails = 100;
    h.clock.increment(30_000);
    await settle();
    for (let i = 0; i < 8; i++) {
      h.clock.increment(300_000);
      await settle();
    }
    assert.equal(h.context().backoffMs, 300_000);
  });

  it('fails a crashed zone instead of restarting it when restartPolicy is Never', async () => {
    const h = harness();
    h.send({ type: 'POD_BOUND', input: input({ restartPolicy: 'Never' }) });
    await settle();
    h.zone.health = 'absent';
    h.clock.increment(30_000);
    await settle();
    assert.equal(h.state(), 'Failed');
    assert.match(h.reports.at(-1)?.message ?? '', /absent/);
  });

  it('shuts down gracefully on delete, deprovisions, finalizes and is stopped by the parent', async () => {
    const h = harness();
    h.send({ type: 'POD_BOUND', input: input() });
    await settle();
    h.send({ type: 'POD_DELETING', key: 'default/web', graceMs: 30_000 });
    await settle();
    assert.deepEqual(h.calls, ['pull', 'provision', 'shutdown', 'deprovision', 'finalize']);
    assert.deepEqual(h.events.map((e) => e.reason), ['Provisioning', 'Started', 'Killing', 'Deprovisioned']);
    assert.equal(h.pod(), undefined, 'the finalized pod actor was stopped');
  });

  it('halts the zone when the grace period expires', async () => {
    const h = harness();
    h.send({ type: 'POD_BOUND', input: input() });
    await settle();
    h.zone.shutdownHangs = true;
    h.send({ type: 'POD_DELETING', key: 'default/web', graceMs: 5_000 });
    await settle();
    assert.equal(h.state(), 'Terminating');
    h.clock.increment(4_999);
    await settle();
    assert.equal(h.state(), 'Terminating');
    h.clock.increment(1);
    await settle();
    assert.deepEqual(h.calls, ['pull', 'provision', 'shutdown', 'halt', 'deprovision', 'finalize']);
    assert.ok(h.events.some((e) => e.reason === 'Halted'));
    assert.equal(h.pod(), undefined);
  });

  it('lets a second delete shorten the grace period', async () => {
    const h = harness();
    h.send({ type: 'POD_BOUND', input: input() });
    await settle();
    h.zone.shutdownHangs = true;
    h.send({ type: 'POD_DELETING', key: 'default/web', graceMs: 60_000 });
    h.send({ type: 'POD_DELETING', key: 'default/web', graceMs: 2_000 });
    h.clock.increment(2_000);
    await settle();
    assert.ok(h.calls.includes('halt'));
  });

  it('retries the finalize call until it succeeds', async () => {
    let fails = 2;
    const clock = new SimulatedClock();
    const calls: string[] = [];
    const root = createActor(clusterMachine.provide({
      actors: {
        shard: hostingPods(podMachine.provide({
          actors: {
            pullImages: fromPromise(async () => {}),
            provisionZone: fromPromise(async () => ({ podIP: '10.88.0.9' })),
            shutdownZone: fromPromise(async () => {}),
            deprovisionZone: fromPromise(async () => ({ problems: [] as string[] })),
            finalizePod: fromPromise(async () => {
              calls.push('finalize');
              if (fails-- > 0) throw new Error('API unreachable');
            }),
          },
        })),
      },
    }), { clock }).start();
    root.send({ type: 'POD_BOUND', input: input() });
    await settle();
    root.send({ type: 'POD_DELETING', key: 'default/web', graceMs: 1_000 });
    await settle();
    assert.equal(root.system.get(podId('default/web'))?.getSnapshot().value, 'FinalizeRetry');
    clock.increment(5_000);
    await settle();
    clock.increment(5_000);
    await settle();
    assert.equal(calls.length, 3);
    assert.equal(root.system.get(podId('default/web')), undefined);
  });

  it('adopts a running zone after a restart without provisioning it again', async () => {
    const h = harness();
    h.send({ type: 'POD_BOUND', input: input({ adopt: 'running', podIP: '10.88.0.7', restartCount: 2 }) });
    await settle();
    assert.deepEqual(h.state(), { Running: 'Idle' });
    assert.ok(!h.calls.includes('provision'));
    assert.equal(h.context().restartCount, 2);
    assert.equal(h.reports.at(-1)?.phase, 'Running');
  });

  it('adopts a terminating pod and resumes terminating', async () => {
    const h = harness();
    h.send({ type: 'POD_BOUND', input: input({ adopt: 'terminating', graceMs: 3_000 }) });
    await settle();
    assert.deepEqual(h.calls, ['shutdown', 'deprovision', 'finalize']);
  });

  it('checks a stopped zone found at adoption at once instead of waiting for the tick', async () => {
    const h = harness();
    h.zone.health = 'stopped';
    h.send({ type: 'POD_BOUND', input: input({ adopt: 'stopped' }) });
    await settle();
    assert.equal(h.state(), 'BackOff');
  });

  it('cleans up without finalizing when the object was removed behind its back', async () => {
    const h = harness();
    h.send({ type: 'POD_BOUND', input: input() });
    await settle();
    h.send({ type: 'POD_REMOVED', key: 'default/web' });
    await settle();
    assert.deepEqual(h.calls, ['pull', 'provision', 'deprovision']);
    assert.equal(h.pod(), undefined);
  });

  it('reports ErrImagePull, then ImagePullBackOff, and retries the pull after 10 s, 20 s … without creating anything', async () => {
    const h = harness();
    h.zone.pullFails = 2;
    h.send({ type: 'POD_BOUND', input: input() });
    await settle();
    assert.deepEqual(h.state(), { Provisioning: 'ImagePullBackOff' });
    assert.equal(h.reports.at(-1)?.reason, 'ErrImagePull');
    assert.match(h.reports.at(-1)?.message ?? '', /not found/);
    h.clock.increment(1_000);
    await settle();
    assert.equal(h.reports.at(-1)?.reason, 'ImagePullBackOff');
    assert.equal(h.reports.at(-1)?.phase, 'Pending');
    h.clock.increment(8_999);
    await settle();
    assert.deepEqual(h.calls, ['pull'], 'no retry before 10 s');
    h.clock.increment(1);
    await settle();
    assert.deepEqual(h.calls, ['pull', 'pull']);
    // The second failure waits twice as long.
    h.clock.increment(19_999);
    await settle();
    assert.deepEqual(h.calls, ['pull', 'pull']);
    h.clock.increment(1);
    await settle();
    assert.deepEqual(h.calls, ['pull', 'pull', 'pull', 'provision']);
    assert.deepEqual(h.state(), { Running: 'Idle' });
  });

  it('can be deleted while its image pull backs off, and nothing was provisioned', async () => {
    const h = harness();
    h.zone.pullFails = 1;
    h.send({ type: 'POD_BOUND', input: input() });
    await settle();
    h.send({ type: 'POD_DELETING', key: 'default/web', graceMs: 30_000 });
    await settle();
    assert.ok(!h.calls.includes('provision'));
    assert.equal(h.pod(), undefined);
  });

  it('updates its containers on a spec change and goes back to idle', async () => {
    const h = harness();
    h.send({ type: 'POD_BOUND', input: input() });
    await settle();
    h.send({ type: 'POD_SPEC_CHANGED', key: 'default/web' });
    await settle();
    assert.equal(h.zone.updates, 1);
    assert.deepEqual(h.state(), { Running: 'Idle' });
  });

  it('ends Succeeded when every container completed, Failed when one failed for good', async () => {
    const h = harness();
    h.send({ type: 'POD_BOUND', input: input({ restartPolicy: 'OnFailure' }) });
    h.send({ type: 'POD_BOUND', input: input({ key: 'default/job', restartPolicy: 'Never' }) });
    await settle();
    h.send({ type: 'POD_CONTAINERS_DONE', key: 'default/web', succeeded: true, message: '' });
    h.send({ type: 'POD_CONTAINERS_DONE', key: 'default/job', succeeded: false, message: 'container app exited with code 3' });
    await settle();
    assert.equal(h.state(), 'Succeeded');
    assert.equal(h.state('default/job'), 'Failed');
    assert.ok(h.reports.some((r) => r.phase === 'Succeeded'));
    assert.ok(h.reports.some((r) => r.phase === 'Failed' && /exited with code 3/.test(r.message ?? '')));
  });

  it('never spawns two actors for one pod', async () => {
    const h = harness();
    h.send({ type: 'POD_BOUND', input: input() });
    h.send({ type: 'POD_BOUND', input: input() });
    await settle();
    assert.equal(h.calls.filter((c) => c === 'provision').length, 1);
  });

  it('hosts pods in shards of at most SHARD_SIZE, one reconcile timer per shard, and refills freed slots', async () => {
    const h = harness();
    const n = SHARD_SIZE * 2 + 10;
    for (let i = 0; i < n; i++) h.send({ type: 'POD_BOUND', input: input({ key: `default/p${i}` }) });
    await settle();
    const childrenOf = (i: number): number => Object.keys(h.root.system.get(shardId(i))?.getSnapshot().children ?? {}).length;
    assert.deepEqual([0, 1, 2].map(childrenOf), [SHARD_SIZE, SHARD_SIZE, 10]);
    assert.equal(h.root.system.get(shardId(3)), undefined);
    assert.deepEqual(h.state('default/p0'), { Running: 'Idle' });
    // Three timers for n pods: one tick per shard, which checks every pod in it.
    assert.equal(Object.keys(h.root.system.getSnapshot()._scheduledEvents).length, 3);
    h.clock.increment(30_000);
    await settle();
    assert.equal(h.calls.filter((c) => c === 'check').length, n);
    // A pod of the first shard goes; the next pod takes its slot instead of opening a shard.
    h.send({ type: 'POD_DELETING', key: 'default/p0', graceMs: 1_000 });
    await settle();
    assert.equal(h.pod('default/p0'), undefined);
    assert.equal(childrenOf(0), SHARD_SIZE - 1);
    h.send({ type: 'POD_BOUND', input: input({ key: 'default/late' }) });
    assert.ok(h.root.system.get(shardId(0))?.getSnapshot().children[podId('default/late')]);
    assert.equal(h.root.system.get(shardId(3)), undefined);
  });
});
