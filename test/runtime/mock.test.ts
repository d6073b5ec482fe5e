// MockRuntime: the ZoneRuntime contract, plus what is the mock's own: its state file, delays and faults.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SimulatedClock } from 'xstate';
import { InjectedFault, MockRuntime } from '../../src/runtime/mock.ts';
import { ProvisionFailed } from '../../src/runtime/errors.ts';
import { testSpec, zoneRuntimeContract, type RuntimeHarness } from './contract.ts';

function tempDir(): { dir: string; remove: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'reddwarf-mock-'));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

async function mockHost(): Promise<RuntimeHarness> {
  const { dir, remove } = tempDir();
  let current = new MockRuntime({ dir, stepDelayMs: 0 });
  return {
    get runtime() {
      return current;
    },
    datasets: () => current.datasets(),
    vnics: () => current.vnics(),
    injectFault: (step, opts) => current.injectFault(step, opts),
    crash: (zone, opts) => current.crash(zone, opts),
    async reopen() {
      await current.flushed();
      current = new MockRuntime({ dir, stepDelayMs: 0 });
      return current;
    },
    async dispose() {
      await current.flushed();
      remove();
    },
  };
}

describe('MockRuntime contract', () => {
  zoneRuntimeContract(mockHost);
});

describe('MockRuntime logs', () => {
  it('records its own steps, labelled, as CRI lines in each container\'s 0.log; the zone root goes with the zone', async () => {
    const { dir, remove } = tempDir();
    try {
      const rt = new MockRuntime({ dir, stepDelayMs: 0 });
      const spec = testSpec('p');
      await rt.provision(spec);
      await rt.halt(spec.zoneName);
      await rt.flushed();
      const log = readFileSync(join(rt.logDir(spec.zoneName, 'web'), '0.log'), 'utf8').trimEnd().split('\n');
      assert.equal(log.length, 3);
      for (const line of log) assert.match(line, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z stdout F \[mock runtime\] zone /);
      assert.match(log[1] as string, /is running; the mock runtime runs no processes, so containers print nothing$/);
      assert.match(log[2] as string, /halted$/);
      assert.ok(rt.logDir(spec.zoneName, 'web').startsWith(join(dir, 'roots', spec.zoneName, '.reddwarf', 'logs')));
      await rt.deprovision(spec);
      await rt.flushed();
      assert.deepEqual(readdirSync(join(dir, 'roots')), []);
    } finally {
      remove();
    }
  });
});

