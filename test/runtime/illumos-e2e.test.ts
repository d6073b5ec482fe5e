// End to end on the simulated illumos host: `reddwarf up --runtime illumos` with the fake tools
// first on PATH, driven by kubectl 1.31: apply → Running with VNIC, address and dataset on the
// host; SIGKILL + restart adopts the running zone; delete → everything gone, the address free again.
import { describe, it, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { kubectl, kubectlMissing } from '../helpers/kubectl.ts';
import { makeTempDir, pollUntil, startUp } from '../helpers/process.ts';
import { FakeIllumosHost } from '../fakes/host.ts';
import { realZoneSkipReason } from '../helpers/realzone.ts';

const WAIT_MS = 20_000;

const podYaml = (name: string): string => `apiVersion: v1
kind: Pod
metadata:
  name: ${name}
spec:
  containers:
  - name: app
    image: nginx
    command: [/bin/sh, -c, 'echo app up; exec sleep 3600']
    resources:
      limits: {cpu: 500m, memory: 256Mi}
  - name: sidecar
    image: busybox
    command: [/bin/sleep, '3600']
    resources:
      limits: {cpu: 250m, memory: 128Mi}
`;

describe('illumos runtime end to end (simulated host, kubectl 1.31)', () => {
  it('runs a pod’s whole life and adopts its zone after SIGKILL', async (t: TestContext) => {
    const missing = kubectlMissing() ?? realZoneSkipReason({ compiler: true });
    if (missing) {
      console.error(`SKIPPED: illumos runtime end to end: ${missing}`);
      return t.skip(missing);
    }
    // Real zone roots: the sparse zone's containers run their commands on its (busybox) userland.
    const host = FakeIllumosHost.create({ realRoot: true });
    // The spawned `reddwarf up` inherits this environment (startUp takes no env): the fake tools
    // come first on PATH. Restored at the end.
    const savedEnv = { PATH: process.env['PATH'], REDDWARF_FAKE_HOST: process.env['REDDWARF_FAKE_HOST'] };
    Object.assign(process.env, host.env());
    const dataDir = makeTempDir('reddwarf-illumos-data-');
    // Simulated pulls: this test names images that exist nowhere, and tests never reach a public registry.
    // The simulated host has no /usr/lib/brand to detect brands from: name the one it runs.
    const args = ['--runtime', 'illumos', '--image-pulls', 'simulated', '--node-name', 'illumos-e2e', '--supported-brands', 'sparse', '--zonepath-prefix', host.mountpoint('rpool/zones')];
    let up = await startUp({ dataDir, args });
    // The restarted `up` rewrites the same kubeconfig in the same data dir.
    const k = kubectl(up.kubeconfig);
    try {
      // Agent start prepared the host: base datasets, etherstub, the pods' gateway.
      const s0 = host.state();
      for (const d of ['rpool/zones', 'rpool/images', 'rpool/volumes']) assert.ok(s0.datasets[d], `${d} missing`);
      assert.equal(s0.links['reddwarf0']?.class, 'etherstub');
      assert.equal(s0.addrs['reddwarf0_gw0/v4'], '10.88.0.1/16');

      const applied = await k.run('apply', '-f', k.file('web.yaml', podYaml('web')));
      assert.equal(applied.code, 0, applied.stderr);
      const phase = async (name: string): Promise<string> => (await k.run('get', 'pod', name, '-o', 'jsonpath={.status.phase} {.status.podIP}')).stdout;
      const running = await pollUntil(async () => ((await phase('web')).startsWith('Running ') ? phase('web') : undefined), WAIT_MS, 100);
      assert.ok(running, `pod not Running; agent log:\n${up.stderrTail(30)}`);
      const podIP = running.split(' ')[1];
      assert.equal(podIP, '10.88.0.2');

      const zoneName = 'reddwarf-default-web';
      const zone = host.zones()[zoneName];
      assert.equal(zone?.state, 'running');
      assert.deepEqual(zone?.nets.map((n) => [n.allowedAddress, n.defrouter]), [['10.88.0.2/16', '10.88.0.1']]);
      assert.equal(zone?.cappedCpu, '0.75');
      assert.equal(zone?.cappedMemory, '384M');
      const vnic = zone?.nets[0]?.physical ?? '';
      assert.deepEqual(host.state().links[vnic], { class: 'vnic', over: 'reddwarf0' });
      assert.ok(host.datasets().includes(`rpool/zones/${zoneName}`));

      // A crash of the agent: the zone keeps running and is adopted, not provisioned again.
      await up.kill9();
      const before = host.commands().length;
      const zoneId = zone?.id;
      up = await startUp({ dataDir, args });
      assert.equal(up.port > 0, true);
      await pollUntil(async () => (await phase('web')).startsWith('Running '), WAIT_MS, 100);
      const after = host.commands().slice(before).map((c) => c.join(' '));
      assert.deepEqual(after.filter((c) => /zoneadm -z \S+ (install|boot)|zonecfg -z \S+ -f|create-vnic -l reddwarf0 rd_|zfs create rpool\/zones\//.test(c)), [], `re-provisioned after restart:\n${after.join('\n')}`);
      assert.equal(host.zones()[zoneName]?.id, zoneId);

      const deleted = await k.run('delete', 'pod', 'web', '--wait=true', '--timeout=20s');
      assert.equal(deleted.code, 0, deleted.stderr);
      const gone = await pollUntil(() => !host.zones()[zoneName] && !host.state().links[vnic] && !host.datasets().includes(`rpool/zones/${zoneName}`), WAIT_MS, 100);
      assert.ok(gone, `zone, VNIC or dataset left: ${JSON.stringify({ zones: Object.keys(host.zones()), vnics: host.vnics(), datasets: host.datasets() })}`);

      // The address is free again: the next pod gets it.
      assert.equal((await k.run('apply', '-f', k.file('next.yaml', podYaml('next')))).code, 0);
      const next = await pollUntil(async () => ((await phase('next')).startsWith('Running ') ? phase('next') : undefined), WAIT_MS, 100);
      assert.equal(next?.split(' ')[1], '10.88.0.2');
    } finally {
      await up.stop();
      up.cleanup();
      rmSync(dataDir, { recursive: true, force: true });
      k.cleanup();
      host.dispose();
      for (const [name, v] of Object.entries(savedEnv)) {
        if (v === undefined) delete process.env[name];
        else process.env[name] = v;
      }
    }
  });
});
