// End to end: a node's Lease as kubectl shows it — `describe node` with its Lease section,
// `get leases` with NAME HOLDER AGE — and the renewals moving it on while the Node status stays put.
import { describe, it, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { kubectl, kubectlMissing } from '../helpers/kubectl.ts';
import { pollUntil, startUp } from '../helpers/process.ts';

function skipWithoutKubectl(t: TestContext): boolean {
  const missing = kubectlMissing();
  if (!missing) return false;
  console.warn(`SKIPPING node lease e2e: ${missing}`);
  t.skip(missing);
  return true;
}

describe('node Lease, seen with kubectl', () => {
  it('describe node shows the Lease; get leases lists it; renewals move it, not the Node status', { timeout: 90_000 }, async (t) => {
    if (skipWithoutKubectl(t)) return;
    // Renewals every second, so the test sees a few of them in little time.
    const up = await startUp({ nodeName: 'lease-n1', args: ['--node-status-update-frequency', '1s'] });
    const k = kubectl(up.kubeconfig, { procs: () => [up] });
    try {
      const ar = await k.ok('api-resources', '--api-group', 'coordination.k8s.io');
      assert.match(ar.stdout, /^leases\s+coordination\.k8s\.io\/v1\s+true\s+Lease$/m, k.explain(ar));
      const d = await k.ok('describe', 'node', 'lease-n1');
      assert.match(d.stdout, /^Lease:\n {2}HolderIdentity: {2}lease-n1\n {2}AcquireTime: {5}<unset>\n {2}RenewTime: {7}\w{3}, \d{2} \w{3} \d{4} \d{2}:\d{2}:\d{2} \+0000\n/m, k.explain(d));

      const all = await k.ok('get', 'leases', '-A');
      assert.match(all.stdout, /^NAMESPACE\s+NAME\s+HOLDER\s+AGE\n/, k.explain(all));
      assert.match(all.stdout, /^kube-node-lease\s+lease-n1\s+lease-n1\s+\d+s$/m, k.explain(all));
      const inNs = await k.ok('get', 'leases', '-n', 'kube-node-lease');
      assert.match(inNs.stdout, /^lease-n1\s+lease-n1\s+\d+s$/m, k.explain(inNs));
      const ns = await k.ok('get', 'namespace', 'kube-node-lease');
      assert.match(ns.stdout, /^kube-node-lease\s+Active\s/m, k.explain(ns));

      const lease = await k.json<{ spec: { holderIdentity: string; leaseDurationSeconds: number; renewTime: string }; metadata: { ownerReferences: { kind: string; name: string; uid: string }[] } }>('get', 'lease', 'lease-n1', '-n', 'kube-node-lease');
      const node = await k.json<{ metadata: { uid: string }; status: { conditions: { type: string; lastHeartbeatTime: string }[] } }>('get', 'node', 'lease-n1');
      assert.equal(lease.spec.leaseDurationSeconds, 40);
      assert.match(lease.spec.renewTime, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/);
      assert.deepEqual(lease.metadata.ownerReferences.map((r) => [r.kind, r.name, r.uid]), [['Node', 'lease-n1', node.metadata.uid]]);
      const heartbeat = node.status.conditions.find((c) => c.type === 'Ready')?.lastHeartbeatTime;

      // A few renewals later the Lease has moved on; the Node status, unchanged, was not rewritten.
      const renewed = await pollUntil(async () => {
        const r = await k.run('get', 'lease', 'lease-n1', '-n', 'kube-node-lease', '-o', 'jsonpath={.spec.renewTime}');
        return r.code === 0 && r.stdout > lease.spec.renewTime ? r.stdout : undefined;
      }, 15_000, 250);
      assert.ok(renewed, `the Lease was not renewed from ${lease.spec.renewTime}\n${k.logs()}`);
      const after = await k.ok('get', 'node', 'lease-n1', '-o', 'jsonpath={.status.conditions[?(@.type=="Ready")].lastHeartbeatTime}');
      assert.equal(after.stdout, heartbeat, 'the Node status is written on change or every 5 min, not on each renewal');
      const ready = await k.ok('get', 'node', 'lease-n1');
      assert.match(ready.stdout, /^lease-n1\s+Ready\s/m, k.explain(ready));
    } finally {
      await up.stop();
      up.cleanup();
      k.cleanup();
    }
  });
});
