// Host resources → Node capacity and allocatable (SPEC §5.10).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  DEFAULT_MAX_PODS, InvalidReservation, detectHost, fallbackResources, hostResources, nodeResources, parseReservation,
} from '../../src/runtime/host.ts';

const GiB = 2 ** 30;
const MiB = 2 ** 20;

describe('nodeResources', () => {
  it('reports whole cores, the memory quantity and pods as capacity, less the reservation as allocatable', () => {
    assert.deepEqual(nodeResources({ cpus: 8, memoryBytes: 16 * GiB }, { cpuMillis: 100, memoryBytes: 256 * MiB }, 110), {
      capacity: { cpu: '8', memory: '16Gi', pods: '110' },
      allocatable: { cpu: '7900m', memory: '16128Mi', pods: '110' },
    });
  });

  it('writes memory read in KiB as a Ki quantity', () => {
    const r = nodeResources({ cpus: 4, memoryBytes: 16318472 * 1024 }, { cpuMillis: 100, memoryBytes: 256 * MiB }, 110);
    assert.equal(r.capacity.memory, '16318472Ki');
    assert.equal(r.allocatable.memory, `${16318472 - 256 * 1024}Ki`);
  });

  it('clamps allocatable at zero for reservations above capacity', () => {
    const r = nodeResources({ cpus: 2, memoryBytes: GiB }, { cpuMillis: Number.MAX_SAFE_INTEGER, memoryBytes: Number.MAX_SAFE_INTEGER }, 110);
    assert.equal(r.allocatable.cpu, '0m');
    assert.equal(r.allocatable.memory, '0');
  });

  it('lets a negative reservation raise allocatable above capacity, as upstream does', () => {
    const r = nodeResources({ cpus: 1, memoryBytes: GiB }, { cpuMillis: -500, memoryBytes: -GiB }, 10);
    assert.equal(r.allocatable.cpu, '1500m');
    assert.equal(r.allocatable.memory, '2Gi');
    assert.equal(r.capacity.pods, '10');
  });
});

describe('reservations', () => {
  it('defaults to 100m, 256Mi and 110 pods', () => {
    assert.deepEqual(parseReservation(), { cpuMillis: 100, memoryBytes: 256 * MiB });
    assert.equal(DEFAULT_MAX_PODS, 110);
  });

  it('parses Kubernetes quantities', () => {
    assert.deepEqual(parseReservation('0.5', '1Gi'), { cpuMillis: 500, memoryBytes: GiB });
    assert.deepEqual(parseReservation('2', '512M'), { cpuMillis: 2000, memoryBytes: 512_000_000 });
  });

  it('names the flag of an invalid value', () => {
    assert.throws(() => parseReservation('lots'), (e) => e instanceof InvalidReservation && /--system-reserved-cpu: "lots"/.test(e.message));
    assert.throws(() => parseReservation('100m', '1 GB'), (e) => e instanceof InvalidReservation && e.flag === '--system-reserved-memory');
  });
});

describe('detection', () => {
  it('detects at least one CPU and some memory', () => {
    const host = detectHost();
    assert.ok(host);
    assert.ok(host.cpus >= 1);
    assert.ok(host.memoryBytes > 0);
  });

  it('has allocatable strictly below capacity with the default reservation', () => {
    const r = hostResources(parseReservation());
    assert.ok(parseInt(r.allocatable.cpu ?? '', 10) < Number(r.capacity.cpu) * 1000);
    assert.notEqual(r.allocatable.memory, r.capacity.memory);
  });

  it('falls back to 8Gi and the available parallelism, keeping --max-pods', () => {
    const warn = console.warn;
    console.warn = () => {};
    try {
      const r = hostResources(parseReservation(), 50, () => undefined);
      assert.deepEqual(r, fallbackResources(50));
      assert.equal(r.capacity.memory, '8Gi');
      assert.equal(r.allocatable.memory, '8Gi');
      assert.equal(r.capacity.pods, '50');
      assert.ok(Number(r.capacity.cpu) >= 1);
    } finally {
      console.warn = warn;
    }
  });
});
