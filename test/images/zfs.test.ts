// ZfsLayerBackend on the simulated illumos host (realRoot: datasets are real directories): one
// dataset per chain, a clone of its parent's @final, snapshotted @final when complete; a pod root is
// a `zfs clone` of the image's top snapshot; half-built datasets are destroyed and rebuilt; prune
// destroys chains top down.
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ZfsLayerBackend } from '../../src/images/layers.ts';
import { ImageStore } from '../../src/images/store.ts';
import { ExecRunner } from '../../src/runtime/illumos/exec.ts';
import { FakeIllumosHost } from '../fakes/host.ts';
import { makeTempDir } from '../helpers/process.ts';
import { buildImage, busyboxLayer, pushImage, registryAvailable, startRegistry, type BuiltImage, type TestRegistry } from '../helpers/registry.ts';

const skip = !registryAvailable('ZFS image backend tests');

describe('ZfsLayerBackend on the simulated illumos host', { skip }, () => {
  let reg: TestRegistry;
  let a: BuiltImage;
  let b: BuiltImage;
  before(async () => {
    reg = await startRegistry();
    const base = busyboxLayer([{ path: 'etc/motd', content: 'base' }]);
    a = buildImage({ layers: [base, { files: [{ path: 'etc/.wh.motd' }, { path: 'a.txt', content: 'a' }] }] });
    b = buildImage({ layers: [base, { files: [{ path: 'b.txt', content: 'b' }] }] });
    await pushImage(reg, 'zfs/a', 'v1', a);
    await pushImage(reg, 'zfs/b', 'v1', b);
  });
  after(async () => {
    await reg?.stop();
  });

  async function setup(): Promise<{ host: FakeIllumosHost; runner: ExecRunner; backend: ZfsLayerBackend; store: ImageStore; dir: string }> {
    const host = FakeIllumosHost.create({ seeded: true, realRoot: true });
    const runner = new ExecRunner({ env: host.env() });
    const backend = new ZfsLayerBackend(runner, 'rpool/images');
    const dir = makeTempDir('reddwarf-zfs-images-');
    const store = await ImageStore.open({ dir, backend, insecureRegistries: [reg.host] });
    return { host, runner, backend, store, dir };
  }

  it('builds one dataset per chain, each a clone of its parent @final, and clones a pod root from the top', async () => {
    const { host, backend, store } = await setup();
    try {
      const r = await store.pull(`${reg.host}/zfs/a:v1`);
      const [baseDs, topDs] = r.image.chains.map((c) => backend.datasetOf(c)) as [string, string];
      const ds = host.state().datasets;
      assert.ok(ds[`${baseDs}@final`] && ds[`${topDs}@final`], `both snapshots exist: ${host.datasets().join(' ')}`);
      assert.equal(ds[topDs]?.origin, `${baseDs}@final`);
      assert.equal(ds[baseDs]?.origin, undefined);
      const top = await backend.path(r.image.top);
      assert.equal(top, join(host.dir, 'root', topDs));
      assert.ok(!existsSync(join(top, 'etc/motd')), 'the whiteout applied in the upper dataset');
      assert.equal(readFileSync(join(host.dir, 'root', baseDs, 'etc/motd'), 'utf8'), 'base', 'the base dataset keeps it');
      assert.equal(readFileSync(join(top, 'a.txt'), 'utf8'), 'a');
      assert.equal(backend.snapshot(r.image.top), `${topDs}@final`);

      const podRoot = join(host.dir, 'root', 'zones', 'p1', 'root');
      await store.clone(r.image.digest, { dataset: 'rpool/zones/p1', path: podRoot });
      assert.deepEqual(host.commands().filter((c) => c[1] === 'clone').at(-1), ['zfs', 'clone', '-o', `mountpoint=${podRoot}`, `${topDs}@final`, 'rpool/zones/p1']);
      assert.equal(readlinkSync(join(podRoot, 'bin/sh')), 'busybox');
      assert.equal(readFileSync(join(podRoot, 'a.txt'), 'utf8'), 'a');
    } finally {
      host.dispose();
    }
  });

  it('stores the shared base once and destroys chains top down on prune, keeping what is used', async () => {
    const { host, backend, store } = await setup();
    try {
      const ra = await store.pull(`${reg.host}/zfs/a:v1`);
      const rb = await store.pull(`${reg.host}/zfs/b:v1`);
      assert.equal(ra.image.chains[0], rb.image.chains[0]);
      const chainsOnHost = host.datasets().filter((d) => d.startsWith('rpool/images/') && !d.includes('@'));
      assert.equal(chainsOnHost.length, 3, chainsOnHost.join(' '));
      store.use(rb.image.digest, 'default/b');
      // A pod's clone of b's top keeps b's chains busy on real ZFS; prune never touches them.
      await store.clone(rb.image.digest, { dataset: 'rpool/zones/pb', path: join(host.dir, 'root', 'zones', 'pb') });
      const removed = await store.prune();
      assert.deepEqual(removed.map((i) => i.digest), [a.digest]);
      assert.ok(!host.datasets().includes(backend.datasetOf(ra.image.top)));
      assert.ok(host.datasets().includes(`${backend.datasetOf(rb.image.chains[0]!)}@final`), 'the shared base stays');
      assert.ok(!existsSync(join(host.dir, 'root', backend.datasetOf(ra.image.top))), 'its directory is gone');
    } finally {
      host.dispose();
    }
  });

  it('destroys a dataset left without @final by a crash and builds it again', async () => {
    const { host, runner, backend, dir } = await setup();
    try {
      const chain = a.layers[0]!.diffId;
      const ds = backend.datasetOf(chain);
      await runner.run(['zfs', 'create', ds]);
      writeFileSync(join(host.dir, 'root', ds, 'junk'), 'half applied');
      assert.equal(await backend.has(chain), false, 'no @final: not complete');
      // Reopen the store from its index alone, as `reddwarf images` does.
      const store = await ImageStore.open({ dir, runner, insecureRegistries: [reg.host] });
      assert.equal(store.backend.config.kind, 'zfs');
      const r = await store.pull(`${reg.host}/zfs/a:v1`);
      assert.ok(!existsSync(join(host.dir, 'root', ds, 'junk')));
      assert.ok(existsSync(join(await backend.path(r.image.top), 'a.txt')));
      assert.ok(host.commands().some((c) => c[1] === 'destroy' && c.at(-1) === ds));
    } finally {
      host.dispose();
    }
  });
});
