// Layers applied with GNU tar: OCI whiteouts (plain and opaque), ownership, modes, symlinks and
// hard links kept, gzip/zstd/plain layers, shared layers stored once, half-built chains redone.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { buildImage, busyboxLayer, pushImage, registryAvailable, startRegistry, type TestRegistry } from '../helpers/registry.ts';
import { openStore } from './fixture.ts';

const skip = !registryAvailable('image layer tests');
const root = process.getuid?.() === 0;

function hasZstd(): boolean {
  try {
    execFileSync('zstd', ['--version']);
    return true;
  } catch {
    return false;
  }
}

describe('layers', { skip }, () => {
  let reg: TestRegistry;
  before(async () => {
    reg = await startRegistry();
  });
  after(async () => {
    await reg?.stop();
  });

  it('applies whiteouts and opaque directories to the lower layers only', async () => {
    const img = buildImage({
      layers: [
        busyboxLayer([
          { path: 'etc/removed.txt', content: 'gone' },
          { path: 'etc/kept.txt', content: 'kept' },
          { path: 'olddir/deep/file', content: 'x' },
          { path: 'opaque/a', content: 'a' },
          { path: 'opaque/sub/b', content: 'b' },
        ]),
        {
          files: [
            { path: 'etc/.wh.removed.txt' },
            { path: '.wh.olddir' },
            { path: 'opaque/.wh..wh..opq' },
            { path: 'opaque/c', content: 'c' },
          ],
        },
        // A later layer brings back a name an earlier one whited out.
        { files: [{ path: 'etc/removed.txt', content: 'back' }], compression: 'none' },
      ],
    });
    await pushImage(reg, 'test/whiteouts', 'v1', img);
    const f = await openStore([reg.host]);
    try {
      const r = await f.store.pull(`${reg.host}/test/whiteouts:v1`);
      const chains = await Promise.all(r.image.chains.map((c) => f.store.backend.path(c)));
      const [l1, l2, l3] = chains as [string, string, string];
      assert.equal(readFileSync(join(l1, 'etc/removed.txt'), 'utf8'), 'gone', 'the lower chain is untouched');
      assert.ok(!existsSync(join(l2, 'etc/removed.txt')));
      assert.equal(readFileSync(join(l2, 'etc/kept.txt'), 'utf8'), 'kept');
      assert.ok(!existsSync(join(l2, 'olddir')));
      assert.deepEqual(readdirSync(join(l2, 'opaque')), ['c']);
      assert.ok(!readdirSync(l2).some((n) => n.startsWith('.wh.')), 'no whiteout files are extracted');
      assert.ok(!existsSync(join(l2, 'etc/.wh.removed.txt')));
      assert.ok(!existsSync(join(l2, 'opaque/.wh..wh..opq')));
      assert.equal(readFileSync(join(l3, 'etc/removed.txt'), 'utf8'), 'back');
    } finally {
      f.dispose();
    }
  });

  it('keeps ownership, modes, symlinks and hard links', { skip: !root && 'needs root to chown' }, async () => {
    const img = buildImage({
      layers: [
        busyboxLayer([
          { path: 'data/owned', content: 'o', mode: 0o640, uid: 1234, gid: 5678 },
          { path: 'data/suid', content: 's', mode: 0o4755 },
          { path: 'data/private', type: 'dir', mode: 0o700, uid: 99, gid: 98 },
          { path: 'data/abs-link', type: 'symlink', target: '/bin/busybox' },
          { path: 'data/rel-link', type: 'symlink', target: '../bin/busybox' },
          { path: 'data/hard', type: 'hardlink', target: 'bin/busybox' },
        ]),
        // A hard link in an upper layer to a file of the lower one.
        { files: [{ path: 'data/orig', content: 'orig', mode: 0o600 }, { path: 'data/hard2', type: 'hardlink', target: 'data/orig' }] },
      ],
    });
    await pushImage(reg, 'test/modes', 'v1', img);
    const f = await openStore([reg.host]);
    try {
      const r = await f.store.pull(`${reg.host}/test/modes:v1`);
      const top = await f.store.backend.path(r.image.top);
      const owned = lstatSync(join(top, 'data/owned'));
      assert.equal(owned.mode & 0o7777, 0o640);
      assert.equal(owned.uid, 1234);
      assert.equal(owned.gid, 5678);
      assert.equal(lstatSync(join(top, 'data/suid')).mode & 0o7777, 0o4755);
      const priv = lstatSync(join(top, 'data/private'));
      assert.ok(priv.isDirectory());
      assert.equal(priv.mode & 0o7777, 0o700);
      assert.equal(priv.uid, 99);
      assert.equal(readlinkSync(join(top, 'data/abs-link')), '/bin/busybox');
      assert.equal(readlinkSync(join(top, 'data/rel-link')), '../bin/busybox');
      assert.equal(readlinkSync(join(top, 'bin/sh')), 'busybox');
      assert.equal(lstatSync(join(top, 'data/hard')).ino, lstatSync(join(top, 'bin/busybox')).ino);
      assert.equal(lstatSync(join(top, 'data/hard2')).ino, lstatSync(join(top, 'data/orig')).ino);
      assert.equal(lstatSync(join(top, 'tmp')).mode & 0o7777, 0o1777);
    } finally {
      f.dispose();
    }
  });

  it('reads gzip, zstd and uncompressed layers', async () => {
    const img = buildImage({
      layers: [
        { ...busyboxLayer(), compression: 'gzip' },
        { files: [{ path: 'plain.txt', content: 'plain' }], compression: 'none' },
        ...(hasZstd() ? [{ files: [{ path: 'zstd.txt', content: 'zstd' }], compression: 'zstd' as const }] : []),
      ],
    });
    await pushImage(reg, 'test/compress', 'v1', img);
    const f = await openStore([reg.host]);
    try {
      const top = await f.store.backend.path((await f.store.pull(`${reg.host}/test/compress:v1`)).image.top);
      assert.equal(readFileSync(join(top, 'plain.txt'), 'utf8'), 'plain');
      if (hasZstd()) assert.equal(readFileSync(join(top, 'zstd.txt'), 'utf8'), 'zstd');
      else console.log('# zstd not installed: zstd layer not tested');
    } finally {
      f.dispose();
    }
  });

  it('stores a shared base layer once: two images, one base chain', async () => {
    const base = busyboxLayer();
    const a = buildImage({ layers: [base, { files: [{ path: 'a', content: 'a' }] }] });
    const b = buildImage({ layers: [base, { files: [{ path: 'b', content: 'b' }] }] });
    assert.equal(a.layers[0]!.digest, b.layers[0]!.digest);
    await pushImage(reg, 'test/shared-a', 'v1', a);
    await pushImage(reg, 'test/shared-b', 'v1', b);
    const f = await openStore([reg.host]);
    try {
      const ra = await f.store.pull(`${reg.host}/test/shared-a:v1`);
      const applied = f.lines.filter((l) => l.startsWith('applying')).length;
      const rb = await f.store.pull(`${reg.host}/test/shared-b:v1`);
      assert.equal(ra.image.chains[0], rb.image.chains[0]);
      assert.equal(f.lines.filter((l) => l.startsWith('applying')).length - applied, 1, 'only b\'s own layer is applied');
      assert.equal(rb.bytes, b.size - b.layers[0]!.size, 'the base blob is not fetched again');
      assert.equal((await f.store.backend.list()).length, 3, 'base + a + b chains');
    } finally {
      f.dispose();
    }
  });

  it('throws away a half-built chain left by a crash and builds it again', async () => {
    const img = buildImage({ layers: [busyboxLayer([{ path: 'half', content: 'whole' }])] });
    await pushImage(reg, 'test/half', 'v1', img);
    const f = await openStore([reg.host]);
    try {
      // What a kill -9 during extraction leaves: the chain's work dir with junk in it.
      const hex = img.layers[0]!.diffId.slice(7);
      mkdirSync(join(f.dir, 'layers', `${hex}.partial`), { recursive: true });
      writeFileSync(join(f.dir, 'layers', `${hex}.partial`, 'junk'), 'junk');
      const r = await f.store.pull(`${reg.host}/test/half:v1`);
      const top = await f.store.backend.path(r.image.top);
      assert.ok(!existsSync(join(top, 'junk')));
      assert.equal(readFileSync(join(top, 'half'), 'utf8'), 'whole');
      assert.ok(!existsSync(join(f.dir, 'layers', `${hex}.partial`)));
    } finally {
      f.dispose();
    }
  });

  it('clones a stored image into a new root (cp -a on the dir backend)', async () => {
    const img = buildImage({ layers: [busyboxLayer()] });
    await pushImage(reg, 'test/clone', 'v1', img);
    const f = await openStore([reg.host]);
    try {
      const r = await f.store.pull(`${reg.host}/test/clone:v1`);
      const target = join(f.dir, 'pods', 'p1', 'root');
      await f.store.clone(r.image.digest, { path: target });
      assert.equal(readlinkSync(join(target, 'bin/sh')), 'busybox');
      assert.equal(execFileSync('chroot', [target, '/bin/echo', 'cloned'], { encoding: 'utf8' }), 'cloned\n');
    } finally {
      f.dispose();
    }
  });
});
