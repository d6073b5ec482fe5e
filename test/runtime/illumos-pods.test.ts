// The agent's pod host on IllumosRuntime and the simulated illumos host: a failure injected at
// each provisioning step leaves no zone, VNIC, dataset or address behind (SPEC §11.6).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { open } from 'lmdb';
import { LocalClient } from '../../src/client/local.ts';
import { startPodHost } from '../../src/agent/pods.ts';
import { Ipam } from '../../src/runtime/ipam.ts';
import { PROVISION_STEPS } from '../../src/runtime/steps.ts';
import { illumosRuntime } from '../../src/runtime/illumos/start.ts';
import { ExecRunner } from '../../src/runtime/illumos/exec.ts';
import type { Pod } from '../../src/api/model/types.ts';
import { openStore } from '../helpers/server.ts';
import { FakeIllumosHost } from '../fakes/host.ts';

// Generous: each tool call is a node process, and a loaded CI host makes them slow.
async function until(what: string, cond: () => boolean, ms = 60_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('pod host on the illumos runtime', { concurrency: 3 }, () => {
  for (const step of PROVISION_STEPS) {
    it(`leaves nothing behind when ${step} fails: no zone, VNIC, dataset or address`, async () => {
      const fake = FakeIllumosHost.create();
      const { store, dir, close } = await openStore();
      const env = open({ path: join(dir, 'agent'), compression: false });
      try {
        const client = new LocalClient(store);
        const ipam = Ipam.open(env, '10.88.0.0/16');
        const runtime = illumosRuntime({ storage: {}, etherstub: 'reddwarf0', podCidr: '10.88.0.0/16', runner: new ExecRunner({ env: fake.env() }) });
        await runtime.initialize();
        const baseline = { datasets: fake.datasets(), vnics: fake.vnics() };
        fake.injectFault(step, { message: `${step} exploded` });
        const host = startPodHost({ client, node: 'n1', runtime, ipam, zone: { zonepathPrefix: '/rpool/zones', link: 'reddwarf0', brands: ['sparse'] }, log: () => {} });
        try {
          await client.create<Pod>('pods', { metadata: { name: 'bad', namespace: 'default' }, spec: { nodeName: 'n1', containers: [{ name: 'c', image: 'i' }] } });
          const pod = (): Pod | undefined => store.get('pods', 'default', 'bad') as Pod | undefined;
          await until('Failed', () => pod()?.status?.phase === 'Failed');
          assert.match(pod()?.status?.message ?? '', new RegExp(`${step} exploded`));
          assert.deepEqual(fake.zones(), {});
          assert.deepEqual(fake.vnics(), baseline.vnics);
          assert.deepEqual(fake.datasets(), baseline.datasets);
          assert.equal(ipam.lookup('default/bad'), undefined);
        } finally {
          host.stop();
        }
      } finally {
        await env.close();
        await close();
        fake.dispose();
      }
    });
  }
});
