// The ZoneRuntime contract: what every runtime (mock, illumos on a simulated host) must do.
// Capabilities a host may lack (fault injection, crashes, restarts) are skipped when absent.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { ZoneRuntime, ZoneSpec } from '../../src/runtime/runtime.ts';
import { InvalidZoneSpec, InvalidZoneTransition, ProvisionFailed, ZoneAlreadyExists, ZoneNotFound } from '../../src/runtime/errors.ts';
import { PROVISION_STEPS, type FaultHandle, type FaultOptions, type ZoneStep } from '../../src/runtime/steps.ts';
import { vnicName, zoneName } from '../../src/api/model/zone-names.ts';

/** One fresh host with a runtime on it. */
export interface RuntimeHarness {
  runtime: ZoneRuntime;
  /** Zone datasets on the host, to check that nothing leaks. */
  datasets(): string[] | Promise<string[]>;
  /** VNICs on the host. */
  vnics(): string[] | Promise<string[]>;
  injectFault?(step: ZoneStep, opts?: FaultOptions): FaultHandle;
  /** The zone stops as after a crash (`installed`), or disappears with `vanish`. */
  crash?(zoneName: string, opts?: { vanish?: boolean }): Promise<void>;
  /** A new runtime on the same host, as after an agent restart. */
  reopen?(): Promise<ZoneRuntime>;
  dispose(): Promise<void>;
}

/** A pod's spec as src/runtime/zonespec.ts would build it. */
export function testSpec(pod: string, extra: Partial<ZoneSpec> = {}): ZoneSpec {
  const zone = zoneName('default', pod);
  return {
    pod: `default/${pod}`,
    uid: `uid-${pod}`,
    zoneName: zone,
    brand: 'sparse',
    zonepath: `/rpool/zones/${zone}`,
    network: { vnic: vnicName('default', pod), link: 'reddwarf0', ip: '10.88.0.2', prefixLen: 16, gateway: '10.88.0.1' },
    restartPolicy: 'Always',
    initContainers: [],
    containers: [{ name: 'web', argv: ['/usr/bin/httpd', '-f'], env: [['PORT', '80']], cwd: '/', uid: 0, gid: 0 }],
    ...extra,
  };
}

