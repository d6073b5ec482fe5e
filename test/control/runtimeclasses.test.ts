// Brands across the cluster in one process: a registering node advertises its brands and
// distribution, the control plane creates one RuntimeClass per offered brand, pods name a
// RuntimeClass (admission resolves it, or refuses a missing one with 403), and a pod asking for a
// brand no node has stays Pending with a FailedScheduling message naming the brand.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { LocalClient } from '../../src/client/local.ts';
import { ClientError } from '../../src/client/client.ts';
import { startControlPlane } from '../../src/control/plane.ts';
import { registerOnce, type NodeIdentity } from '../../src/agent/register.ts';
import { startScheduler } from '../../src/scheduler/scheduler.ts';
import type { CoreEvent, KubeObject, Node, Pod } from '../../src/api/model/types.ts';
import { openStore } from '../helpers/server.ts';

const identity = (name: string, brands: string[]): NodeIdentity => ({
  name, brands, runtime: 'illumos',
  resources: { capacity: { cpu: '2', memory: '4Gi', pods: '110' }, allocatable: { cpu: '1900m', memory: '3840Mi', pods: '110' } },
  distribution: { name: 'OmniOS', release: 'OmniOS v11 r151050y' },
});

async function until<T>(what: string, get: () => Promise<T | undefined>): Promise<T> {
  for (let i = 0; i < 400; i++) {
    const v = await get().catch(() => undefined);
    if (v !== undefined) return v;
    await new Promise((r) => setTimeout(r, 5));
  }
  return assert.fail(`timed out waiting for ${what}`);
}

const pod = (name: string, spec: Partial<Pod['spec']> = {}, annotations?: Record<string, string>): Pod => ({
  apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'default', ...(annotations ? { annotations } : {}) }, spec: { containers: [{ name: 'c', image: 'busybox' }], ...spec },
});

describe('brands across the cluster', () => {
  it('advertises brands and distribution, creates RuntimeClasses, admits and schedules by brand', async () => {
    const { store, close } = await openStore();
    const client = new LocalClient(store);
    const plane = startControlPlane({ client, nodeMonitorGraceMs: 40_000, log: () => {} });
    const scheduler = startScheduler({ client });
    try {
      const node = await registerOnce(client, identity('omni', ['lx', 'sparse']), Date.now());
      assert.equal(node.metadata.labels?.['reddwarf.io/zone-brands'], 'lx_sparse');
      assert.equal(node.metadata.annotations?.['reddwarf.io/os-distribution'], 'OmniOS');
      assert.equal(node.status?.nodeInfo && (node.status.nodeInfo as { osImage?: string }).osImage, 'OmniOS v11 r151050y');

      const rcs = await until('RuntimeClasses lx and sparse', async () => {
        const items = (await client.list<KubeObject>('runtimeclasses')).items;
        return items.length === 2 ? items : undefined;
      });
      assert.deepEqual(rcs.map((r) => [r.metadata.name, r.handler, r.metadata.labels?.['app.kubernetes.io/managed-by']]), [['lx', 'lx', 'reddwarf'], ['sparse', 'sparse', 'reddwarf']]);

      // A second node offering a new brand adds its RuntimeClass; known ones are left alone.
      await registerOnce(client, identity('smart', ['lx', 'joyent']), Date.now());
      await until('RuntimeClass joyent', async () => (await client.get<KubeObject>('runtimeclasses', '', 'joyent')).handler === 'joyent' || undefined);

      // Admission: a missing RuntimeClass is refused as kube-apiserver does.
      await assert.rejects(client.create('pods', pod('nope', { runtimeClassName: 'pkgsrc' })), (e: unknown) => {
        assert.ok(e instanceof ClientError);
        assert.equal(e.code, 403);
        assert.equal(e.message, 'pods "nope" is forbidden: pod rejected: RuntimeClass "pkgsrc" not found');
        return true;
      });
      // An existing one writes its handler into the brand annotation, and its overhead into the pod.
      await client.create('runtimeclasses', { apiVersion: 'node.k8s.io/v1', kind: 'RuntimeClass', metadata: { name: 'small-sparse' }, handler: 'sparse', overhead: { podFixed: { memory: '32Mi' } } });
      const admitted = await client.create<Pod>('pods', pod('native', { runtimeClassName: 'small-sparse' }));
      assert.equal(admitted.metadata.annotations?.['reddwarf.io/zone-brand'], 'sparse');
      assert.deepEqual(admitted.spec.overhead, { memory: '32Mi' });
      await assert.rejects(client.create('pods', pod('clash', { runtimeClassName: 'small-sparse' }, { 'reddwarf.io/zone-brand': 'lx' })), (e: unknown) => e instanceof ClientError && e.code === 403);

      const bound = await until('native bound to omni', async () => (await client.get<Pod>('pods', 'default', 'native')).spec.nodeName || undefined);
      assert.equal(bound, 'omni');

      // A brand no node has: Pending, Unschedulable, the brand named.
      await client.create('pods', pod('lonely', {}, { 'reddwarf.io/zone-brand': 'pkgsrc' }));
      const cond = await until('lonely Unschedulable', async () => {
        const p = await client.get<Pod>('pods', 'default', 'lonely');
        const c = p.status?.conditions?.find((x) => x.type === 'PodScheduled');
        return c?.reason === 'Unschedulable' ? { c, p } : undefined;
      });
      assert.equal(cond.p.status?.phase, 'Pending');
      assert.equal(cond.p.spec.nodeName, undefined);
      assert.equal(cond.c.message, '0/2 nodes are available: 2 node(s) didn\'t support zone brand "pkgsrc".');
      const ev = await until('FailedScheduling event', async () => (await client.list<CoreEvent>('events', { namespace: 'default' })).items.find((e) => e.reason === 'FailedScheduling' && e.involvedObject?.name === 'lonely'));
      assert.match(ev.message ?? '', /didn't support zone brand "pkgsrc"/);

      const nodes = (await client.list<Node>('nodes')).items.map((n) => n.metadata.name);
      assert.deepEqual(nodes.sort(), ['omni', 'smart']);
    } finally {
      scheduler.stop();
      plane.stop();
      await close();
    }
  });
});
