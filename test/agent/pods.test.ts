// The agent's pod host on a real store and the simulated (mock) host: provisioning, rollback of a
// failed step, adoption after an agent restart, and the way out through finalize. Time is a
// SimulatedClock: the reconcile tick and the container poll run when a test moves it.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { open } from 'lmdb';
import { SimulatedClock } from 'xstate';
import { LocalClient } from '../../src/client/local.ts';
import { ClientError } from '../../src/client/client.ts';
import { startPodHost, type PodHost } from '../../src/agent/pods.ts';
import { Ipam } from '../../src/runtime/ipam.ts';
import { MockRuntime } from '../../src/runtime/mock.ts';
import { PROVISION_STEPS } from '../../src/runtime/steps.ts';
import type { CoreEvent, Pod } from '../../src/api/model/types.ts';
import { openStore } from '../helpers/server.ts';
import { podWorkload, simulatedSource } from '../../src/agent/workload.ts';

const POLL_MS = 2_000;

/**
 * Waits for the effects (store writes, mock steps) to make `cond` true; with `clock`, each round
 * also moves simulated time one container poll on. Bounded in rounds, not timed.
 */
async function until(what: string, cond: () => boolean | Promise<boolean>, clock?: SimulatedClock): Promise<void> {
  for (let round = 0; !(await cond()); round++) {
    if (round > 2000) assert.fail(`never saw ${what}`);
    clock?.increment(POLL_MS);
    await new Promise((r) => setImmediate(r));
    if (round % 10 === 9) await new Promise((r) => setTimeout(r, 1));
  }
}

async function setup() {
  const { store, dir, close } = await openStore();
  const client = new LocalClient(store);
  const env = open({ path: join(dir, 'agent'), compression: false });
  const ipam = Ipam.open(env, '10.88.0.0/16');
  const runtime = new MockRuntime({ dir: join(dir, 'zones'), stepDelayMs: 0 });
  const hosts: PodHost[] = [];
  const clock = new SimulatedClock();
  const host = (rt: MockRuntime = runtime): PodHost => {
    const workload = podWorkload({ client, images: simulatedSource(), node: 'n1', brands: ['lx'], hostIP: '192.0.2.7', podIP: (key) => ipam.lookup(key)?.ip });
    const h = startPodHost({ client, node: 'n1', hostIP: '192.0.2.7', runtime: rt, ipam, zone: { zonepathPrefix: '/rpool/zones', link: 'reddwarf0', brands: ['lx'] }, workload, containerPollMs: POLL_MS, clock, log: () => {} });
    hosts.push(h);
    return h;
  };
  const pod = async (name: string): Promise<Pod> => client.create<Pod>('pods', { metadata: { name, namespace: 'default' }, spec: { nodeName: 'n1', containers: [{ name: 'c', image: 'i' }] } });
  const get = (name: string): Pod | undefined => store.get('pods', 'default', name) as Pod | undefined;
  const events = (name: string): string[] => store.list('events', { namespace: 'default' }).items.filter((e) => (e as CoreEvent).involvedObject.name === name).map((e) => (e as CoreEvent).reason ?? '');
  return {
    store, client, ipam, runtime, host, pod, get, events, dir, clock,
    async close() {
      for (const h of hosts) await h.stop();
      await env.close();
      await close();
    },
  };
}