/** Runs the contract against hosts made by `make`. */
export function zoneRuntimeContract(make: () => Promise<RuntimeHarness>): void {
  async function withHost(fn: (h: RuntimeHarness) => Promise<void>): Promise<void> {
    const h = await make();
    try {
      await fn(h);
    } finally {
      await h.dispose();
    }
  }

  /** Nothing of `spec` is left on the host. */
  async function assertGone(h: RuntimeHarness, spec: ZoneSpec, rt: ZoneRuntime = h.runtime): Promise<void> {
    assert.equal(await rt.state(spec.zoneName), 'absent');
    assert.deepEqual((await h.datasets()).filter((d) => d.endsWith(`/${spec.zoneName}`)), [], 'dataset left behind');
    assert.ok(!(await h.vnics()).includes(spec.network.vnic), 'vnic left behind');
  }

  describe('provision and deprovision', () => {
    it('provisions a running zone with a zone id, its dataset and its VNIC', () => withHost(async (h) => {
      const spec = testSpec('web');
      const status = await h.runtime.provision(spec);
      assert.equal(status.zoneName, spec.zoneName);
      assert.equal(status.state, 'running');
      assert.equal(typeof status.zoneId, 'number');
      assert.equal(await h.runtime.state(spec.zoneName), 'running');
      assert.equal((await h.datasets()).filter((d) => d.endsWith(`/${spec.zoneName}`)).length, 1);
      assert.ok((await h.vnics()).includes(spec.network.vnic));
    }));

    it('deprovisions zone, VNIC and dataset without problems', () => withHost(async (h) => {
      const spec = testSpec('web');
      await h.runtime.provision(spec);
      assert.deepEqual(await h.runtime.deprovision(spec), { problems: [] });
      await assertGone(h, spec);
    }));

    it('deprovisions a zone that does not exist without problems', () => withHost(async (h) => {
      assert.deepEqual(await h.runtime.deprovision(testSpec('never')), { problems: [] });
    }));

    it('provisions again idempotently for the same pod', () => withHost(async (h) => {
      const spec = testSpec('web');
      const first = await h.runtime.provision(spec);
      const again = await h.runtime.provision(spec);
      assert.deepEqual(again, first);
      assert.equal((await h.runtime.list()).length, 1);
    }));

    it('refuses a zone name held by another pod and leaves that zone alone', () => withHost(async (h) => {
      const spec = testSpec('web');
      await h.runtime.provision(spec);
      const other = { ...spec, uid: 'another-uid' };
      await assert.rejects(h.runtime.provision(other), ZoneAlreadyExists);
      assert.equal(await h.runtime.state(spec.zoneName), 'running');
      assert.match((await h.runtime.deprovision(other)).problems.join(), /belongs to pod uid uid-web/);
      assert.equal(await h.runtime.state(spec.zoneName), 'running');
    }));

    it('deprovisions whatever holds the name when the spec has no uid (orphan cleanup)', () => withHost(async (h) => {
      const spec = testSpec('web');
      await h.runtime.provision(spec);
      assert.deepEqual(await h.runtime.deprovision({ ...spec, uid: '' }), { problems: [] });
      await assertGone(h, spec);
    }));

    it('refuses an lx zone without an image before creating anything (bug 6); the mock installs nothing and takes it', () => withHost(async (h) => {
      const spec = testSpec('linux', { brand: 'lx' });
      if (h.runtime.kind === 'mock') {
        await h.runtime.provision(spec);
        await h.runtime.deprovision(spec);
        return;
      }
      await assert.rejects(h.runtime.provision(spec), (e) => e instanceof InvalidZoneSpec && /LX brand zone requires an image path/.test(e.message));
      await assertGone(h, spec);
    }));

    it('refuses an invalid VNIC name before creating anything (bug 5)', () => withHost(async (h) => {
      const spec = testSpec('web');
      spec.network.vnic = 'vnic_default_web';
      await assert.rejects(h.runtime.provision(spec), InvalidZoneSpec);
      await assertGone(h, spec);
    }));

    it('lists every zone it manages', () => withHost(async (h) => {
      for (const p of ['a', 'b', 'c']) await h.runtime.provision(testSpec(p));
      const zones = await h.runtime.list();
      assert.deepEqual(zones.map((z) => z.zoneName).sort(), ['a', 'b', 'c'].map((p) => zoneName('default', p)).sort());
      assert.ok(zones.every((z) => z.state === 'running'));
    }));

    it('does nothing when the signal is already aborted', () => withHost(async (h) => {
      const spec = testSpec('web');
      await assert.rejects(h.runtime.provision(spec, AbortSignal.abort()));
      await assertGone(h, spec);
    }));
  });

  describe('zone states', () => {
    it('answers absent for an unknown zone instead of failing', () => withHost(async (h) => {
      assert.equal(await h.runtime.state('reddwarf-default-nope'), 'absent');
    }));

    it('reports ZoneNotFound for boot, shutdown and halt of an unknown zone', () => withHost(async (h) => {
      await assert.rejects(h.runtime.boot('reddwarf-default-nope'), ZoneNotFound);
      await assert.rejects(h.runtime.shutdown('reddwarf-default-nope'), ZoneNotFound);
      await assert.rejects(h.runtime.halt('reddwarf-default-nope'), ZoneNotFound);
    }));

    it('shuts down to installed and boots again with a new zone id', () => withHost(async (h) => {
      const spec = testSpec('web');
      const first = await h.runtime.provision(spec);
      await h.runtime.shutdown(spec.zoneName);
      assert.equal(await h.runtime.state(spec.zoneName), 'installed');
      const again = await h.runtime.boot(spec.zoneName);
      assert.equal(again.state, 'running');
      assert.notEqual(again.zoneId, first.zoneId);
    }));

    it('halts to installed', () => withHost(async (h) => {
      const spec = testSpec('web');
      await h.runtime.provision(spec);
      await h.runtime.halt(spec.zoneName);
      assert.equal(await h.runtime.state(spec.zoneName), 'installed');
      assert.equal((await h.runtime.list())[0]?.zoneId, undefined);
    }));

    it('refuses to shut down or halt a zone that is not running, and to boot a running one', () => withHost(async (h) => {
      const spec = testSpec('web');
      await h.runtime.provision(spec);
      await assert.rejects(h.runtime.boot(spec.zoneName), InvalidZoneTransition);
      await h.runtime.halt(spec.zoneName);
      await assert.rejects(h.runtime.shutdown(spec.zoneName), (e) => e instanceof InvalidZoneTransition && e.from === 'installed');
      await assert.rejects(h.runtime.halt(spec.zoneName), InvalidZoneTransition);
    }));

    it('deprovisions an installed zone', () => withHost(async (h) => {
      const spec = testSpec('web');
      await h.runtime.provision(spec);
      await h.runtime.shutdown(spec.zoneName);
      assert.deepEqual(await h.runtime.deprovision(spec), { problems: [] });
      await assertGone(h, spec);
    }));
  });

  describe('failures during provisioning leave nothing behind (bug 6)', () => {
    for (const step of PROVISION_STEPS) {
      it(`rolls back when ${step} fails`, (t) => withHost(async (h) => {
        if (!h.injectFault) return t.skip('the host cannot simulate fault injection');
        const spec = testSpec('web');
        h.injectFault(step, { message: `no ${step} today` });
        await assert.rejects(h.runtime.provision(spec), (e) => {
          assert.ok(e instanceof ProvisionFailed);
          assert.equal(e.step, step);
          assert.deepEqual(e.leftovers, []);
          assert.match(e.message, new RegExp(`failed at ${step}: no ${step} today`));
          return true;
        });
        await assertGone(h, spec);
        // The next attempt starts from a clean host and succeeds.
        assert.equal((await h.runtime.provision(spec)).state, 'running');
      }));

      it(`rolls back when aborted while ${step} hangs`, (t) => withHost(async (h) => {
        if (!h.injectFault) return t.skip('the host cannot simulate fault injection');
        const spec = testSpec('web');
        const fault = h.injectFault(step, { hang: true });
        const ac = new AbortController();
        const provisioning = h.runtime.provision(spec, ac.signal);
        await fault.reached;
        ac.abort();
        await assert.rejects(provisioning, (e) => e instanceof ProvisionFailed && e.step === step);
        await assertGone(h, spec);
      }));
    }

    it('reports what the rollback could not undo', (t) => withHost(async (h) => {
      if (!h.injectFault) return t.skip('the host cannot simulate fault injection');
      const spec = testSpec('web');
      h.injectFault('install');
      h.injectFault('vnic-delete', { message: 'link busy' });
      await assert.rejects(h.runtime.provision(spec), (e) => e instanceof ProvisionFailed && e.leftovers.length === 1 && /undo vnic: link busy/.test(e.message));
      assert.ok((await h.vnics()).includes(spec.network.vnic));
      assert.equal(await h.runtime.state(spec.zoneName), 'absent');
      assert.deepEqual(await h.runtime.deprovision(spec), { problems: [] });
      await assertGone(h, spec);
    }));
  });

  describe('deprovisioning carries on past failures (bug 6)', () => {
    const cases: { step: ZoneStep; problem: RegExp; zoneLeft: boolean }[] = [
      { step: 'halt', problem: /^halt zone /, zoneLeft: true },
      { step: 'uninstall', problem: /^uninstall zone /, zoneLeft: true },
      { step: 'delete', problem: /^delete zone /, zoneLeft: true },
      { step: 'vnic-delete', problem: /^delete vnic /, zoneLeft: false },
      { step: 'dataset-destroy', problem: /^destroy dataset /, zoneLeft: false },
    ];
    for (const c of cases) {
      it(`reports a failing ${c.step} and still removes the rest`, (t) => withHost(async (h) => {
        if (!h.injectFault) return t.skip('the host cannot simulate fault injection');
        const spec = testSpec('web');
        await h.runtime.provision(spec);
        h.injectFault(c.step);
        const report = await h.runtime.deprovision(spec);
        // A zone that will not halt keeps its VNIC and dataset busy: those may be reported too.
        if (c.step !== 'halt') assert.equal(report.problems.length, 1, report.problems.join('\n'));
        assert.match(report.problems[0] ?? '', c.problem);
        assert.equal((await h.runtime.state(spec.zoneName)) !== 'absent', c.zoneLeft);
        if (c.step !== 'vnic-delete' && c.step !== 'halt') assert.ok(!(await h.vnics()).includes(spec.network.vnic));
        // Once the fault is gone a second deprovision finishes the job.
        assert.deepEqual(await h.runtime.deprovision(spec), { problems: [] });
        await assertGone(h, spec);
      }));
    }
  });

  describe('crashed and vanished zones', () => {
    it('boots a crashed zone again', (t) => withHost(async (h) => {
      if (!h.crash) return t.skip('the host cannot simulate crashes');
      const spec = testSpec('web');
      await h.runtime.provision(spec);
      await h.crash(spec.zoneName);
      assert.equal(await h.runtime.state(spec.zoneName), 'installed');
      assert.equal((await h.runtime.boot(spec.zoneName)).state, 'running');
    }));

    it('sees a vanished zone as absent and still removes its VNIC and dataset (bugs 6, 13)', (t) => withHost(async (h) => {
      if (!h.crash) return t.skip('the host cannot simulate crashes');
      const spec = testSpec('web');
      await h.runtime.provision(spec);
      await h.crash(spec.zoneName, { vanish: true });
      assert.equal(await h.runtime.state(spec.zoneName), 'absent');
      assert.deepEqual(await h.runtime.deprovision(spec), { problems: [] });
      await assertGone(h, spec);
    }));
  });

  describe('restarts', () => {
    it('keeps zones, datasets and VNICs across a new runtime on the same host', (t) => withHost(async (h) => {
      if (!h.reopen) return t.skip('the host cannot simulate restarts');
      const web = testSpec('web');
      const db = testSpec('db');
      const webStatus = await h.runtime.provision(web);
      await h.runtime.provision(db);
      await h.runtime.shutdown(db.zoneName);
      const again = await h.reopen();
      assert.equal(await again.state(web.zoneName), 'running');
      assert.equal(await again.state(db.zoneName), 'installed');
      assert.deepEqual((await again.list()).find((z) => z.zoneName === web.zoneName), webStatus);
      const booted = await again.boot(db.zoneName);
      assert.ok(booted.zoneId !== undefined && booted.zoneId !== webStatus.zoneId, 'zone ids are not reused after a restart');
      assert.deepEqual(await again.deprovision(web), { problems: [] });
      assert.deepEqual(await again.deprovision(db), { problems: [] });
      await assertGone(h, web, again);
      await assertGone(h, db, again);
    }));
  });
}
