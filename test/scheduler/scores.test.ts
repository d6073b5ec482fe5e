// Scores: least-allocated and balanced on utilisation after placement, their combination, and
// the uid-hash tie-break that spreads pods over equal nodes.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { balancedAllocation, combine, leastAllocated, scoreNode, tieBreak } from '../../src/scheduler/scores.ts';
import { NO_USAGE } from '../../src/scheduler/filters.ts';
import { place } from '../../src/scheduler/placement.ts';
import { nodeF, nodeList, podF } from './fixtures.ts';

const GI = 2 ** 30;

describe('leastAllocated', () => {
  it('is 100 − mean utilisation, truncated', () => {
    assert.equal(leastAllocated({ cpu: 1000, memory: GI }, { cpu: 4000, memory: 8 * GI }), 81);
    assert.equal(leastAllocated({ cpu: 1000, memory: GI }, { cpu: 2000, memory: 4 * GI }), 62);
    assert.equal(leastAllocated({ cpu: 0, memory: 0 }, { cpu: 4000, memory: 8 * GI }), 100);
  });

  it('is 0 on a full node and on a node without CPU or memory', () => {
    assert.equal(leastAllocated({ cpu: 4000, memory: 8 * GI }, { cpu: 4000, memory: 8 * GI }), 0);
    assert.equal(leastAllocated({ cpu: 0, memory: 0 }, { cpu: 0, memory: 8 * GI }), 0);
    assert.equal(leastAllocated({ cpu: 0, memory: 0 }, { cpu: 4000, memory: 0 }), 0);
  });

  it('clamps overcommitted nodes at 0', () => {
    assert.equal(leastAllocated({ cpu: 9000, memory: 20 * GI }, { cpu: 4000, memory: 8 * GI }), 0);
  });
});

describe('balancedAllocation', () => {
  it('is (1 − |cpu share − memory share|) × 100, truncated', () => {
    assert.equal(balancedAllocation({ cpu: 1000, memory: GI }, { cpu: 4000, memory: 8 * GI }), 87);
    assert.equal(balancedAllocation({ cpu: 1000, memory: GI }, { cpu: 2000, memory: 4 * GI }), 75);
    assert.equal(balancedAllocation({ cpu: 2000, memory: 4 * GI }, { cpu: 4000, memory: 8 * GI }), 100);
  });

  it('is 0 without CPU or memory and caps shares at 1', () => {
    assert.equal(balancedAllocation({ cpu: 0, memory: 0 }, { cpu: 0, memory: GI }), 0);
    assert.equal(balancedAllocation({ cpu: 8000, memory: 16 * GI }, { cpu: 4000, memory: 8 * GI }), 100);
  });
});

describe('combine / scoreNode', () => {
  it('averages and rounds down (SPEC: (80 + 60) / 2 = 70, (81 + 87) / 2 = 84)', () => {
    assert.equal(combine(80, 60), 70);
    assert.equal(combine(81, 87), 84);
    assert.equal(combine(62, 75), 68);
  });

  it("reproduces SPEC §4.4's worked example on empty nodes and picks node1", () => {
    const p = podF('p', { cpu: '1', memory: '1Gi' });
    const node1 = nodeF('node1', { cpu: '4', memory: '8Gi' });
    const node2 = nodeF('node2', { cpu: '2', memory: '4Gi' });
    assert.equal(scoreNode(p, node1, NO_USAGE), 84);
    assert.equal(scoreNode(p, node2, NO_USAGE), 68);
    const d = place(p, nodeList(node2, node1), new Map());
    assert.ok(d.fits);
    assert.equal(d.node, 'node1');
  });

  it('scores the utilisation after placement: a node already holding work scores lower', () => {
    const p = podF('p', { cpu: '1', memory: '1Gi' });
    const n = nodeF('n', { cpu: '4', memory: '8Gi' });
    const busy = { ...NO_USAGE, pods: 1, cpu: 2000, memory: 4 * GI, scoreCpu: 2000, scoreMemory: 4 * GI };
    assert.ok(scoreNode(p, n, busy) < scoreNode(p, n, NO_USAGE));
    // 3/4 cpu, 5/8 memory: LA = trunc(100 − 68.75) = 31, BA = trunc(87.5) = 87 → 59.
    assert.equal(scoreNode(p, n, busy), 59);
  });

  it('scores unset requests as 100m / 200Mi so best-effort pods still spread by count', () => {
    const p = podF('p');
    const n = nodeF('n', { cpu: '1', memory: '2000Mi' });
    // 10% cpu, 10% memory: LA 90, BA 100 → 95.
    assert.equal(scoreNode(p, n, NO_USAGE), 95);
    const holdsTwo = { ...NO_USAGE, pods: 2, scoreCpu: 200, scoreMemory: 400 * 2 ** 20 };
    assert.ok(scoreNode(p, n, holdsTwo) < scoreNode(p, n, NO_USAGE));
  });

  it('keeps explicit zero requests at zero when scoring', () => {
    const p = podF('p', { cpu: '0', memory: '0' });
    assert.equal(scoreNode(p, nodeF('n'), NO_USAGE), 100);
  });
});

describe('tie-break', () => {
  it('spreads pods over equal nodes instead of sending them all to the first name', () => {
    const nodes = nodeList(nodeF('a'), nodeF('b'), nodeF('c'), nodeF('d'));
    const counts = new Map<string, number>();
    for (let i = 0; i < 2000; i++) {
      const d = place(podF(`p${i}`, { cpu: '100m', uid: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}` }), nodes, new Map());
      assert.ok(d.fits);
      counts.set(d.node, (counts.get(d.node) ?? 0) + 1);
    }
    assert.equal(counts.size, 4);
    for (const [n, c] of counts) assert.ok(c > 400 && c < 600, `${n} got ${c} of 2000`);
  });

  it('is stable: the same pod prefers the same node whatever the list order', () => {
    const p = podF('p', { uid: 'f2b4c1e0-1111-4222-8333-444455556666' });
    const a = place(p, nodeList(nodeF('a'), nodeF('b'), nodeF('c')), new Map());
    const b = place(p, nodeList(nodeF('c'), nodeF('b'), nodeF('a')), new Map());
    assert.deepEqual(a, b);
  });

  it('never overrides a better score', () => {
    const p = podF('p', { cpu: '1', memory: '1Gi' });
    for (let i = 0; i < 50; i++) {
      const q = { ...p, hash: i * 7919 };
      const d = place(q, nodeList(nodeF('small', { cpu: '2', memory: '4Gi' }), nodeF('big', { cpu: '8', memory: '16Gi' })), new Map());
      assert.ok(d.fits && d.node === 'big');
    }
  });

  it('depends on both the pod and the node', () => {
    const p = podF('p');
    assert.notEqual(tieBreak(p, nodeF('a')), tieBreak(p, nodeF('b')));
    assert.notEqual(tieBreak(podF('q'), nodeF('a')), tieBreak(p, nodeF('a')));
  });
});
