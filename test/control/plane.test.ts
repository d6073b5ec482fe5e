// Node liveness end to end in one process: the agent's Lease renewals and Node status reports and
// the control plane's node actors, on a real store, with a simulated clock.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { SimulatedClock } from 'xstate';
import { release, type networkInterfaces } from 'node:os';
import { nodeIp } from '../../src/agent/identity.ts';
import { LocalClient } from '../../src/client/local.ts';
import { startControlPlane } from '../../src/control/plane.ts';
import { HEARTBEAT_MS, registerOnce, renewLease, startHeartbeats, syncNodeStatus, type NodeIdentity } from '../../src/agent/register.ts';
import type { Condition, KubeObject, Node } from '../../src/api/model/types.ts';
import { microTime, NODE_LEASE_NAMESPACE, type Lease } from '../../src/api/model/lease/lease.ts';
import { withReady } from '../../src/api/model/node/conditions.ts';
import { rfc3339 } from '../../src/store/time.ts';
import { openStore } from '../helpers/server.ts';

const identity: NodeIdentity = { name: 'n1', brands: ['sparse'], resources: { capacity: { cpu: '2', memory: '4Gi', pods: '110' }, allocatable: { cpu: '1900m', memory: '3840Mi', pods: '110' } }, runtime: 'mock' };

const settle = async (): Promise<void> => {
  for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
};

async function until(what: string, cond: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (await cond()) return;
    await new Promise((r) => setTimeout(r, 5));
  }
  assert.fail(`timed out waiting for ${what}`);
}

/** The local client, counting the writes a user would see in the store. */
class CountingClient extends LocalClient {
  readonly writes: string[] = [];
  override create<T extends KubeObject>(resource: string, obj: T): Promise<T> {
    this.writes.push(`create ${resource}`);
    return super.create(resource, obj);
  }
  override update<T extends KubeObject>(resource: string, obj: T): Promise<T> {
    this.writes.push(`update ${resource}`);
    return super.update(resource, obj);
  }
  override updateStatus<T extends KubeObject>(resource: string, obj: T): Promise<T> {
    this.writes.push(`status ${resource}`);
    return super.updateStatus(resource, obj);
  }
  count(what: string): number {
    return this.writes.filter((w) => w === what).length;
  }
}

const readyOf = async (client: LocalClient, name = 'n1'): Promise<Condition | undefined> =>
  (await client.get<Node>('nodes', '', name)).status?.conditions?.find((c) => c.type === 'Ready');

/** An agent's heartbeats on the simulated clock; `step` moves time one period and waits for the beat. */
function agentBeats(client: LocalClient, clock: SimulatedClock, node?: Node) {
  const beats = startHeartbeats({ client, identity, clock, ...(node ? { node } : {}), log: () => {} });
  return {
    beats,
    async step(ms = HEARTBEAT_MS): Promise<void> {
      clock.increment(ms);
      await beats.beat();
      await settle();
    },
  };
}