describe('MockRuntime host state', () => {
  it('keeps its state in one log and leaves no temporary files; a new runtime on it sees every zone', async () => {
    const { dir, remove } = tempDir();
    try {
      const rt = new MockRuntime({ dir, stepDelayMs: 0 });
      await Promise.all(['a', 'b', 'c', 'd'].map((p) => rt.provision(testSpec(p))));
      await rt.flushed();
      // roots/ holds the simulated zone roots (their logs).
      assert.deepEqual(readdirSync(dir).filter((n) => n !== 'roots'), ['mock-host.log']);
      const again = new MockRuntime({ dir, stepDelayMs: 0 });
      const zones = await again.list();
      assert.equal(zones.length, 4);
      assert.ok(zones.every((z) => z.state === 'running'));
      assert.deepEqual(again.vnics(), rt.vnics());
      assert.deepEqual(again.datasets(), rt.datasets());
    } finally {
      remove();
    }
  });

  it('writes as much for a step on a host of 200 zones as on a host of one', async () => {
    const { dir, remove } = tempDir();
    try {
      const rt = new MockRuntime({ dir, stepDelayMs: 0 });
      const grewBy = async (zone: string): Promise<number> => {
        await rt.flushed();
        const before = statSync(rt.path).size;
        await rt.halt(zone);
        await rt.flushed();
        return statSync(rt.path).size - before;
      };
      // Names of one length: their records are the same size.
      const name = (i: number): string => `p${String(i).padStart(3, '0')}`;
      await rt.provision(testSpec(name(0)));
      const alone = await grewBy(testSpec(name(0)).zoneName);
      for (let i = 1; i < 200; i++) await rt.provision(testSpec(name(i)));
      const crowded = await grewBy(testSpec(name(1)).zoneName);
      assert.ok(alone > 0);
      assert.equal(crowded, alone);
    } finally {
      remove();
    }
  });

  it('rewrites a long log as the state it holds, and a new runtime reads the same host from it', async () => {
    const { dir, remove } = tempDir();
    try {
      const rt = new MockRuntime({ dir, stepDelayMs: 0 });
      const spec = testSpec('web');
      await rt.provision(spec);
      for (let i = 0; i < 400; i++) {
        await rt.halt(spec.zoneName);
        await rt.boot(spec.zoneName);
      }
      await rt.flushed();
      const lines = readFileSync(rt.path, 'utf8').trimEnd().split('\n').length;
      assert.ok(lines < 1100, `${lines} lines: the log was never compacted`);
      const again = new MockRuntime({ dir, stepDelayMs: 0 });
      assert.deepEqual(await again.list(), await rt.list());
      assert.deepEqual(again.vnics(), [spec.network.vnic]);
    } finally {
      remove();
    }
  });

  it('ignores a torn last line (a crash mid-append) and names the log when a line inside is not JSON', async () => {
    const { dir, remove } = tempDir();
    try {
      const rt = new MockRuntime({ dir, stepDelayMs: 0 });
      await rt.provision(testSpec('web'));
      await rt.flushed();
      appendFileSync(rt.path, '{"z":"half');
      assert.equal((await new MockRuntime({ dir, stepDelayMs: 0 }).list()).length, 1);
      appendFileSync(rt.path, '\n{"n":7}\n');
      assert.throws(() => new MockRuntime({ dir }), /mock-host\.log is not valid: line \d+ is not JSON/);
    } finally {
      remove();
    }
  });

  it('carries a state file of an earlier version over into the log', async () => {
    const { dir, remove } = tempDir();
    try {
      const spec = testSpec('old');
      const record = { spec, state: 'running', zoneId: 3 };
      writeFileSync(join(dir, 'mock-host.json'), JSON.stringify({ version: 1, nextZoneId: 4, zones: { [spec.zoneName]: record }, datasets: [`rpool/zones/${spec.zoneName}`], vnics: [spec.network.vnic] }));
      const rt = new MockRuntime({ dir, stepDelayMs: 0 });
      assert.equal(await rt.state(spec.zoneName), 'running');
      await rt.halt(spec.zoneName);
      await rt.flushed();
      assert.deepEqual(readdirSync(dir).filter((n) => n !== 'roots'), ['mock-host.log']);
      const again = new MockRuntime({ dir, stepDelayMs: 0 });
      assert.equal(await again.state(spec.zoneName), 'installed');
      assert.equal((await again.boot(spec.zoneName)).zoneId, 4, 'zone ids carry on');
    } finally {
      remove();
    }
  });

  it('names the earlier state file when it is not valid JSON', () => {
    const { dir, remove } = tempDir();
    try {
      writeFileSync(join(dir, 'mock-host.json'), '{"version":');
      assert.throws(() => new MockRuntime({ dir }), /mock-host\.json is not valid JSON/);
    } finally {
      remove();
    }
  });

  it('starts empty in a directory it creates', async () => {
    const { dir, remove } = tempDir();
    try {
      const rt = new MockRuntime({ dir: join(dir, 'nested', 'host') });
      assert.deepEqual(await rt.list(), []);
      assert.deepEqual(rt.datasets(), []);
      assert.deepEqual(rt.vnics(), []);
    } finally {
      remove();
    }
  });
});

