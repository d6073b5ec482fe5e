// Filters: each one alone with its edge cases, then the order they run in.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  FILTERS, fitsResources, NO_USAGE, nodeReady, nodeSelector, nodeUnschedulable, runFilters, taintToleration, toleratesTaint, zoneBrand, type Usage,
} from '../../src/scheduler/filters.ts';
import { nodeF, pod, podF } from './fixtures.ts';
import { podFacts } from '../../src/scheduler/facts.ts';

const used = (u: Partial<Usage>): Usage => ({ ...NO_USAGE, ...u });

describe('nodeReady', () => {
  it('passes a node whose Ready condition is True', () => {
    assert.equal(nodeReady(podF('p'), nodeF('n'), NO_USAGE), undefined);
  });

  it('rejects NotReady (False), Unknown and a node that reports no condition', () => {
    for (const ready of ['False', 'Unknown', 'none'] as const) {
      assert.deepEqual(nodeReady(podF('p'), nodeF('n', { ready }), NO_USAGE), ['node(s) were not ready'], ready);
    }
  });
});

describe('nodeUnschedulable', () => {
  it('rejects a cordoned node', () => {
    assert.deepEqual(nodeUnschedulable(podF('p'), nodeF('n', { unschedulable: true }), NO_USAGE), ['node(s) were unschedulable']);
  });

  it('passes a cordoned node for a pod tolerating node.kubernetes.io/unschedulable', () => {
    const p = podF('p', { tolerations: [{ key: 'node.kubernetes.io/unschedulable', operator: 'Exists', effect: 'NoSchedule' }] });
    assert.equal(nodeUnschedulable(p, nodeF('n', { unschedulable: true }), NO_USAGE), undefined);
  });
});

describe('zoneBrand', () => {
  const brands = (label: string | undefined) => nodeF('n', label === undefined ? {} : { labels: { 'reddwarf.io/zone-brands': label } });

  it('matches the pod brand against the node list (SPEC §9.5 cases)', () => {
    assert.equal(zoneBrand(podF('p', { brand: 'sparse' }), brands('sparse'), NO_USAGE), undefined);
    assert.deepEqual(zoneBrand(podF('p', { brand: 'lx' }), brands('sparse'), NO_USAGE), ['node(s) didn\'t support zone brand "lx"']);
    assert.equal(zoneBrand(podF('p'), brands('sparse'), NO_USAGE), undefined, 'no brand asked: the node default (here sparse) fits');
    assert.equal(zoneBrand(podF('p'), brands('lx'), NO_USAGE), undefined, 'no brand asked: the node default (here lx) fits');
    assert.equal(zoneBrand(podF('p', { brand: 'lx' }), brands(undefined), NO_USAGE), undefined, 'no label means every brand');
    assert.equal(zoneBrand(podF('p', { brand: 'lx' }), brands('sparse,lx'), NO_USAGE), undefined);
  });

  it('reads spec.runtimeClassName when admission has not written the annotation', () => {
    const p = pod('p');
    p.spec.runtimeClassName = 'joyent';
    assert.deepEqual(zoneBrand(podFacts(p), brands('lx_sparse'), NO_USAGE), ['node(s) didn\'t support zone brand "joyent"']);
    assert.equal(zoneBrand(podFacts(p), brands('lx_joyent'), NO_USAGE), undefined);
  });

  it("reads '_' as a separator too (a label value cannot hold ',') and trims parts", () => {
    assert.equal(zoneBrand(podF('p', { brand: 'lx' }), brands('sparse_lx'), NO_USAGE), undefined);
    assert.equal(zoneBrand(podF('p', { brand: 'lx' }), brands('sparse, lx'), NO_USAGE), undefined);
    assert.equal(zoneBrand(podF('p', { brand: 'joyent-minimal' }), brands('lx_joyent-minimal'), NO_USAGE), undefined);
  });

  it('rejects every brand on a node whose label lists none', () => {
    assert.ok(zoneBrand(podF('p'), brands(''), NO_USAGE));
  });

  it('does not trim the pod annotation', () => {
    assert.ok(zoneBrand(podF('p', { brand: ' lx' }), brands('lx'), NO_USAGE));
  });
});

