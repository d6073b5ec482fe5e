// The view store: node facts and per-node usage kept incrementally from watch events, rebuilt by
// lists, with assumptions for binds in flight and a `capacity` signal only when it matters.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createView } from '../../src/scheduler/view.ts';
import { nodeFacts, podFacts, podRequests } from '../../src/scheduler/facts.ts';
import { node, pod, podF } from './fixtures.ts';

function watched() {
  const view = createView();
  const signals: string[] = [];
  view.on('capacity', (e) => signals.push(e.why));
  return { view, signals, ctx: () => view.getSnapshot().context };
}

describe('view: usage', () => {
  it('sums the requests and counts the pods bound to each node', () => {
    const { view, ctx } = watched();
    view.trigger.podSeen({ pod: pod('a', { nodeName: 'n1', cpu: '500m', memory: '1Gi' }) });
    view.trigger.podSeen({ pod: pod('b', { nodeName: 'n1', cpu: '250m' }) });
    view.trigger.podSeen({ pod: pod('c', { nodeName: 'n2', memory: '2Gi' }) });
    view.trigger.podSeen({ pod: pod('unbound', { cpu: '8' }) });
    const u = ctx().usage;
    assert.deepEqual({ ...u.get('n1') }, { cpu: 750, memory: 2 ** 30, pods: 2, scoreCpu: 750, scoreMemory: 2 ** 30 + 200 * 2 ** 20 });
    assert.equal(u.get('n2')?.pods, 1);
    assert.equal(ctx().placed.has('default/unbound'), false);
  });

  it('keeps a terminating pod counted until it is deleted, then signals capacity', () => {
    const { view, ctx, signals } = watched();
    view.trigger.podSeen({ pod: pod('a', { nodeName: 'n1', cpu: '1' }) });
    view.trigger.podSeen({ pod: pod('a', { nodeName: 'n1', cpu: '1', deletionTimestamp: '2030-01-01T00:00:00Z' }) });
    assert.equal(ctx().usage.get('n1')?.cpu, 1000);
    assert.deepEqual(signals, []);
    view.trigger.podGone({ key: 'default/a' });
    assert.equal(ctx().usage.get('n1')?.cpu, 0);
    assert.deepEqual(signals, ['pod default/a deleted']);
  });

  it('stops counting a pod that finished (Succeeded or Failed)', () => {
    const { view, ctx, signals } = watched();
    view.trigger.podSeen({ pod: pod('a', { nodeName: 'n1', cpu: '1', phase: 'Running' }) });
    view.trigger.podSeen({ pod: pod('a', { nodeName: 'n1', cpu: '1', phase: 'Failed' }) });
    assert.equal(ctx().usage.get('n1')?.pods, 0);
    assert.deepEqual(signals, ['pod default/a finished']);
  });

  it('counts pods on nodes it has not seen yet, so a late node starts with them', () => {
    const { view, ctx } = watched();
    view.trigger.podSeen({ pod: pod('a', { nodeName: 'late', cpu: '1' }) });
    view.trigger.nodeSeen({ node: node('late') });
    assert.equal(ctx().usage.get('late')?.cpu, 1000);
  });

  it('does not double-count a pod seen twice', () => {
    const { view, ctx } = watched();
    for (let i = 0; i < 3; i++) view.trigger.podSeen({ pod: pod('a', { nodeName: 'n1', cpu: '1' }) });
    assert.equal(ctx().usage.get('n1')?.pods, 1);
  });
});

describe('view: assumptions', () => {
  it('reserves a decision until the watch confirms the bind', () => {
    const { view, ctx } = watched();
    const facts = podF('a', { cpu: '1' });
    view.trigger.assumed({ pod: facts, node: 'n1' });
    assert.equal(ctx().usage.get('n1')?.cpu, 1000);
    // Our own status write arrives while the bind is in flight: the reservation stays.
    view.trigger.podSeen({ pod: pod('a', { cpu: '1' }) });
    assert.equal(ctx().usage.get('n1')?.cpu, 1000);
    view.trigger.podSeen({ pod: pod('a', { cpu: '1', nodeName: 'n1' }) });
    assert.equal(ctx().placed.get('default/a')?.assumed, false);
    view.trigger.forgotten({ key: 'default/a', uid: facts.uid });
    assert.equal(ctx().usage.get('n1')?.cpu, 1000, 'a confirmed placement is not forgotten by a late failure');
  });

  it('releases a failed bind, but not a successor of the same name', () => {
    const { view, ctx, signals } = watched();
    view.trigger.assumed({ pod: podF('a', { cpu: '1' }), node: 'n1' });
    view.trigger.forgotten({ key: 'default/a', uid: 'someone-else' });
    assert.equal(ctx().usage.get('n1')?.cpu, 1000);
    view.trigger.forgotten({ key: 'default/a', uid: 'uid-a' });
    assert.equal(ctx().usage.get('n1')?.cpu, 0);
    assert.deepEqual(signals, [], 'a failed bind wakes no one (two failing binds would wake each other forever)');
  });

  it('keeps assumptions for pods a relist still finds unbound, and drops deleted ones', () => {
    const { view, ctx } = watched();
    view.trigger.assumed({ pod: podF('a', { cpu: '1' }), node: 'n1' });
    view.trigger.assumed({ pod: podF('gone', { cpu: '1' }), node: 'n1' });
    view.trigger.podSeen({ pod: pod('old', { nodeName: 'n2', cpu: '1' }) });
    // The informer's relist diff: a changed (still unbound), gone and old deleted, b new and bound.
    view.trigger.podSeen({ pod: pod('a', { cpu: '1' }) });
    view.trigger.podGone({ key: 'default/gone' });
    view.trigger.podGone({ key: 'default/old' });
    view.trigger.podSeen({ pod: pod('b', { nodeName: 'n2', cpu: '2' }) });
    assert.equal(ctx().usage.get('n1')?.cpu, 1000);
    assert.equal(ctx().usage.get('n2')?.cpu, 2000);
    assert.deepEqual([...ctx().placed.keys()].sort(), ['default/a', 'default/b']);
  });
});

