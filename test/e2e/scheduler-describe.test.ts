// End to end: `kubectl describe pod` of a pod that fits on no node tells the user why.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { pollUntil, startServe } from '../helpers/process.ts';
import { kubectl, kubectlMissing } from '../helpers/kubectl.ts';

const NODE = `apiVersion: v1
kind: Node
metadata:
  name: small
status:
  conditions:
  - type: Ready
    status: "True"
  allocatable: {cpu: "1", memory: 2Gi, pods: "110"}
  capacity: {cpu: "1", memory: 2Gi, pods: "110"}
`;

const POD = `apiVersion: v1
kind: Pod
metadata:
  name: big
spec:
  containers:
  - name: app
    image: nginx
    resources:
      requests: {cpu: "2", memory: 1Gi}
`;

describe('unschedulable pods, seen with kubectl', () => {
  it('shows FailedScheduling with the Kubernetes-style reason in describe', async (t) => {
    const missing = kubectlMissing();
    if (missing) {
      console.warn(`SKIPPED: ${missing}`);
      t.skip(missing);
      return;
    }
    const serve = await startServe();
    const k = kubectl(serve.kubeconfig);
    try {
      assert.equal((await k.run('create', '-f', k.file('node.yaml', NODE))).code, 0);
      const created = await k.run('create', '-f', k.file('pod.yaml', POD));
      assert.equal(created.code, 0, created.stderr);
      const out = await pollUntil(async () => {
        const d = await k.run('describe', 'pod', 'big');
        return d.stdout.includes('FailedScheduling') ? d.stdout : undefined;
      }, 15_000, 200);
      assert.ok(out, 'describe never showed FailedScheduling');
      assert.match(out, /0\/1 nodes are available: 1 Insufficient cpu\./);
      assert.match(out, /PodScheduled\s+False/);
      const phase = await k.run('get', 'pod', 'big', '-o', 'jsonpath={.status.conditions[?(@.type=="PodScheduled")].reason}');
      assert.equal(phase.stdout, 'Unschedulable');
    } finally {
      await serve.stop();
      serve.cleanup();
    }
  });
});
