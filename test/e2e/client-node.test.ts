// End to end: @kubernetes/client-node 1.4.0 (the last line that loads on Node 20) against an
// in-process reddwarf: typed list/create/patch/delete, an informer's add/update/delete, and its
// recovery from a 410 Expired watch by relisting.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as k8s from '@kubernetes/client-node';
import { pollUntil } from '../helpers/process.ts';
import { startServer, type TestServer } from '../helpers/server.ts';

function kubeConfig(url: string): k8s.KubeConfig {
  const kc = new k8s.KubeConfig();
  // client-node 1.4.0 refuses http:// unless skipTLSVerify is set.
  kc.loadFromOptions({
    clusters: [{ name: 'reddwarf', server: url, skipTLSVerify: true }],
    users: [{ name: 'anon' }],
    contexts: [{ name: 'reddwarf', cluster: 'reddwarf', user: 'anon' }],
    currentContext: 'reddwarf',
  });
  return kc;
}

const pod = (name: string): k8s.V1Pod => ({ metadata: { name, labels: { app: 'cn' } }, spec: { containers: [{ name: 'c', image: 'nginx' }] } });

describe('@kubernetes/client-node 1.4.0', () => {
  let server: TestServer;
  let core: k8s.CoreV1Api;
  const ns = 'default';

  before(async () => {
    server = await startServer('uws');
    core = kubeConfig(server.url).makeApiClient(k8s.CoreV1Api);
  });
  after(async () => {
    await server.stop();
  });

  it('lists, creates, patches (json-patch default, merge via setHeaderOptions) and deletes', async () => {
    const created = await core.createNamespacedPod({ namespace: ns, body: pod('cn1') });
    assert.equal(created.metadata?.name, 'cn1');
    const list = await core.listNamespacedPod({ namespace: ns });
    assert.ok(list.items.some((p) => p.metadata?.name === 'cn1'));
    assert.match(list.metadata?.resourceVersion ?? '', /^\d+$/);

    const jp = await core.patchNamespacedPod({ name: 'cn1', namespace: ns, body: [{ op: 'add', path: '/metadata/labels/jp', value: 'yes' }] });
    assert.equal(jp.metadata?.labels?.['jp'], 'yes');
    const mp = await core.patchNamespacedPod({ name: 'cn1', namespace: ns, body: { metadata: { labels: { mp: 'yes' } } } }, k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch));
    assert.deepEqual(mp.metadata?.labels, { app: 'cn', jp: 'yes', mp: 'yes' });
    const sp = await core.patchNamespacedPod({ name: 'cn1', namespace: ns, body: { spec: { containers: [{ name: 'c', image: 'nginx:2' }] } } }, k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.StrategicMergePatch));
    assert.equal(sp.spec?.containers[0]?.image, 'nginx:2');

    // Server-side apply through the generic object API (create when absent, then update).
    const objects = k8s.KubernetesObjectApi.makeApiClient(kubeConfig(server.url));
    const applied = await objects.patch({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'cn-ssa', namespace: ns }, spec: { containers: [{ name: 'c', image: 'nginx' }] } } as k8s.KubernetesObject, undefined, undefined, 'cn-test', true, k8s.PatchStrategy.ServerSideApply);
    assert.equal(applied.metadata?.name, 'cn-ssa');
    assert.equal(applied.metadata?.managedFields?.[0]?.manager, 'cn-test');

    await assert.rejects(core.createNamespacedPod({ namespace: ns, body: pod('cn1') }), (e: k8s.ApiException<string>) => {
      assert.equal(e.code, 409);
      assert.equal(JSON.parse(e.body).reason, 'AlreadyExists');
      return true;
    });
    await core.deleteNamespacedPod({ name: 'cn1', namespace: ns });
    await core.deleteNamespacedPod({ name: 'cn-ssa', namespace: ns });
    await assert.rejects(core.readNamespacedPod({ name: 'cn1', namespace: ns }), (e: k8s.ApiException<string>) => e.code === 404);
  });

  it('informer: add, update, delete, and a relist after 410 Expired', async () => {
    // Make history short, then push the store past the RV the first list will claim.
    const store = server.store as unknown as { retainEvents: number; retainMs: number; compact(): Promise<number> };
    const saved = { retainEvents: store.retainEvents, retainMs: store.retainMs };
    const first = await core.createNamespacedPod({ namespace: ns, body: pod('inf0') });
    const staleRv = String(Number(first.metadata?.resourceVersion) - 1);
    for (let i = 0; i < 3; i++) await core.createNamespacedPod({ namespace: ns, body: pod(`filler${i}`) });
    store.retainEvents = 1;
    store.retainMs = -1;
    await store.compact();
    store.retainEvents = saved.retainEvents;
    store.retainMs = saved.retainMs;

    let lists = 0;
    const listFn = async (): Promise<k8s.V1PodList> => {
      lists++;
      const l = await core.listNamespacedPod({ namespace: ns, labelSelector: 'app=cn' });
      // The first list claims an RV that has been compacted away: its watch gets a 410.
      if (lists === 1 && l.metadata) l.metadata.resourceVersion = staleRv;
      return l;
    };
    const informer = k8s.makeInformer(kubeConfig(server.url), `/api/v1/namespaces/${ns}/pods`, listFn, 'app=cn');
    const seen: string[] = [];
    const errors: unknown[] = [];
    informer.on('add', (p) => seen.push(`add ${p.metadata?.name}`));
    informer.on('update', (p) => seen.push(`update ${p.metadata?.name} ${p.metadata?.labels?.['v'] ?? ''}`));
    informer.on('delete', (p) => seen.push(`delete ${p.metadata?.name}`));
    informer.on('error', (e) => errors.push(e));
    await informer.start();
    try {
      assert.ok(await pollUntil(() => lists >= 2, 10_000), `no relist after 410 (lists: ${lists}, errors: ${String(errors)})`);
      assert.ok(await pollUntil(() => seen.includes('add inf0'), 5_000), seen.join(', '));

      await core.createNamespacedPod({ namespace: ns, body: pod('inf1') });
      assert.ok(await pollUntil(() => seen.includes('add inf1'), 5_000), seen.join(', '));
      await core.patchNamespacedPod({ name: 'inf1', namespace: ns, body: { metadata: { labels: { v: '2' } } } }, k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch));
      assert.ok(await pollUntil(() => seen.includes('update inf1 2'), 5_000), seen.join(', '));
      await core.deleteNamespacedPod({ name: 'inf1', namespace: ns });
      assert.ok(await pollUntil(() => seen.includes('delete inf1'), 5_000), seen.join(', '));
      assert.ok(informer.list(ns).some((p) => p.metadata?.name === 'inf0'));
      assert.ok(!informer.list(ns).some((p) => p.metadata?.name === 'inf1'));
      assert.deepEqual(errors, []);
    } finally {
      await informer.stop();
    }
  });
});
