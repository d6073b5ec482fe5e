// One decision: where a pod goes, or the Kubernetes-form message saying why it goes nowhere.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { feasibleNodesToFind, place, type Decision } from '../../src/scheduler/placement.ts';
import { fitErrorMessage } from '../../src/scheduler/messages.ts';
import { NO_USAGE, type Usage } from '../../src/scheduler/filters.ts';
import { nodeF, nodeList, podF } from './fixtures.ts';

function message(d: Decision): string {
  assert.equal(d.fits, false, 'expected no node to fit');
  return (d as { message: string }).message;
}

describe('place', () => {
  it('says no nodes are available when there are none', () => {
    assert.equal(message(place(podF('p'), [], new Map())), 'no nodes available to schedule pods');
  });

  it("explains a mixed failure in Kubernetes' form", () => {
    const nodes = nodeList(nodeF('small', { cpu: '1' }), nodeF('a', { labels: { disk: 'hdd' } }), nodeF('b', { labels: { disk: 'hdd' } }));
    const d = place(podF('p', { cpu: '2', nodeSelector: { disk: 'ssd' } }), nodes, new Map());
    assert.equal(message(d), "0/3 nodes are available: 1 Insufficient cpu, 2 node(s) didn't match Pod's node affinity/selector.");
  });

  it('explains a cluster where every node is tainted', () => {
    const t = { key: 'node-role.kubernetes.io/control-plane', effect: 'NoSchedule' };
    const nodes = nodeList(nodeF('a', { taints: [t] }), nodeF('b', { taints: [t] }));
    assert.equal(message(place(podF('p'), nodes, new Map())), '0/2 nodes are available: 2 node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }.');
  });

  it('explains a brand no node offers', () => {
    const nodes = nodeList(nodeF('a', { labels: { 'reddwarf.io/zone-brands': 'sparse' } }), nodeF('b'));
    const d = place(podF('p', { brand: 'lx' }), nodes, new Map());
    assert.ok(d.fits && d.node === 'b', 'the unlabelled node takes every brand');
    const only = nodeList(nodeF('a', { labels: { 'reddwarf.io/zone-brands': 'sparse' } }));
    assert.equal(message(place(podF('p', { brand: 'lx' }), only, new Map())), '0/1 nodes are available: 1 node(s) didn\'t support zone brand "lx".');
  });

  it('refuses a brand the runtime cannot build, on every node, before filtering', () => {
    const nodes = nodeList(nodeF('a'), nodeF('b', { labels: { 'reddwarf.io/zone-brands': 'sparse_bhyve' } }));
    assert.equal(message(place(podF('p', { brand: 'bhyve' }), nodes, new Map())), '0/2 nodes are available: pod\'s zone brand "bhyve" is not supported yet.');
    assert.match(message(place(podF('p', { brand: 'solaris' }), nodes, new Map())), /unknown zone brand "solaris"/);
  });

  it('explains max pods reached', () => {
    const nodes = nodeList(nodeF('a', { pods: '2' }));
    const usage = new Map<string, Usage>([['a', { ...NO_USAGE, pods: 2 }]]);
    assert.equal(message(place(podF('p'), nodes, usage)), '0/1 nodes are available: 1 Too many pods.');
    assert.ok(place(podF('p'), nodes, new Map([['a', { ...NO_USAGE, pods: 1 }]])).fits);
  });

  it('skips NotReady and cordoned nodes', () => {
    const nodes = nodeList(nodeF('down', { ready: 'Unknown' }), nodeF('cordoned', { unschedulable: true }), nodeF('up'));
    const d = place(podF('p'), nodes, new Map());
    assert.ok(d.fits && d.node === 'up');
    assert.equal(message(place(podF('p'), nodeList(nodeF('down', { ready: 'False' }), nodeF('cordoned', { unschedulable: true })), new Map())),
      '0/2 nodes are available: 1 node(s) were not ready, 1 node(s) were unschedulable.');
  });

  it('places an exact fit and zero requests', () => {
    const exact = place(podF('p', { cpu: '4', memory: '8Gi' }), nodeList(nodeF('n')), new Map());
    assert.ok(exact.fits && exact.node === 'n');
    const full = new Map<string, Usage>([['n', { ...NO_USAGE, pods: 1, cpu: 4000, memory: 8 * 2 ** 30, scoreCpu: 4000, scoreMemory: 8 * 2 ** 30 }]]);
    assert.ok(place(podF('p'), nodeList(nodeF('n')), full).fits, 'zero requests fit on a full node');
    assert.equal(message(place(podF('p', { cpu: '1m' }), nodeList(nodeF('n')), full)), '0/1 nodes are available: 1 Insufficient cpu.');
  });

  it('counts each shortage of one node once in the histogram', () => {
    const d = place(podF('p', { cpu: '8', memory: '16Gi' }), nodeList(nodeF('a'), nodeF('b')), new Map());
    assert.equal(message(d), '0/2 nodes are available: 2 Insufficient cpu, 2 Insufficient memory.');
    assert.ok(!d.fits);
    assert.deepEqual([...d.reasons], [['Insufficient cpu', 2], ['Insufficient memory', 2]]);
  });

  it('reports the number of feasible nodes', () => {
    const d = place(podF('p', { cpu: '3' }), nodeList(nodeF('a'), nodeF('b', { cpu: '2' }), nodeF('c')), new Map());
    assert.ok(d.fits);
    assert.equal(d.feasible, 2);
  });
});

