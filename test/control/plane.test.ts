// Node liveness end to end in one process: agent heartbeats and the control plane's node actors,
// on a real store, with a simulated clock.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { SimulatedClock } from 'xstate';
import { release, type networkInterfaces } from 'node:os';
import { nodeIp } from '../../src/agent/identity.ts';
import { LocalClient } from '../../src/client/local.ts';
import { startControlPlane } from '../../src/control/plane.ts';
import { heartbeat, registerOnce, type NodeIdentity } from '../../src/agent/register.ts';
import type { Node } from '../../src/api/types.ts';
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

describe('node liveness', () => {
  it('marks a silent node Ready=Unknown after the grace period and back to True on its next heartbeat', async () => {
    const { store, close } = await openStore();
    const client = new LocalClient(store);
    const clock = new SimulatedClock();
    const start = Date.parse('2026-11-26T10:00:00Z');
    clock.set(start);
    const now = (): number => clock.now();
    await registerOnce(client, identity, now());
    const plane = startControlPlane({ client, nodeMonitorGraceMs: 40_000, clock, now, log: () => {} });
    const ready = async (): Promise<NonNullable<Node['status']>['conditions']> => (await client.get<Node>('nodes', '', 'n1')).status?.conditions;
    const first = (await ready())?.find((c) => c.type === 'Ready');
    assert.equal(first?.status, 'True');
    const readySince = first?.lastTransitionTime;

    // Heartbeats every 10 s keep it Ready, and its transition time does not move.
    for (let i = 0; i < 6; i++) {
      clock.increment(10_000);
      await heartbeat(client, identity, now());
      await settle();
    }
    let c = (await ready())?.find((x) => x.type === 'Ready');
    assert.equal(c?.status, 'True');
    assert.equal(c?.lastTransitionTime, readySince, 'lastTransitionTime only moves when the status changes (bug 17)');
    assert.notEqual(c?.lastHeartbeatTime, readySince);

    // Silence: at 39.999 s still Ready, at 40 s Unknown.
    clock.increment(39_999);
    await settle();
    assert.equal((await ready())?.find((x) => x.type === 'Ready')?.status, 'True');
    clock.increment(1);
    await until('Ready=Unknown', async () => (await ready())?.find((x) => x.type === 'Ready')?.status === 'Unknown');
    c = (await ready())?.find((x) => x.type === 'Ready');
    assert.equal(c?.reason, 'NodeStatusUnknown');
    assert.equal(c?.lastTransitionTime, new Date(now()).toISOString().replace('.000Z', 'Z'));
    const unknownSince = c?.lastTransitionTime;

    // Staying silent does not rewrite the condition.
    clock.increment(60_000);
    await settle();
    assert.equal((await ready())?.find((x) => x.type === 'Ready')?.lastTransitionTime, unknownSince);

    // The agent comes back.
    await heartbeat(client, identity, now());
    await settle();
    c = (await ready())?.find((x) => x.type === 'Ready');
    assert.equal(c?.status, 'True');
    assert.notEqual(c?.lastTransitionTime, unknownSince);
    assert.deepEqual(Object.keys(plane.actor.system.getAll()).filter((k) => k.startsWith('node/')), ['node/n1']);
    plane.stop();
    await close();
  });

  it('finds a node that went silent while the control plane was down and marks it at once', async () => {
    const { store, close } = await openStore();
    const client = new LocalClient(store);
    const clock = new SimulatedClock();
    clock.set(Date.parse('2026-11-26T10:00:00Z'));
    await registerOnce(client, identity, clock.now());
    clock.increment(120_000);
    const plane = startControlPlane({ client, nodeMonitorGraceMs: 40_000, clock, now: () => clock.now(), log: () => {} });
    await until('Ready=Unknown', async () => (await client.get<Node>('nodes', '', 'n1')).status?.conditions?.find((x) => x.type === 'Ready')?.status === 'Unknown');
    plane.stop();
    await close();
  });

  it('registers a deleted Node again on the next heartbeat (bug 26)', async () => {
    const { store, close } = await openStore();
    const client = new LocalClient(store);
    await registerOnce(client, identity, Date.now());
    await client.delete('nodes', '', 'n1');
    await heartbeat(client, identity, Date.now());
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
