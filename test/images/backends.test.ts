// The LayerBackend contract on the dir backend and on ZFS (the simulated illumos host, realRoot).
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DirLayerBackend, ZfsLayerBackend } from '../../src/images/layers.ts';
import { ExecRunner } from '../../src/runtime/illumos/exec.ts';
import { FakeIllumosHost } from '../fakes/host.ts';
import { makeTempDir } from '../helpers/process.ts';
import { layerBackendContract } from './backend-contract.ts';

layerBackendContract('dir', async () => {
  const dir = makeTempDir('reddwarf-dirbackend-');
  return {
    backend: new DirLayerBackend(join(dir, 'layers')),
    target: (i) => ({ path: join(dir, 'pods', `p${i}`) }),
    leaveHalfBuilt: async (c) => {
      const p = join(dir, 'layers', `${c.slice(7)}.partial`);
      mkdirSync(p, { recursive: true });
      writeFileSync(join(p, 'junk'), 'junk');
    },
    dispose: () => rmSync(dir, { recursive: true, force: true }),
  };
});

layerBackendContract('zfs (simulated illumos host)', async () => {
  const host = FakeIllumosHost.create({ seeded: true, realRoot: true });
  const runner = new ExecRunner({ env: host.env() });
  const backend = new ZfsLayerBackend(runner, 'rpool/images');
  return {
    backend,
    target: (i) => ({ dataset: `rpool/zones/p${i}`, path: join(host.dir, 'root', 'zones', `p${i}`, 'root') }),
    leaveHalfBuilt: async (c) => {
      await runner.run(['zfs', 'create', backend.datasetOf(c)]);
      writeFileSync(join(host.mountpoint(backend.datasetOf(c)), 'junk'), 'junk');
    },
    dispose: () => host.dispose(),
  };
});
