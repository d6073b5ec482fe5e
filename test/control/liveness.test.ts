// NodeLiveness on its own: which cluster events Node and Lease sightings turn into.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { NodeLiveness, type LivenessEvent } from '../../src/control/nodes.ts';
import type { Node } from '../../src/api/model/types.ts';
import { microTime, type Lease } from '../../src/api/model/lease/lease.ts';
import { rfc3339 } from '../../src/store/time.ts';

const T0 = Date.parse('2026-12-03T10:00:00Z');
const node = (name: string, heartbeat: number): Node => ({
  metadata: { name },
  status: { conditions: [{ type: 'Ready', status: 'True', lastHeartbeatTime: rfc3339(heartbeat), lastTransitionTime: rfc3339(T0) }] },
});
const lease = (name: string, renewed: number): Lease => ({ metadata: { name, namespace: 'kube-node-lease' }, spec: { holderIdentity: name, renewTime: microTime(renewed) } });

function tracker(now: number) {
  const sent: LivenessEvent[] = [];
  const alive = new Set<string>();
  const l = new NodeLiveness({
    graceMs: 40_000,
    now: () => now,
    exists: (name) => alive.has(name),
    send: (e) => {
      sent.push(e);
      if (e.type === 'NODE_SEEN') alive.add(e.input.name);
      if (e.type === 'NODE_DELETED') alive.delete(e.name);
    },
  });
  return { l, sent };
}

describe('NodeLiveness', () => {
  it('holds nodes until the Leases are listed, then starts each from the newer of heartbeat and renewal', () => {
    const { l, sent } = tracker(T0 + 120_000);
    l.nodeSeen(node('a', T0));
    l.nodeSeen(node('b', T0));
    assert.deepEqual(sent, [], 'no node actor before the Leases are known');
    l.leaseSeen(lease('a', T0 + 110_000));
    l.leasesSynced();
    assert.deepEqual(sent, [
      { type: 'NODE_SEEN', input: { name: 'a', graceMs: 40_000, remainingMs: 30_000 } },
      { type: 'NODE_SEEN', input: { name: 'b', graceMs: 40_000, remainingMs: -80_000 } },
    ]);
  });

  it('re-arms on a newer renewal only, and on a new Ready heartbeat', () => {
    const { l, sent } = tracker(T0);
    l.leasesSynced();
    l.nodeSeen(node('a', T0));
    sent.length = 0;
    l.leaseSeen(lease('a', T0 + 10_000));
    l.leaseSeen(lease('a', T0 + 10_000));
    l.leaseSeen(lease('a', T0 + 5_000));
    assert.deepEqual(sent, [{ type: 'NODE_HEARTBEAT', name: 'a' }], 'the same or an older renewTime is no sign of life');
    l.nodeSeen(node('a', T0));
    l.nodeSeen(node('a', T0 + 300_000));
    assert.deepEqual(sent, [{ type: 'NODE_HEARTBEAT', name: 'a' }, { type: 'NODE_HEARTBEAT', name: 'a' }]);
    // A Lease of a node not (yet) seen wakes nothing; the node then starts from it.
    l.leaseSeen(lease('c', T0 - 10_000));
    l.nodeSeen(node('c', T0 - 60_000));
    assert.deepEqual(sent.at(-1), { type: 'NODE_SEEN', input: { name: 'c', graceMs: 40_000, remainingMs: 30_000 } });
    l.nodeDeleted('c');
    assert.deepEqual(sent.at(-1), { type: 'NODE_DELETED', name: 'c' });
  });
});