describe('view: nodes', () => {
  it('signals capacity when a node is added or changes what can fit, not on a heartbeat', () => {
    const { view, signals, ctx } = watched();
    const n = node('n1');
    view.trigger.nodeSeen({ node: n });
    const beat = structuredClone(n);
    (beat.status?.conditions ?? [])[0]!.lastHeartbeatTime = '2030-01-01T00:00:10Z';
    view.trigger.nodeSeen({ node: beat });
    view.trigger.nodeSeen({ node: node('n1', { cpu: '8' }) });
    view.trigger.nodeSeen({ node: node('n1', { cpu: '8', labels: { disk: 'ssd' } }) });
    view.trigger.nodeSeen({ node: node('n1', { cpu: '8', labels: { disk: 'ssd' }, ready: 'Unknown' }) });
    assert.deepEqual(signals, ['node n1 added', 'node n1 changed', 'node n1 changed', 'node n1 changed']);
    view.trigger.nodeGone({ name: 'n1' });
    assert.equal(ctx().nodes.size, 0);
    assert.equal(signals.length, 4, 'losing a node frees nothing');
  });

  it('keeps the node list and its index in step through adds, updates and removals', () => {
    const { view, ctx } = watched();
    for (const n of ['a', 'b', 'c', 'd']) view.trigger.nodeSeen({ node: node(n) });
    view.trigger.podSeen({ pod: pod('on-d', { nodeName: 'd', cpu: '1' }) });
    view.trigger.nodeSeen({ node: node('b', { cpu: '8' }) });
    view.trigger.nodeGone({ name: 'a' });
    view.trigger.nodeGone({ name: 'missing' });
    const { nodeList, nodeIndex, nodes, usageList, usage } = ctx();
    assert.deepEqual(nodeList.map((n) => n.name).sort(), ['b', 'c', 'd']);
    for (const [name, i] of nodeIndex) assert.equal(nodeList[i]?.name, name);
    // Decisions read usage by position: it must be the named node's, and move with it.
    assert.equal(usageList.length, 3);
    for (const [name, i] of nodeIndex) assert.equal(usageList[i], usage.get(name));
    assert.equal(usageList[nodeIndex.get('d') as number]?.cpu, 1000);
    assert.equal(nodes.get('b'), nodeList[nodeIndex.get('b') as number]);
    assert.equal(nodes.get('b')?.allocatable.cpu, 8000);
  });

  it('renews the snapshot on every change so subscribers see it', () => {
    const { view } = watched();
    const versions: number[] = [];
    view.subscribe((s) => versions.push(s.context.version));
    view.trigger.nodeSeen({ node: node('a') });
    view.trigger.podSeen({ pod: pod('x', { nodeName: 'a' }) });
    assert.deepEqual(versions, [1, 2]);
  });
});

describe('facts', () => {
  it('sums container requests; unset ones score as 100m / 200Mi', () => {
    const r = podRequests(pod('p', { containers: [{ cpu: '250m' }, { memory: '1Gi' }, {}] }));
    assert.deepEqual(r.requests, { cpu: 250, memory: 2 ** 30 });
    assert.deepEqual(r.scoring, { cpu: 250 + 100 + 100, memory: 200 * 2 ** 20 + 2 ** 30 + 200 * 2 ** 20 });
  });

  it('counts an unparsable request as zero', () => {
    const p = pod('p', { cpu: 'lots' });
    assert.deepEqual(podRequests(p).requests, { cpu: 0, memory: 0 });
  });

  it('reads a node: readiness, cordon, hard taints only, allocatable, brands', () => {
    const f = nodeFacts(node('n', {
      cpu: '3500m', memory: '16318472Ki', pods: '110', unschedulable: true, labels: { 'reddwarf.io/zone-brands': 'sparse,lx' },
      taints: [{ key: 'a', effect: 'NoSchedule' }, { key: 'b', effect: 'PreferNoSchedule' }, { key: 'c', effect: 'NoExecute' }],
    }));
    assert.equal(f.ready, true);
    assert.equal(f.unschedulable, true);
    assert.deepEqual(f.taints.map((t) => t.key), ['a', 'c']);
    assert.deepEqual(f.allocatable, { cpu: 3500, memory: 16318472 * 1024, pods: 110 });
    assert.deepEqual([...(f.brands ?? [])], ['sparse', 'lx']);
  });

  it('keys a pod by namespace/name and hashes its uid', () => {
    const f = podFacts(pod('p', { namespace: 'ns', uid: 'u1' }));
    assert.equal(f.key, 'ns/p');
    assert.notEqual(f.hash, podFacts(pod('p', { namespace: 'ns', uid: 'u2' })).hash);
  });
});