describe('fitsResources', () => {
  const n = nodeF('n', { cpu: '4', memory: '8Gi', pods: '3' });

  it('fits an exact fit (requests equal to what is left)', () => {
    assert.equal(fitsResources(podF('p', { cpu: '4', memory: '8Gi' }), n, NO_USAGE), undefined);
    assert.equal(fitsResources(podF('p', { cpu: '1', memory: '2Gi' }), n, used({ cpu: 3000, memory: 6 * 2 ** 30, pods: 2 })), undefined);
  });

  it('counts the requests already bound to the node', () => {
    assert.deepEqual(fitsResources(podF('p', { cpu: '1001m' }), n, used({ cpu: 3000, pods: 1 })), ['Insufficient cpu']);
    assert.deepEqual(fitsResources(podF('p', { memory: '1Gi' }), n, used({ memory: 7 * 2 ** 30 + 1, pods: 1 })), ['Insufficient memory']);
  });

  it('names every shortage, pods first, then cpu, then memory', () => {
    assert.deepEqual(fitsResources(podF('p', { cpu: '5', memory: '9Gi' }), n, used({ pods: 3 })), ['Too many pods', 'Insufficient cpu', 'Insufficient memory']);
  });

  it('rejects the pod beyond max pods even with zero requests', () => {
    assert.deepEqual(fitsResources(podF('p'), n, used({ pods: 3 })), ['Too many pods']);
    assert.equal(fitsResources(podF('p'), n, used({ pods: 2 })), undefined);
  });

  it('fits zero requests on a node with nothing allocatable but pods', () => {
    const bare = nodeF('bare', { cpu: '0', memory: '0' });
    assert.equal(fitsResources(podF('p'), bare, NO_USAGE), undefined);
    assert.equal(fitsResources(podF('p', { cpu: '0', memory: '0' }), bare, NO_USAGE), undefined);
    assert.deepEqual(fitsResources(podF('p', { cpu: '1m' }), bare, NO_USAGE), ['Insufficient cpu']);
  });

  it('treats missing allocatable pods as zero pods, as Kubernetes does', () => {
    const n0 = nodeF('n', { pods: '' });
    assert.deepEqual(fitsResources(podF('p'), n0, NO_USAGE), ['Too many pods']);
  });

  it('sums the requests of every container (SPEC: node 1 CPU vs pod 2 → fail)', () => {
    const p = podF('p', { containers: [{ cpu: '500m', memory: '1Gi' }, { cpu: '0.6', memory: '1Gi' }] });
    assert.deepEqual(fitsResources(p, nodeF('n', { cpu: '1' }), NO_USAGE), ['Insufficient cpu']);
    assert.equal(fitsResources(p, nodeF('n', { cpu: '1100m' }), NO_USAGE), undefined);
  });
});

describe('nodeSelector', () => {
  const n = nodeF('n', { labels: { disk: 'ssd', zone: 'a' } });

  it('passes without a selector and when every entry matches', () => {
    assert.equal(nodeSelector(podF('p'), n, NO_USAGE), undefined);
    assert.equal(nodeSelector(podF('p', { nodeSelector: { disk: 'ssd', zone: 'a' } }), n, NO_USAGE), undefined);
    assert.equal(nodeSelector(podF('p', { nodeSelector: { 'kubernetes.io/hostname': 'n' } }), n, NO_USAGE), undefined);
  });

  it('rejects a different value or a missing label', () => {
    const reason = ["node(s) didn't match Pod's node affinity/selector"];
    assert.deepEqual(nodeSelector(podF('p', { nodeSelector: { disk: 'hdd' } }), n, NO_USAGE), reason);
    assert.deepEqual(nodeSelector(podF('p', { nodeSelector: { gpu: 'yes' } }), n, NO_USAGE), reason);
    assert.deepEqual(nodeSelector(podF('p', { nodeSelector: { gpu: '' } }), n, NO_USAGE), reason);
  });
});