describe('MockRuntime delays and faults', () => {
  it('takes its step delay on its clock: five steps of 5–10 ms each', async () => {
    const { dir, remove } = tempDir();
    try {
      const clock = new SimulatedClock();
      const rt = new MockRuntime({ dir, stepDelayMs: [5, 10], clock });
      let done = false;
      const provisioning = rt.provision(testSpec('web')).then(() => (done = true));
      // Lets a step finish what it does after its delay (its log append is real I/O).
      const settle = async (): Promise<void> => {
        for (let i = 0; i < 3; i++) await new Promise((r) => setTimeout(r, 1));
      };
      // Time moves (1 ms at a time) only while a step waits out its delay.
      const waiting = (): boolean => (clock as unknown as { timeouts: Map<unknown, unknown> }).timeouts.size > 0;
      for (let i = 0; i < 300 && !done; i++) {
        if (waiting()) clock.increment(1);
        await settle();
        // Five steps of at least 5 ms each cannot be over at 20 ms.
        if (clock.now() <= 20) assert.equal(done, false, `done at ${clock.now()} ms`);
      }
      await provisioning;
      // At most 10 ms a step (plus under 1 ms each for whole-ms ticks).
      assert.ok(clock.now() >= 25 && clock.now() <= 55, `took ${clock.now()} ms of simulated time`);
      assert.equal(await rt.state(testSpec('web').zoneName), 'running');
    } finally {
      remove();
    }
  });

  it('aborts a step waiting out its delay', async () => {
    const { dir, remove } = tempDir();
    try {
      const rt = new MockRuntime({ dir, stepDelayMs: 1_000, clock: new SimulatedClock() });
      const ac = new AbortController();
      const provisioning = rt.provision(testSpec('web'), ac.signal);
      ac.abort();
      await assert.rejects(provisioning);
      assert.deepEqual(await rt.list(), []);
    } finally {
      remove();
    }
  });

  it('fails as many times as asked, then succeeds', async () => {
    const { dir, remove } = tempDir();
    try {
      const rt = new MockRuntime({ dir, stepDelayMs: 0 });
      const spec = testSpec('web');
      rt.injectFault('boot', { times: 2, message: 'no cpu' });
      for (let i = 0; i < 2; i++) {
        await assert.rejects(rt.provision(spec), (e) => e instanceof ProvisionFailed && e.cause instanceof InjectedFault && e.cause.message === 'no cpu');
      }
      assert.equal((await rt.provision(spec)).state, 'running');
    } finally {
      remove();
    }
  });

  it('aims a fault at one zone only', async () => {
    const { dir, remove } = tempDir();
    try {
      const rt = new MockRuntime({ dir, stepDelayMs: 0 });
      const a = testSpec('a');
      const b = testSpec('b');
      rt.injectFault('install', { zone: b.zoneName });
      assert.equal((await rt.provision(a)).state, 'running');
      await assert.rejects(rt.provision(b), ProvisionFailed);
      assert.deepEqual(rt.vnics(), [a.network.vnic]);
    } finally {
      remove();
    }
  });

  it('fails a shutdown when told to, leaving the zone running', async () => {
    const { dir, remove } = tempDir();
    try {
      const rt = new MockRuntime({ dir, stepDelayMs: 0 });
      const spec = testSpec('web');
      await rt.provision(spec);
      rt.injectFault('shutdown', { message: 'stuck' });
      await assert.rejects(rt.shutdown(spec.zoneName), (e) => e instanceof InjectedFault && e.step === 'shutdown' && e.zoneName === spec.zoneName);
      assert.equal(await rt.state(spec.zoneName), 'running');
      rt.clearFaults();
      await rt.shutdown(spec.zoneName);
      assert.equal(await rt.state(spec.zoneName), 'installed');
    } finally {
      remove();
    }
  });

  it('reports a busy VNIC and dataset when the zone cannot be halted', async () => {
    const { dir, remove } = tempDir();
    try {
      const rt = new MockRuntime({ dir, stepDelayMs: 0 });
      const spec = testSpec('web');
      await rt.provision(spec);
      rt.injectFault('halt');
      const report = await rt.deprovision(spec);
      assert.equal(report.problems.length, 3);
      assert.match(report.problems[1] ?? '', /busy/);
      assert.match(report.problems[2] ?? '', /dataset is busy/);
      assert.equal(await rt.state(spec.zoneName), 'running');
    } finally {
      remove();
    }
  });

  it('aborts a deprovision instead of reporting the abort as a problem', async () => {
    const { dir, remove } = tempDir();
    try {
      const rt = new MockRuntime({ dir, stepDelayMs: 0 });
      const spec = testSpec('web');
      await rt.provision(spec);
      const fault = rt.injectFault('uninstall', { hang: true });
      const ac = new AbortController();
      const deprovisioning = rt.deprovision(spec, ac.signal);
      await fault.reached;
      ac.abort();
      await assert.rejects(deprovisioning, { name: 'AbortError' });
      assert.equal(await rt.state(spec.zoneName), 'installed');
    } finally {
      remove();
    }
  });
});
