// MockRuntime: the ZoneRuntime contract, plus what is the mock's own: its state file, delays and faults.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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
      const log = readFileSync(join(rt.logDir(spec.zoneName, 'web'), '0.log'), 'utf8').trimEnd().split('\n');
      assert.equal(log.length, 3);
      for (const line of log) assert.match(line, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z stdout F \[mock runtime\] zone /);
      assert.match(log[1] as string, /is running; the mock runtime runs no processes, so containers print nothing$/);
      assert.match(log[2] as string, /halted$/);
      assert.ok(rt.logDir(spec.zoneName, 'web').startsWith(join(dir, 'roots', spec.zoneName, '.reddwarf', 'logs')));
      await rt.deprovision(spec);
      assert.deepEqual(readdirSync(join(dir, 'roots')), []);
    } finally {
      remove();
    }
  });
});

describe('MockRuntime host file', () => {
  it('writes its state atomically and leaves no temporary files', async () => {
    const { dir, remove } = tempDir();
    try {
      const rt = new MockRuntime({ dir, stepDelayMs: 0 });
      await Promise.all(['a', 'b', 'c', 'd'].map((p) => rt.provision(testSpec(p))));
      await rt.flushed();
      // roots/ holds the simulated zone roots (their logs).
      assert.deepEqual(readdirSync(dir).filter((n) => n !== 'roots'), ['mock-host.json']);
      const file = JSON.parse(readFileSync(rt.path, 'utf8')) as { zones: Record<string, { state: string }>; vnics: string[] };
      assert.equal(Object.keys(file.zones).length, 4);
      assert.ok(Object.values(file.zones).every((z) => z.state === 'running'));
      assert.equal(file.vnics.length, 4);
    } finally {
      remove();
    }
  });

  it('names the file when it is not valid JSON', () => {
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
  it('takes a little time per step by default, and no more', async () => {
    const { dir, remove } = tempDir();
    try {
      const rt = new MockRuntime({ dir, stepDelayMs: [5, 10] });
      const started = performance.now();
      await rt.provision(testSpec('web'));
      const took = performance.now() - started;
      assert.ok(took >= 20 && took < 900, `provision took ${took} ms`);
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