describe('taintToleration', () => {
  const taint = { key: 'dedicated', value: 'db', effect: 'NoSchedule' };

  it('passes a node without taints, and ignores PreferNoSchedule', () => {
    assert.equal(taintToleration(podF('p'), nodeF('n'), NO_USAGE), undefined);
    assert.equal(taintToleration(podF('p'), nodeF('n', { taints: [{ key: 'soft', effect: 'PreferNoSchedule' }] }), NO_USAGE), undefined);
  });

  it('rejects an untolerated NoSchedule or NoExecute taint, naming it', () => {
    assert.deepEqual(taintToleration(podF('p'), nodeF('n', { taints: [taint] }), NO_USAGE), ['node(s) had untolerated taint {dedicated: db}']);
    assert.deepEqual(taintToleration(podF('p'), nodeF('n', { taints: [{ key: 'gone', effect: 'NoExecute' }] }), NO_USAGE), ['node(s) had untolerated taint {gone: }']);
  });

  it('tolerates with Equal (value must match) and Exists (any value)', () => {
    const n = nodeF('n', { taints: [taint] });
    assert.equal(taintToleration(podF('p', { tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'db', effect: 'NoSchedule' }] }), n, NO_USAGE), undefined);
    assert.ok(taintToleration(podF('p', { tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'web', effect: 'NoSchedule' }] }), n, NO_USAGE));
    assert.equal(taintToleration(podF('p', { tolerations: [{ key: 'dedicated', operator: 'Exists' }] }), n, NO_USAGE), undefined);
    assert.equal(taintToleration(podF('p', { tolerations: [{ operator: 'Exists' }] }), n, NO_USAGE), undefined, 'empty key + Exists tolerates everything');
  });

  it('needs the effect to match when the toleration names one', () => {
    const n = nodeF('n', { taints: [taint] });
    assert.ok(taintToleration(podF('p', { tolerations: [{ key: 'dedicated', operator: 'Exists', effect: 'NoExecute' }] }), n, NO_USAGE));
  });

  it('needs every taint tolerated and names the first one that is not', () => {
    const n = nodeF('n', { taints: [taint, { key: 'b', value: 'x', effect: 'NoExecute' }] });
    const p = podF('p', { tolerations: [{ key: 'dedicated', operator: 'Exists' }] });
    assert.deepEqual(taintToleration(p, n, NO_USAGE), ['node(s) had untolerated taint {b: x}']);
  });

  it('defaults a missing operator to Equal and a missing value to empty', () => {
    assert.equal(toleratesTaint({ key: 'k' }, { key: 'k', effect: 'NoSchedule' }), true);
    assert.equal(toleratesTaint({ key: 'k' }, { key: 'k', value: 'v', effect: 'NoSchedule' }), false);
  });
});

describe('runFilters', () => {
  it('runs in SPEC order plus readiness first, and stops at the first failure', () => {
    assert.deepEqual(FILTERS.map((f) => f.name), ['NodeReady', 'NodeUnschedulable', 'ZoneBrandMatch', 'NodeResourcesFit', 'NodeSelectorMatch', 'TaintToleration']);
    const everythingWrong = nodeF('n', { ready: 'False', cpu: '0', labels: { 'reddwarf.io/zone-brands': 'lx' }, taints: [{ key: 't', effect: 'NoSchedule' }] });
    const p = podF('p', { cpu: '1', nodeSelector: { a: 'b' } });
    assert.deepEqual(runFilters(p, everythingWrong, NO_USAGE), ['node(s) were not ready']);
    const ready = nodeF('n', { cpu: '0', labels: { 'reddwarf.io/zone-brands': 'lx' }, taints: [{ key: 't', effect: 'NoSchedule' }] });
    assert.deepEqual(runFilters(podF('p', { cpu: '1', nodeSelector: { a: 'b' }, brand: 'sparse' }), ready, NO_USAGE), ['node(s) didn\'t support zone brand "sparse"']);
    assert.deepEqual(runFilters(p, ready, NO_USAGE), ['Insufficient cpu'], 'no brand asked: lx is the default');
    assert.deepEqual(runFilters(p, nodeF('n', { cpu: '0', taints: [{ key: 't', effect: 'NoSchedule' }] }), NO_USAGE), ['Insufficient cpu']);
    assert.deepEqual(runFilters(p, nodeF('n', { taints: [{ key: 't', effect: 'NoSchedule' }] }), NO_USAGE), ["node(s) didn't match Pod's node affinity/selector"]);
    assert.equal(runFilters(podF('p'), nodeF('n'), NO_USAGE), undefined);
  });
});
