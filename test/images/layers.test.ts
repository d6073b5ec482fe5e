// Layers applied with GNU tar: OCI whiteouts (plain and opaque), ownership, modes, symlinks and
// hard links kept, gzip/zstd/plain layers, shared layers stored once, half-built chains redone.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, readlinkSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ImagePullError } from '../../src/images/errors.ts';
import { checkNoEscape, parseTarListing } from '../../src/images/tar.ts';
import { makeTempDir } from '../helpers/process.ts';
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

  it('refuses a layer that writes through a lower symlink leading outside the image; directory entries replace such symlinks', async () => {
    const outside = makeTempDir('reddwarf-outside-');
    try {
      const base = busyboxLayer([{ path: 'evil', type: 'symlink', target: outside }, { path: 'usr/lib/base', content: 'b' }, { path: 'lib', type: 'symlink', target: 'usr/lib' }]);
      // A hand-made tar with no directory entry: GNU tar would follow the lower symlink on the host.
      const evil = buildImage({ layers: [base, { files: [{ path: 'evil/pwned', content: 'x' }], only: ['evil/pwned'] }] });
      // With the entry `./evil/`, tar replaces the symlink by a directory first (containerd does the same).
      const replaced = buildImage({ layers: [base, { files: [{ path: 'evil/pwned', content: 'x' }, { path: 'lib/dir-added', content: 'd' }] }] });
      // A symlink that stays inside the image is followed.
      const usrmerge = buildImage({ layers: [base, { files: [{ path: 'lib/added', content: 'a' }], only: ['lib/added'] }] });
      await pushImage(reg, 'test/evil', 'v1', evil);
      await pushImage(reg, 'test/replaced', 'v1', replaced);
      await pushImage(reg, 'test/usrmerge', 'v1', usrmerge);
      const f = await openStore([reg.host]);
      try {
        await assert.rejects(f.store.pull(`${reg.host}/test/evil:v1`), (e: unknown) => e instanceof ImagePullError && e.kind === 'invalid' && /symlink \/evil/.test(e.message));
        assert.deepEqual(readdirSync(outside), []);
        assert.equal(f.store.get(`${reg.host}/test/evil:v1`), undefined);

        const rr = await f.store.pull(`${reg.host}/test/replaced:v1`);
        const rtop = await f.store.backend.path(rr.image.top);
        assert.ok(lstatSync(join(rtop, 'evil')).isDirectory());
        assert.equal(readFileSync(join(rtop, 'evil/pwned'), 'utf8'), 'x');
        assert.ok(lstatSync(join(rtop, 'lib')).isDirectory());
        assert.deepEqual(readdirSync(outside), []);

        const r = await f.store.pull(`${reg.host}/test/usrmerge:v1`);
        assert.equal(readFileSync(join(await f.store.backend.path(r.image.top), 'usr/lib/added'), 'utf8'), 'a');

        // The hard-link variant, on a listing.
        const root = join(f.dir, 'hl');
        mkdirSync(root);
        symlinkSync('/etc', join(root, 'hostetc'));
        await assert.rejects(checkNoEscape(root, parseTarListing('hrw-r--r-- 0/0               0 1970-01-01 00:00 "./x" link to "./hostetc/shadow"\n')), /hard link/);
      } finally {
        f.dispose();
      }
    } finally {
      rmSync(outside, { recursive: true, force: true });
    }
  });

  it("fails 'digest-mismatch' when a layer does not unpack to the config's diff id (no chain is built)", async () => {
    const liar = buildImage({ layers: [busyboxLayer()], diffIds: { 0: `sha256:${'5'.repeat(64)}` } });
    await pushImage(reg, 'test/liar', 'v1', liar);
    const f = await openStore([reg.host]);
    try {
      await assert.rejects(f.store.pull(`${reg.host}/test/liar:v1`), (e: unknown) => e instanceof ImagePullError && e.kind === 'digest-mismatch' && /unpacks to/.test(e.message));
      assert.deepEqual(await f.store.backend.list(), []);
      assert.deepEqual(f.store.list(), []);
    } finally {
      f.dispose();
    }
  });

  it("fails 'invalid' when a layer is not a tar archive (its digests all match), and keeps no chain", async () => {
    const junk = buildImage({ layers: [busyboxLayer(), { files: [], raw: Buffer.from('this is not a tar archive\n'.repeat(100)) }] });
    await pushImage(reg, 'test/junk', 'v1', junk);
    const f = await openStore([reg.host]);
    try {
      await assert.rejects(f.store.pull(`${reg.host}/test/junk:v1`), (e: unknown) => e instanceof ImagePullError && e.kind === 'invalid' && /cannot apply layer/.test(e.message));
      assert.deepEqual(f.store.list(), []);
      assert.equal((await f.store.backend.list()).length, 1, 'only the good base chain');
    } finally {
      f.dispose();
    }
  });

  it('parses tar listings with odd names (quotes, arrows, spaces, UTF-8)', () => {
    const out = [
      'drwxr-xr-x 0/0               0 2026-12-03 08:25 "./d/"',
      '-rw-r--r-- 0/0               2 2026-12-03 08:25 "./d/we ird\\"na -> me"',
      '-rw-r--r-- 1000/1000         1 2026-12-03 08:25 "./d/\\303\\274n\\303\\257"',
      'hrw-r--r-- 0/0               0 2026-12-03 08:25 "./d/hard" link to "./d/we ird\\"na -> me"',
      'lrwxrwxrwx 0/0               0 2026-12-03 08:25 "./d/sym link" -> "/etc"',
      'crw-r--r-- 0/0             1,3 2026-12-03 08:25 "./dev/null"',
      '',
    ].join('\n');
    assert.deepEqual(parseTarListing(out), [
      { type: 'd', name: './d/' },
      { type: '-', name: './d/we ird"na -> me' },
      { type: '-', name: './d/ünï' },
      { type: 'h', name: './d/hard', link: './d/we ird"na -> me' },
      { type: 'l', name: './d/sym link', link: '/etc' },
      { type: 'c', name: './dev/null' },
    ]);
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