describe('agent pod host', () => {
  it('provisions a bound pod to Running with an address, a zone, a VNIC and a dataset', async () => {
    const t = await setup();
    t.host();
    await t.pod('web');
    await until('Running', () => t.get('web')?.status?.phase === 'Running');
    const ip = t.get('web')?.status?.podIP ?? '';
    assert.match(ip, /^10\.88\.\d+\.\d+$/);
    assert.equal(t.ipam.lookup('default/web')?.ip, ip);
    assert.equal(t.get('web')?.status?.hostIP, '192.0.2.7');
    assert.deepEqual(t.get('web')?.status?.hostIPs, [{ ip: '192.0.2.7' }]);
    assert.equal((await t.runtime.list()).filter((z) => z.state === 'running').length, 1);
    assert.equal(t.runtime.vnics().length, 1);
    assert.equal(t.runtime.datasets().length, 1);
    await until('events', () => t.events('web').includes('Started'));
    assert.deepEqual(t.events('web'), ['Pulled', 'Provisioning', 'Started']);
    await t.close();
  });

  for (const step of PROVISION_STEPS) {
    it(`leaves nothing behind when the ${step} step fails: no zone, VNIC, dataset or address`, async () => {
      const t = await setup();
      t.runtime.injectFault(step, { message: `${step} exploded` });
      t.host();
      await t.pod('bad');
      await until('Failed', () => t.get('bad')?.status?.phase === 'Failed');
      assert.match(t.get('bad')?.status?.message ?? '', new RegExp(`${step} exploded`));
      assert.deepEqual(await t.runtime.list(), []);
      assert.deepEqual(t.runtime.vnics(), []);
      assert.deepEqual(t.runtime.datasets(), []);
      assert.equal(t.ipam.lookup('default/bad'), undefined);
      await t.close();
    });
  }

  it('writes the status again after a 429 from a busy server: the pod still shows Running', async () => {
    const t = await setup();
    let refusedAt: number | undefined;
    // From the write that says Running on, the API server answers status writes with 429 for 10 s, as under a create flood.
    const busy = Object.create(t.client) as LocalClient;
    busy.patch = (async (resource: string, namespace: string, name: string, patch: unknown, opts?: { status?: boolean }) => {
      const running = (patch as { status?: { phase?: string } }).status?.phase === 'Running';
      if (opts?.status && ((refusedAt === undefined && running) || (refusedAt !== undefined && t.clock.now() < refusedAt + 10_000))) {
        refusedAt ??= t.clock.now();
        throw new ClientError(429, 'TooManyRequests', 'Too many requests, please try again later.');
      }
      return t.client.patch(resource, namespace, name, patch, opts);
    }) as LocalClient['patch'];
    const workload = podWorkload({ client: busy, images: simulatedSource(), node: 'n1', brands: ['lx'], podIP: (key) => t.ipam.lookup(key)?.ip });
    const h = startPodHost({ client: busy, node: 'n1', runtime: t.runtime, ipam: t.ipam, zone: { zonepathPrefix: '/rpool/zones', link: 'reddwarf0', brands: ['lx'] }, workload, containerPollMs: POLL_MS, clock: t.clock, log: () => {} });
    await t.pod('busy');
    await until('the refused Running write', () => refusedAt !== undefined);
    assert.notEqual(t.get('busy')?.status?.phase, 'Running');
    await until('Running', () => t.get('busy')?.status?.phase === 'Running', t.clock);
    // Retried on its back-off (1, 2, 4, 8 s …) once the server takes writes again, not left for some later change to carry.
    const after = t.clock.now() - (refusedAt ?? 0);
    assert.ok(after <= 20_000, `Running only ${after} simulated ms after the first refusal`);
    await h.stop();
    await t.close();
  });

  it('records an event whose name the scheduler took in the same millisecond under the next name, not lost', async () => {
    const t = await setup();
    // The agent names events <pod>.<ms × 10⁶ in hex>: take the name its first event would get.
    const at = Date.now() + 10_000_000_000;
    t.clock.set(at);
    const taken = `web.${(BigInt(at) * 1_000_000n).toString(16)}`;
    await t.client.create<CoreEvent>('events', { metadata: { name: taken, namespace: 'default' }, involvedObject: { kind: 'Pod', namespace: 'default', name: 'web' }, reason: 'Scheduled', message: 'Successfully assigned default/web to n1' } as CoreEvent);
    t.host(t.runtime);
    await t.pod('web');
    await until('events', () => t.events('web').includes('Started'));
    assert.deepEqual(t.events('web').sort(), ['Provisioning', 'Pulled', 'Scheduled', 'Started']);
    await t.close();
  });

  it('deletes a running pod: shutdown, deprovision, address released, object finalized', async () => {
    const t = await setup();
    t.host();
    await t.pod('web');
    await until('Running', () => t.get('web')?.status?.phase === 'Running');
    await t.client.delete('pods', 'default', 'web');
    await until('gone', () => t.get('web') === undefined);
    assert.deepEqual(await t.runtime.list(), []);
    assert.deepEqual(t.runtime.vnics(), []);
    assert.equal(t.ipam.lookup('default/web'), undefined);
    await t.close();
  });

  it('adopts a running zone after an agent restart instead of provisioning it again', async () => {
    const t = await setup();
    const first = t.host();
    await t.pod('web');
    await until('Running', () => t.get('web')?.status?.phase === 'Running');
    const before = await t.runtime.list();
    await first.stop();
    await t.runtime.flushed();
    // A new agent process: a new runtime object on the same host state.
    const again = new MockRuntime({ dir: join(t.dir, 'zones'), stepDelayMs: 0 });
    const second = t.host(again);
    await second.ready;
    // ready means adopted: the actor is there, already Running on the zone it found.
    assert.deepEqual(second.actor.system.get('pod/default/web')?.getSnapshot().value, { Running: 'Idle' });
    assert.deepEqual(await again.list(), before, 'same zone, same id: not re-provisioned');
    assert.equal(t.get('web')?.status?.phase, 'Running');
    assert.equal(t.events('web').filter((e) => e === 'Provisioning').length, 1);
    await t.close();
  });

  it('restarts just the container whose image changed: new imageID, restartCount 1, Killing and Started events', async () => {
    const t = await setup();
    t.host();
    await t.client.create<Pod>('pods', { metadata: { name: 'two', namespace: 'default' }, spec: { nodeName: 'n1', containers: [{ name: 'a', image: 'app:1' }, { name: 'b', image: 'side:1' }] } });
    await until('Running with statuses', () => t.get('two')?.status?.phase === 'Running' && (t.get('two')?.status?.containerStatuses ?? []).every((c) => c['ready'] === true), t.clock);
    const before = new Map((t.get('two')?.status?.containerStatuses ?? []).map((c) => [c['name'], c]));
    assert.match(String(before.get('a')?.['imageID']), /^docker\.io\/library\/app@sha256:[0-9a-f]{64}$/);
    await t.client.patch<Pod>('pods', 'default', 'two', { spec: { containers: [{ name: 'a', image: 'app:2' }, { name: 'b', image: 'side:1' }] } });
    await until('a restarted', () => t.get('two')?.status?.containerStatuses?.find((c) => c['name'] === 'a')?.['restartCount'] === 1, t.clock);
    const after = new Map((t.get('two')?.status?.containerStatuses ?? []).map((c) => [c['name'], c]));
    assert.notEqual(after.get('a')?.['imageID'], before.get('a')?.['imageID']);
    assert.equal(after.get('a')?.['image'], 'app:2');
    assert.equal(after.get('b')?.['restartCount'], 0, 'the other container kept running');
    assert.equal(after.get('b')?.['imageID'], before.get('b')?.['imageID']);
    await until('Killing event', () => t.events('two').includes('Killing'));
    await t.close();
  });

  it('follows an image changed while the agent was down, once it adopts the zone again', async () => {
    const t = await setup();
    const first = t.host();
    await t.pod('web');
    await until('ready', () => t.get('web')?.status?.containerStatuses?.[0]?.['ready'] === true);
    await first.stop();
    await t.runtime.flushed();
    await t.client.patch<Pod>('pods', 'default', 'web', { spec: { containers: [{ name: 'c', image: 'i:2' }] } });
    const second = t.host(new MockRuntime({ dir: join(t.dir, 'zones'), stepDelayMs: 0 }));
    await second.ready;
    await until('restarted on i:2', () => {
      const c = t.get('web')?.status?.containerStatuses?.[0];
      return c?.['image'] === 'i:2' && c['restartCount'] === 1;
    }, t.clock);
    assert.equal(t.events('web').filter((e) => e === 'Provisioning').length, 1, 'adopted, not provisioned again');
    await t.close();
  });

  it('deletes a pod at once after creating it without a warning: a zone that never ran is no failure', async () => {
    const t = await setup();
    t.host();
    await t.pod('quick');
    await t.client.delete('pods', 'default', 'quick');
    await until('gone', () => t.get('quick') === undefined);
    const warnings = t.store.list('events', { namespace: 'default' }).items.filter((e) => (e as CoreEvent).involvedObject.name === 'quick' && (e as CoreEvent).type === 'Warning');
    assert.deepEqual(warnings.map((e) => (e as CoreEvent).message), []);
    assert.deepEqual(await t.runtime.list(), []);
    await t.close();
  });

  it('notices a crashed zone at the reconcile and backs off before restarting it', async () => {
    const t = await setup();
    const h = t.host();
    await t.pod('web');
    await until('Running', () => t.get('web')?.status?.phase === 'Running');
    const zone = (await t.runtime.list())[0]?.zoneName as string;
    await t.runtime.crash(zone);
    // Nothing notices before the reconcile tick; the tick (30 s on) checks the zone.
    t.clock.increment(29_000);
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(h.actor.system.get('pod/default/web')?.getSnapshot().value, { Running: 'Idle' });
    t.clock.increment(1_000);
    await until('BackOff', () => h.actor.system.get('pod/default/web')?.getSnapshot().value === 'BackOff');
    await until('BackOff event', () => t.events('web').includes('BackOff'));
    await until('CrashLoopBackOff status', () => t.get('web')?.status?.conditions?.find((c) => c.type === 'Ready')?.reason === 'CrashLoopBackOff');
    await t.close();
  });
});
