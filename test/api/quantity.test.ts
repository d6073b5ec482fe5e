// Quantities: Kubernetes parsing to millicores and bytes, and SPEC §1.7's cap formats.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { formatCpuCap, formatMemoryCap, formatMemoryQuantity, parseCount, parseCpu, parseMemory, parseQuantity } from '../../src/api/model/quantity.ts';

describe('parseCpu', () => {
  it('reads millicores, cores, fractions and exponents', () => {
    const cases: [unknown, number][] = [
      ['100m', 100], ['0.5', 500], ['2', 2000], ['1e3', 1_000_000], ['1E3', 1_000_000], ['+1', 1000], ['1.', 1000],
      ['.5', 500], ['+5m', 5], ['0', 0], ['0m', 0], ['0.1', 100], ['0.001', 1], ['1k', 1_000_000], ['250000u', 250],
      ['1e-3', 1], ['3', 3000], [2, 2000], [0.25, 250],
    ];
    for (const [q, want] of cases) assert.equal(parseCpu(q), want, String(q));
  });

  it('rounds a fraction of a millicore up, as MilliValue does', () => {
    assert.equal(parseCpu('0.0005'), 1);
    assert.equal(parseCpu('1.5m'), 2);
    assert.equal(parseCpu('1n'), 1);
    assert.equal(parseCpu('-1.5m'), -2);
  });

  it('is exact where floating point is not (0.1 × 1000 is not 100 in IEEE-754)', () => {
    assert.equal(parseCpu('0.1'), 100);
    assert.equal(parseCpu('0.3'), 300);
    assert.equal(parseCpu('1.001'), 1001);
  });

  it('rejects what Kubernetes rejects', () => {
    for (const q of ['', ' 1', '1 ', 'm', '0x10', '1_000', 'inf', 'NaN', 'Infinity', '1.5.0', '1e1.5', '1Kb', '1ki', 'abc', '--1', '1e', null, undefined, {}, Number.NaN]) {
      assert.equal(parseCpu(q), undefined, JSON.stringify(q));
    }
  });

  it('keeps a negative value negative (admission rejects it, parsing does not)', () => {
    assert.equal(parseCpu('-1'), -1000);
  });

  it('saturates absurd exponents at int64 instead of building huge numbers', () => {
    assert.equal(parseCpu('1e999999999'), 2 ** 63);
    assert.equal(parseCpu('1e-999999999'), 1);
    assert.equal(parseCpu('0e999999999'), 0);
  });
});

describe('parseMemory', () => {
  it('reads binary and decimal suffixes, plain bytes and exponents', () => {
    const cases: [string, number][] = [
      ['1Ki', 1024], ['1Mi', 2 ** 20], ['1Gi', 2 ** 30], ['1Ti', 2 ** 40], ['1Pi', 2 ** 50], ['1Ei', 2 ** 60],
      ['1k', 1000], ['1M', 1e6], ['1G', 1e9], ['1T', 1e12], ['1P', 1e15], ['1E', 1e18],
      ['128974848', 128974848], ['1e3', 1000], ['129e6', 129e6], ['123Mi', 123 * 2 ** 20],
      ['1.5Gi', 1610612736], ['+5Mi', 5242880], ['-1Gi', -1073741824], ['0', 0], ['16318472Ki', 16318472 * 1024],
    ];
    for (const [q, want] of cases) assert.equal(parseMemory(q), want, q);
  });

  it('rounds fractional bytes up', () => {
    assert.equal(parseMemory('0.5'), 1);
    assert.equal(parseMemory('100m'), 1);
    assert.equal(parseMemory('1.0001Ki'), 1025);
  });

  it('rejects malformed quantities', () => {
    for (const q of ['Mi', ' 1', '1 Gi', '1GiB', '1gi', '1mi', '', '1e3Mi']) assert.equal(parseMemory(q), undefined, q);
  });

  it('counts pods like bytes', () => {
    assert.equal(parseCount('110'), 110);
    assert.equal(parseCount('1k'), 1000);
  });

  it('exposes the exact rational', () => {
    assert.deepEqual(parseQuantity('1.5Gi'), { negative: false, digits: 15n, exp10: -1, exp2: 30 });
  });
});

describe('formatCpuCap', () => {
  it('prints two decimals of the double, ties to even (SPEC §1.7 vectors)', () => {
    const cases: [number, string][] = [
      [500, '0.50'], [1000, '1.00'], [2500, '2.50'], [100, '0.10'], [1005, '1.00'], [125, '0.12'], [375, '0.38'],
      [625, '0.62'], [1125, '1.12'], [1, '0.00'], [5, '0.01'], [15, '0.01'], [25, '0.03'], [35, '0.04'], [45, '0.04'],
      [250, '0.25'], [666, '0.67'], [999, '1.00'], [1999, '2.00'], [1250, '1.25'], [875, '0.88'], [1375, '1.38'],
    ];
    for (const [m, want] of cases) assert.equal(formatCpuCap(m), want, String(m));
  });
});

describe('formatMemoryCap / formatMemoryQuantity', () => {
  it('uses illumos G/M/K for caps', () => {
    const cases: [number, string][] = [[2 ** 30, '1G'], [512 * 2 ** 20, '512M'], [256 * 1024, '256K'], [1500 * 2 ** 20, '1500M'], [1023, '1023'], [0, '0'], [-1024, '-1024'], [3 * 2 ** 30, '3G']];
    for (const [b, want] of cases) assert.equal(formatMemoryCap(b), want, String(b));
  });

  it('uses Kubernetes Gi/Mi/Ki for node status', () => {
    const cases: [number, string][] = [[16 * 2 ** 30, '16Gi'], [7680 * 2 ** 20, '7680Mi'], [512 * 1024, '512Ki'], [1023, '1023'], [0, '0'], [16318472 * 1024, '16318472Ki']];
    for (const [b, want] of cases) assert.equal(formatMemoryQuantity(b), want, String(b));
  });
});