describe('node liveness', () => {
  it('keeps a node Ready on Lease renewals alone, marks it Unknown 40 s after the last one, and Ready again on the next', async () => {
    const { store, close } = await openStore();
    const client = new LocalClient(store);
    const clock = new SimulatedClock();
    clock.set(Date.parse('2026-11-26T10:00:00Z'));
    const now = (): number => clock.now();
    const node = await registerOnce(client, identity, now());
    const plane = startControlPlane({ client, nodeMonitorGraceMs: 40_000, clock, log: () => {} });
    const agent = agentBeats(client, clock, node);
    await agent.beats.beat();
    const first = await readyOf(client);
    assert.equal(first?.status, 'True');

    // Two minutes of renewals: the Node's own heartbeat gets old, the node stays Ready.
    for (let i = 0; i < 12; i++) await agent.step();
    const c = await readyOf(client);
    assert.equal(c?.status, 'True');
    assert.equal(c?.lastHeartbeatTime, first?.lastHeartbeatTime, 'no Node status write while nothing changed');
    assert.equal(c?.lastTransitionTime, first?.lastTransitionTime);
    const lease = await client.get<Lease>('leases', NODE_LEASE_NAMESPACE, 'n1');
    assert.equal(lease.spec?.renewTime, microTime(now()));

    // Silence: at 39.999 s still Ready, at 40 s Unknown.
    agent.beats.stop();
    clock.increment(39_999);
    await settle();
    assert.equal((await readyOf(client))?.status, 'True');
    clock.increment(1);
    await until('Ready=Unknown', async () => (await readyOf(client))?.status === 'Unknown');
    const unknown = await readyOf(client);
    assert.equal(unknown?.reason, 'NodeStatusUnknown');
    assert.equal(unknown?.lastTransitionTime, rfc3339(now()));

    // Staying silent does not rewrite the condition.
    clock.increment(60_000);
    await settle();
    assert.equal((await readyOf(client))?.lastTransitionTime, unknown?.lastTransitionTime);

    // The agent comes back: its first beat renews the Lease and, the status having changed, writes Ready=True.
    const back = agentBeats(client, clock);
    await back.beats.beat();
    await settle();
    const again = await readyOf(client);
    assert.equal(again?.status, 'True');
    assert.equal(again?.reason, 'KubeletReady');
    assert.equal(again?.lastTransitionTime, rfc3339(now()));
    // And the node actor heard the renewal: another 39 s of renewals leave it Ready.
    for (let i = 0; i < 4; i++) await back.step();
    assert.equal((await readyOf(client))?.status, 'True');
    assert.deepEqual(Object.keys(plane.actor.system.getAll()).filter((k) => k.startsWith('node/')), ['node/n1']);
    back.beats.stop();
    plane.stop();
    await close();
  });

  it('writes the Node status when it changes or every 5 min, not every 10 s; renews the Lease every 10 s', async () => {
    const { store, close } = await openStore();
    const client = new CountingClient(store);
    const clock = new SimulatedClock();
    clock.set(Date.parse('2026-11-26T10:00:00Z'));
    const node = await registerOnce(client, identity, clock.now());
    client.writes.length = 0;
    const agent = agentBeats(client, clock, node);
    await agent.beats.beat();
    assert.deepEqual(client.writes, ['create leases'], 'the first beat creates the Lease and leaves the fresh status alone');

    // 10 minutes: 60 renewals, two status reports (at 5 and 10 min).
    for (let i = 0; i < 60; i++) await agent.step();
    assert.equal(client.count('update leases'), 60);
    assert.equal(client.count('status nodes'), 2);
    assert.equal((await readyOf(client))?.lastHeartbeatTime, rfc3339(clock.now()));

    // A change (someone else marked it not Ready) is put right at the next beat, once.
    const stored = await client.get<Node>('nodes', '', 'n1');
    await client.updateStatus<Node>('nodes', { ...stored, status: { ...stored.status, conditions: withReady(stored.status?.conditions, { type: 'Ready', status: 'False', reason: 'Test', lastTransitionTime: rfc3339(clock.now()) }) } });
    await agent.step();
    await agent.step();
    assert.equal(client.count('status nodes'), 4, client.writes.join('\n'));
    assert.equal((await readyOf(client))?.status, 'True');
    agent.beats.stop();
    await close();
  });

  it('creates its Lease as kubelet does: holder, 40 s duration, owned by its Node; recreates it when deleted', async () => {
    const { store, close } = await openStore();
    const client = new LocalClient(store);
    const clock = new SimulatedClock();
    clock.set(Date.parse('2026-11-26T10:00:00.250Z'));
    const node = await registerOnce(client, identity, clock.now());
    const lease = await renewLease(client, identity, clock.now(), undefined, node);
    assert.equal(lease.metadata.namespace, 'kube-node-lease');
    assert.deepEqual(lease.spec, { holderIdentity: 'n1', leaseDurationSeconds: 40, renewTime: '2026-11-26T10:00:00.250000Z' });
    assert.deepEqual(lease.metadata.ownerReferences, [{ apiVersion: 'v1', kind: 'Node', name: 'n1', uid: node.metadata.uid }]);
    await client.delete('leases', NODE_LEASE_NAMESPACE, 'n1');
    clock.increment(10_000);
    const again = await renewLease(client, identity, clock.now(), lease, node);
    assert.notEqual(again.metadata.uid, lease.metadata.uid);
    assert.equal(again.spec?.renewTime, '2026-11-26T10:00:10.250000Z');
    await close();
  });

  it('finds a node that went silent while the control plane was down and marks it at once', async () => {
    const { store, close } = await openStore();
    const client = new LocalClient(store);
    const clock = new SimulatedClock();
    clock.set(Date.parse('2026-11-26T10:00:00Z'));
    const node = await registerOnce(client, identity, clock.now());
    await renewLease(client, identity, clock.now(), undefined, node);
    clock.increment(120_000);
    const plane = startControlPlane({ client, nodeMonitorGraceMs: 40_000, clock, log: () => {} });
    await until('Ready=Unknown', async () => (await readyOf(client))?.status === 'Unknown');
    plane.stop();
    await close();
  });

  it('does not mark a node whose Lease is fresh though its Node status heartbeat is old (a restarted control plane)', async () => {
    const { store, close } = await openStore();
    const client = new LocalClient(store);
    const clock = new SimulatedClock();
    clock.set(Date.parse('2026-11-26T10:00:00Z'));
    const node = await registerOnce(client, identity, clock.now());
    clock.increment(120_000);
    await renewLease(client, identity, clock.now() - 5_000, undefined, node);
    const plane = startControlPlane({ client, nodeMonitorGraceMs: 40_000, clock, log: () => {} });
    await until('the node actor', async () => plane.actor.system.get('node/n1') !== undefined);
    await settle();
    assert.equal((await readyOf(client))?.status, 'True');
    // The grace runs from the renewal: 35 s left.
    clock.increment(34_999);
    await settle();
    assert.equal((await readyOf(client))?.status, 'True');
    clock.increment(1);
    await until('Ready=Unknown', async () => (await readyOf(client))?.status === 'Unknown');
    plane.stop();
    await close();
  });

  it('registers a deleted Node again on the next heartbeat (bug 26)', async () => {
    const { store, close } = await openStore();
    const client = new LocalClient(store);
    await registerOnce(client, identity, Date.parse('2026-11-26T10:00:00Z'));
    await client.delete('nodes', '', 'n1');
    const { wrote } = await syncNodeStatus(client, identity, Date.parse('2026-11-26T10:00:10Z'));
    assert.equal(wrote, true);
    const node = await client.get<Node>('nodes', '', 'n1');
    assert.equal(node.status?.allocatable?.cpu, '1900m');
    assert.equal(node.metadata.labels?.['kubernetes.io/hostname'], 'n1');
    await close();
  });

  it('refreshes labels and resources of an existing Node at registration (bug 17)', async () => {
    const { store, close } = await openStore();
    const client = new LocalClient(store);
    await registerOnce(client, identity, Date.now());
    await registerOnce(client, { ...identity, brands: ['sparse', 'lx'], distribution: { name: 'OmniOS', release: 'OmniOS v11 r151052' }, resources: { ...identity.resources, allocatable: { cpu: '900m', memory: '1Gi', pods: '10' } } }, Date.now());
    const node = await client.get<Node>('nodes', '', 'n1');
    assert.equal(node.metadata.labels?.['reddwarf.io/zone-brands'], 'sparse_lx');
    assert.equal(node.metadata.annotations?.['reddwarf.io/os-distribution'], 'OmniOS');
    assert.equal((node.status?.nodeInfo as { osImage?: string } | undefined)?.osImage, 'OmniOS v11 r151052');
    assert.equal(node.status?.allocatable?.pods, '10');
    await close();
  });

  it('reports the node address as InternalIP (kubectl get nodes -o wide), the kernel version and the architecture', async () => {
    const { store, close } = await openStore();
    const client = new LocalClient(store);
    await registerOnce(client, { ...identity, ip: '192.0.2.7' }, Date.now());
    const node = await client.get<Node>('nodes', '', 'n1');
    assert.deepEqual(node.status?.addresses, [{ type: 'InternalIP', address: '192.0.2.7' }, { type: 'Hostname', address: 'n1' }]);
    assert.equal(node.status?.nodeInfo?.kernelVersion, release());
    // GOARCH names, as node selectors expect (kubernetes.io/arch: amd64), not node's `x64`.
    const goarch = process.arch === 'x64' ? 'amd64' : process.arch;
    assert.equal(node.status?.nodeInfo?.architecture, goarch);
    assert.equal(node.metadata.labels?.['kubernetes.io/arch'], goarch);
    await close();
  });
});

describe('node address', () => {
  const nics = (): ReturnType<typeof networkInterfaces> => ({
    lo0: [{ address: '127.0.0.1', family: 'IPv4', internal: true, netmask: '255.0.0.0', mac: '00:00:00:00:00:00', cidr: '127.0.0.1/8' }],
    ixgbe0: [
      { address: 'fe80::1', family: 'IPv6', internal: false, netmask: 'ffff:ffff:ffff:ffff::', mac: '02:08:20:00:00:01', cidr: 'fe80::1/64', scopeid: 2 },
      { address: '10.1.2.3', family: 'IPv4', internal: false, netmask: '255.255.255.0', mac: '02:08:20:00:00:01', cidr: '10.1.2.3/24' },
    ],
  });
  it('is --node-ip when given (an IP, else a clear error), else the first non-loopback IPv4 address', () => {
    assert.equal(nodeIp('2001:db8::5', nics), '2001:db8::5');
    assert.throws(() => nodeIp('node-1.example', nics), /--node-ip "node-1.example" is not an IP address/);
    assert.equal(nodeIp(undefined, nics), '10.1.2.3');
    assert.equal(nodeIp(undefined, () => ({ lo0: nics().lo0 })), undefined);
  });
});
