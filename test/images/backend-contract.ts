// The contract every LayerBackend keeps (dir and ZFS), run against each in backends.test.ts:
// chains built on their parents, complete only when finished, cloned into pod roots, removed.
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { chainIds, type CloneTarget, type LayerBackend } from '../../src/images/layers.ts';
import { makeTempDir } from '../helpers/process.ts';
import { buildImage, busyboxLayer } from '../helpers/oci-image.ts';

export interface BackendUnderTest {
  backend: LayerBackend;
  /** Where pod root number `i` goes. */
  target(i: number): CloneTarget;
  /** Leaves a half-built chain behind, as a crash during extraction would. */
  leaveHalfBuilt(chainId: string): Promise<void>;
  dispose(): void;
}

export function layerBackendContract(name: string, make: () => Promise<BackendUnderTest>): void {
  describe(`LayerBackend contract: ${name}`, () => {
    let t: BackendUnderTest;
    let files: string[];
    let chains: string[];
    const dir = makeTempDir('reddwarf-contract-');
    before(async () => {
      t = await make();
      await t.backend.init();
      const img = buildImage({ layers: [busyboxLayer([{ path: 'etc/base', content: 'base' }]), { files: [{ path: 'etc/.wh.base' }, { path: 'top', content: 'top' }] }] });
      files = img.layers.map((l, i) => {
        const p = join(dir, `layer${i}`);
        writeFileSync(p, img.blobs.get(l.digest)!);
        return p;
      });
      chains = chainIds(img.layers.map((l) => l.diffId));
    });
    after(() => t?.dispose());

    it('builds a base chain and a child on it; has() only once complete', async () => {
      assert.equal(await t.backend.has(chains[0]!), false);
      await t.backend.build(chains[0]!, undefined, files[0]!);
      assert.equal(await t.backend.has(chains[0]!), true);
      await t.backend.build(chains[1]!, chains[0], files[1]!);
      const top = await t.backend.path(chains[1]!);
      assert.equal(readFileSync(join(top, 'top'), 'utf8'), 'top');
      assert.ok(!existsSync(join(top, 'etc/base')));
      assert.equal(readFileSync(join(await t.backend.path(chains[0]!), 'etc/base'), 'utf8'), 'base');
      assert.equal((await t.backend.list()).length, 2);
    });

    it('clones a chain into pod roots', async () => {
      for (const i of [0, 1]) {
        const target = t.target(i);
        await t.backend.clone(chains[1]!, target);
        assert.equal(readlinkSync(join(target.path, 'bin/sh')), 'busybox');
        assert.equal(readFileSync(join(target.path, 'top'), 'utf8'), 'top');
      }
    });

    it('rebuilds a half-built chain from scratch', async () => {
      const extra = `sha256:${'e'.repeat(64)}`;
      await t.leaveHalfBuilt(extra);
      assert.equal(await t.backend.has(extra), false);
      await t.backend.build(extra, chains[0], files[1]!);
      assert.equal(await t.backend.has(extra), true);
      assert.ok(!existsSync(join(await t.backend.path(extra), 'junk')));
      await t.backend.remove(extra);
      assert.equal(await t.backend.has(extra), false);
    });
  });
}