describe('sampling large clusters (percentageOfNodesToScore)', () => {
  it("looks for as many feasible nodes as Kubernetes' numFeasibleNodesToFind", () => {
    assert.equal(feasibleNodesToFind(0), 0);
    assert.equal(feasibleNodesToFind(99), 99);
    assert.equal(feasibleNodesToFind(100), 100, '50% of 100 is below the minimum of 100');
    assert.equal(feasibleNodesToFind(1000), 420);
    assert.equal(feasibleNodesToFind(5000), 500);
    assert.equal(feasibleNodesToFind(20_000), 1000, 'never below 5%');
    assert.equal(feasibleNodesToFind(5000, 100), 5000);
    assert.equal(feasibleNodesToFind(5000, 30), 1500);
    assert.equal(feasibleNodesToFind(500, 1), 100);
  });

  const many = Array.from({ length: 1000 }, (_, i) => nodeF(`n${i}`));

  it('stops once enough nodes fit, starting where it is told and wrapping around', () => {
    const d = place(podF('p'), many, new Map(), { start: 900, enough: 150 });
    assert.ok(d.fits);
    assert.equal(d.examined, 150);
    assert.equal(d.feasible, 150);
    const picked = Number(d.node.slice(1));
    assert.ok(picked >= 900 || picked < 50, `picked ${d.node} inside the window 900…49`);
  });

  it('keeps looking past nodes that do not fit', () => {
    const mixed = many.map((n, i) => (i < 500 ? nodeF(n.name, { ready: 'False' }) : n));
    const d = place(podF('p'), mixed, new Map(), { start: 0, enough: 10 });
    assert.ok(d.fits);
    assert.equal(d.examined, 510);
  });

  it('examines every node before calling a pod unschedulable', () => {
    const d = place(podF('p', { cpu: '64' }), many, new Map(), { start: 321, enough: 100 });
    assert.equal(message(d), '0/1000 nodes are available: 1000 Insufficient cpu.');
    assert.equal(d.examined, 1000);
  });
});

describe('fitErrorMessage', () => {
  it('sorts "<count> <reason>" as strings, as Kubernetes does', () => {
    const reasons = new Map([['node(s) were not ready', 10], ['Insufficient cpu', 2], ['Too many pods', 1]]);
    assert.equal(fitErrorMessage(13, reasons), '0/13 nodes are available: 1 Too many pods, 10 node(s) were not ready, 2 Insufficient cpu.');
  });

  it('ends without a list when no node gave a reason', () => {
    assert.equal(fitErrorMessage(0, new Map()), '0/0 nodes are available:');
  });
});
