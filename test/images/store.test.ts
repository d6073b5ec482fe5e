// The image store's bookkeeping: one download shared by concurrent pulls, resuming a pull cut off
// mid-blob after the store is reopened, pull policies, users, prune and LRU prune.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ImagePullError } from '../../src/images/errors.ts';
import { buildImage, busyboxLayer, pushImage, registryAvailable, startCountingProxy, startRegistry, type BuiltImage, type CountingProxy, type TestRegistry } from '../helpers/registry.ts';
import { pollUntil, REPO_ROOT } from '../helpers/process.ts';
import { openStore } from './fixture.ts';

const skip = !registryAvailable('image store tests');
const MiB = 1024 * 1024;

describe('image store', { skip }, () => {
  let reg: TestRegistry;
  let proxy: CountingProxy;
  let big: BuiltImage;
  let small: BuiltImage;
  before(async () => {
    reg = await startRegistry();
    proxy = await startCountingProxy(reg.host);
    // Random bytes do not compress: the layer blob is ~4 MiB on the wire.
    big = buildImage({ layers: [busyboxLayer(), { files: [{ path: 'big.bin', content: randomBytes(4 * MiB) }], compression: 'gzip' }], config: { Cmd: ['/bin/true'] } });
    small = buildImage({ layers: [busyboxLayer(), { files: [{ path: 'small', content: 'small' }] }] });
    await pushImage(reg, 'test/big', 'v1', big);
    await pushImage(reg, 'test/small', 'v1', small);
    await pushImage(reg, 'test/small', 'v2', small);
  });
  after(async () => {
    await proxy?.close();
    await reg?.stop();
  });

  it('shares one download between concurrent pulls of one reference (and of one digest)', async () => {
    const f = await openStore([proxy.host]);
    try {
      proxy.requests.length = 0;
      const refs = [`${proxy.host}/test/big:v1`, `${proxy.host}/test/big:v1`, `${proxy.host}/test/big:v1`, `${proxy.host}/test/big@${big.digest}`];
      const results = await Promise.all(refs.map((r) => f.store.pull(r)));
      assert.ok(results.every((r) => r.image.digest === big.digest));
      assert.equal(proxy.blobGets(), big.blobs.size, `each blob fetched once: ${JSON.stringify(proxy.requests)}`);
      assert.equal(f.lines.filter((l) => l.startsWith('applying')).length, 2);
      assert.deepEqual(f.store.get(`${proxy.host}/test/big:v1`)?.refs.sort(), [`${proxy.host}/test/big:v1`, `${proxy.host}/test/big@${big.digest}`].sort());
    } finally {
      f.dispose();
    }
  });

  it('fetches a shared base blob once and builds its chain once when two different images are pulled at once', async () => {
    const base = busyboxLayer([{ path: 'shared-base', content: 'sb' }]);
    const x = buildImage({ layers: [base, { files: [{ path: 'x', content: 'x' }] }] });
    const y = buildImage({ layers: [base, { files: [{ path: 'y', content: 'y' }] }] });
    await pushImage(reg, 'test/cx', 'v1', x);
    await pushImage(reg, 'test/cy', 'v1', y);
    const f = await openStore([proxy.host]);
    try {
      proxy.requests.length = 0;
      const [rx, ry] = await Promise.all([f.store.pull(`${proxy.host}/test/cx:v1`), f.store.pull(`${proxy.host}/test/cy:v1`)]);
      assert.equal(rx.image.chains[0], ry.image.chains[0]);
      const baseGets = proxy.requests.filter((q) => q.method === 'GET' && q.path.endsWith(`/blobs/${x.layers[0]!.digest}`));
      assert.equal(baseGets.length, 1, JSON.stringify(proxy.requests));
      assert.equal(f.lines.filter((l) => l.startsWith('applying') && l.includes(x.layers[0]!.digest)).length, 1);
      assert.equal(readFileSync(join(await f.store.backend.path(ry.image.top), 'y'), 'utf8'), 'y');
    } finally {
      f.dispose();
    }
  });

  it('resumes a pull cut off mid-blob after the store is reopened, with a Range request, and verifies the whole blob', async () => {
    const f = await openStore([proxy.host]);
    try {
      proxy.requests.length = 0;
      proxy.stallAfter = 1 * MiB;
      const ac = new AbortController();
      const first = f.store.pull(`${proxy.host}/test/big:v1`, { signal: ac.signal });
      await proxy.stalled();
      const bigLayer = big.layers[1]!;
      const partial = join(f.dir, 'ingest', bigLayer.digest.slice(7));
      // The stalled blob has written its first MiB (the busybox layer may still be in flight).
      await pollUntil(() => existsSync(partial) && statSync(partial).size > 0, 10_000);
      ac.abort(new Error('agent stopped'));
      await assert.rejects(first, /agent stopped/);
      const have = statSync(partial).size;
      assert.ok(have > 0 && have <= 1 * MiB, `partial file holds ${have} bytes`);
      assert.equal(f.store.get(`${proxy.host}/test/big:v1`), undefined, 'no half image is recorded');
      proxy.stallAfter = undefined;
      proxy.release();

      await f.reopen();
      const r = await f.store.pull(`${proxy.host}/test/big:v1`);
      assert.equal(r.image.digest, big.digest);
      const ranged = proxy.requests.filter((q) => q.range && q.path.includes(bigLayer.digest));
      assert.ok(ranged.some((q) => q.range === `bytes=${have}-` && q.status === 206), `a Range request from byte ${have}: ${JSON.stringify(proxy.requests)}`);
      assert.ok(r.bytes < big.size, 'the resumed pull fetched less than the whole image');
      assert.deepEqual(readdirSync(join(f.dir, 'ingest')), []);
      const top = await f.store.backend.path(r.image.top);
      assert.equal(statSync(join(top, 'big.bin')).size, 4 * MiB);
    } finally {
      proxy.stallAfter = undefined;
      proxy.release();
      f.dispose();
    }
  });

  it('resumes after the pulling process is killed with SIGKILL mid-blob; no half image is recorded', async () => {
    const f = await openStore([proxy.host]);
    const child = spawn(process.execPath, ['--import', 'tsx', join(REPO_ROOT, 'test/images/pull-child.ts'), f.dir, proxy.host, `${proxy.host}/test/big:v1`], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    const exited = new Promise<void>((r) => child.once('exit', () => r()));
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    try {
      proxy.requests.length = 0;
      proxy.stallAfter = 1 * MiB;
      await proxy.stalled();
      const partial = join(f.dir, 'ingest', big.layers[1]!.digest.slice(7));
      await pollUntil(() => existsSync(partial) && statSync(partial).size > 0, 10_000);
      if (child.pid) process.kill(child.pid, 'SIGKILL');
      await exited;
      assert.doesNotMatch(out, /pulled sha256/);
      proxy.stallAfter = undefined;
      proxy.release();
      const store = await f.reopen();
      assert.equal(store.get(`${proxy.host}/test/big:v1`), undefined, 'no half image is recorded');
      const have = statSync(partial).size;
      const r = await store.pull(`${proxy.host}/test/big:v1`);
      assert.equal(r.image.digest, big.digest);
      assert.ok(proxy.requests.some((q) => q.range === `bytes=${have}-` && q.status === 206), JSON.stringify(proxy.requests));
      assert.equal(statSync(join(await store.backend.path(r.image.top), 'big.bin')).size, 4 * MiB);
    } finally {
      if (child.exitCode === null && child.signalCode === null && child.pid) process.kill(child.pid, 'SIGKILL');
      await exited;
      proxy.stallAfter = undefined;
      proxy.release();
      f.dispose();
    }
  });

  it('fetches a blob whole when a resumed partial file held bad bytes (and still verifies it)', async () => {
    const f = await openStore([reg.host]);
    try {
      // A partial file whose bytes are not the blob's prefix (a torn write before a crash).
      const layer = small.layers[1]!;
      writeFileSync(join(f.dir, 'ingest', layer.digest.slice(7)), Buffer.alloc(Math.min(10, layer.size - 1), 0x41));
      const r = await f.store.pull(`${reg.host}/test/small:v1`);
      assert.ok(f.lines.some((l) => l.includes('failed verification after a resume')));
      assert.equal(readFileSync(join(await f.store.backend.path(r.image.top), 'small'), 'utf8'), 'small');
      assert.deepEqual(readdirSync(join(f.dir, 'ingest')), []);
    } finally {
      f.dispose();
    }
  });

  it('honours IfNotPresent and Never; Never fails not-present when absent', async () => {
    const f = await openStore([proxy.host]);
    try {
      const ref = `${proxy.host}/test/small:v1`;
      await assert.rejects(f.store.pull(ref, { policy: 'Never' }), (e: unknown) => e instanceof ImagePullError && e.kind === 'not-present');
      await f.store.pull(ref, { policy: 'IfNotPresent' });
      proxy.requests.length = 0;
      const again = await f.store.pull(ref, { policy: 'IfNotPresent' });
      assert.equal(again.pulled, false);
      assert.equal(proxy.requests.length, 0, 'IfNotPresent asks the registry nothing when the image is there');
      await f.store.pull(ref, { policy: 'Never' });
      assert.equal(proxy.requests.length, 0);
      await f.store.pull(ref, { policy: 'Always' });
      assert.ok(proxy.requests.some((q) => q.path.includes('/manifests/')), 'Always checks the manifest');
      assert.equal(proxy.blobGets(), 0, 'and fetches no blob it has');
    } finally {
      f.dispose();
    }
  });

  it('tracks users; prune removes only unused images and the chains and blobs only they had', async () => {
    const f = await openStore([reg.host]);
    try {
      const b = await f.store.pull(`${reg.host}/test/big:v1`);
      const s = await f.store.pull(`${reg.host}/test/small:v1`);
      await f.store.pull(`${reg.host}/test/small:v2`);
      f.store.use(s.image.digest, 'default/web');
      f.store.use(s.image.digest, 'default/api');
      assert.deepEqual(f.store.list().map((e) => [e.ref, e.users]), [
        [`${reg.host}/test/big:v1`, []],
        [`${reg.host}/test/small:v2`, ['default/api', 'default/web']],
      ]);
      const removed = await f.store.prune();
      assert.deepEqual(removed.map((i) => i.digest), [big.digest]);
      assert.equal(f.store.get(`${reg.host}/test/big:v1`), undefined);
      assert.ok(!(await f.store.backend.has(b.image.top)), 'big\'s own chain is gone');
      assert.ok(await f.store.backend.has(b.image.chains[0]!), 'the shared base chain stays');
      assert.ok(!existsSync(f.store.blobPath(big.layers[1]!.digest)));
      assert.ok(existsSync(f.store.blobPath(big.layers[0]!.digest)), 'the shared base blob stays');
      f.store.release('default/web');
      assert.equal((await f.store.prune()).length, 0, 'still used by default/api');
      f.store.release('default/api');
      assert.equal((await f.store.prune()).length, 1);
      assert.deepEqual(f.store.list(), []);
      assert.deepEqual(await f.store.backend.list(), []);
      assert.deepEqual(readdirSync(join(f.dir, 'blobs/sha256')), []);
      assert.throws(() => f.store.use(s.image.digest, 'x'), ImagePullError);
    } finally {
      f.dispose();
    }
  });

  it('pruneLru removes unused images least recently used first until enough bytes are freed', async () => {
    const f = await openStore([reg.host]);
    try {
      await f.store.pull(`${reg.host}/test/small:v1`);
      await f.store.pull(`${reg.host}/test/big:v1`);
      // small was used last; big is the older one.
      await f.store.pull(`${reg.host}/test/small:v1`, { policy: 'IfNotPresent' });
      const removed = await f.store.pruneLru(1);
      assert.deepEqual(removed.map((i) => i.digest), [big.digest]);
      assert.ok(f.store.get(`${reg.host}/test/small:v1`));
      assert.equal((await f.store.pruneLru(0)).length, 0);
    } finally {
      f.dispose();
    }
  });

  it('survives a reopen: the index and the chains are found again', async () => {
    const f = await openStore([reg.host]);
    try {
      const r = await f.store.pull(`${reg.host}/test/small:v1`);
      f.store.use(r.image.digest, 'ns/p');
      const s2 = await f.reopen();
      assert.deepEqual(s2.list(), [{ ref: `${reg.host}/test/small:v1`, digest: small.digest, size: small.size, users: ['ns/p'] }]);
      const again = await s2.pull(`${reg.host}/test/small:v1`, { policy: 'IfNotPresent' });
      assert.equal(again.pulled, false);
    } finally {
      f.dispose();
    }
  });
});
