// Shared set-up of the image tests: a store in a temp dir on the dir backend, pointed at a test registry.
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { DirLayerBackend } from '../../src/images/layers.ts';
import { ImageStore } from '../../src/images/store.ts';
import { makeTempDir } from '../helpers/process.ts';

export interface StoreFixture {
  dir: string;
  store: ImageStore;
  lines: string[];
  reopen(): Promise<ImageStore>;
  dispose(): void;
}

/** A fresh store (dir backend under `<dir>/layers`) that treats `hosts` as plain-HTTP registries. */
export async function openStore(hosts: string[], opts: { timeoutMs?: number } = {}): Promise<StoreFixture> {
  const dir = makeTempDir('reddwarf-images-');
  const lines: string[] = [];
  const open = (): Promise<ImageStore> => ImageStore.open({ dir, backend: new DirLayerBackend(join(dir, 'layers')), insecureRegistries: hosts, log: (l) => lines.push(l), ...opts });
  const f: StoreFixture = {
    dir,
    store: await open(),
    lines,
    async reopen() {
      f.store = await open();
      return f.store;
    },
    dispose: () => rmSync(dir, { recursive: true, force: true }),
  };
  return f;
}
