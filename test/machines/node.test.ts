// The node machine under a simulated clock: the monitor grace period and recovery.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createActor, SimulatedClock } from 'xstate';
import { clusterMachine, nodeId } from '../../machines/cluster.ts';
import { nodeMachine } from '../../machines/node.ts';

function harness() {
  const clock = new SimulatedClock();
  const marked: string[] = [];
  const root = createActor(clusterMachine.provide({
    actors: { node: nodeMachine.provide({ actions: { markUnknown: (_, p: { name: string }) => { marked.push(p.name); } } }) },
  }), { clock }).start();
  return { clock, marked, root, state: (n: string) => root.system.get(nodeId(n))?.getSnapshot().value };
}

describe('node machine', () => {
  it('marks a node Unknown 40 s after its last heartbeat, not before', () => {
    const h = harness();
    h.root.send({ type: 'NODE_SEEN', input: { name: 'n1', graceMs: 40_000, remainingMs: 40_000 } });
    h.clock.increment(39_999);
    assert.equal(h.state('n1'), 'Ready');
    h.clock.increment(1);
    assert.equal(h.state('n1'), 'Unknown');
    assert.deepEqual(h.marked, ['n1']);
  });

  it('re-arms the full grace period on every heartbeat', () => {
    const h = harness();
    h.root.send({ type: 'NODE_SEEN', input: { name: 'n1', graceMs: 40_000, remainingMs: 40_000 } });
    for (let i = 0; i < 10; i++) {
      h.clock.increment(10_000);
      h.root.send({ type: 'NODE_HEARTBEAT', name: 'n1' });
    }
    assert.equal(h.state('n1'), 'Ready');
    h.clock.increment(40_000);
    assert.equal(h.state('n1'), 'Unknown');
    assert.equal(h.marked.length, 1);
  });

  it('comes back Ready with the next heartbeat, and marks it again only after a new silence', () => {
    const h = harness();
    h.root.send({ type: 'NODE_SEEN', input: { name: 'n1', graceMs: 40_000, remainingMs: 1_000 } });
    h.clock.increment(1_000);
    assert.equal(h.state('n1'), 'Unknown');
    h.root.send({ type: 'NODE_HEARTBEAT', name: 'n1' });
    assert.equal(h.state('n1'), 'Ready');
    h.clock.increment(39_999);
    assert.equal(h.state('n1'), 'Ready');
    h.clock.increment(1);
    assert.deepEqual(h.marked, ['n1', 'n1']);
  });

  it('starts Unknown when the control plane finds a node already silent for too long', () => {
    const h = harness();
    h.root.send({ type: 'NODE_SEEN', input: { name: 'late', graceMs: 40_000, remainingMs: -5_000 } });
    assert.equal(h.state('late'), 'Unknown');
    assert.deepEqual(h.marked, ['late']);
  });

  it('stops the actor when its Node is deleted', () => {
    const h = harness();
    h.root.send({ type: 'NODE_SEEN', input: { name: 'gone', graceMs: 40_000, remainingMs: 40_000 } });
    h.root.send({ type: 'NODE_DELETED', name: 'gone' });
    assert.equal(h.state('gone'), undefined);
    h.clock.increment(60_000);
    assert.deepEqual(h.marked, []);
  });
});
