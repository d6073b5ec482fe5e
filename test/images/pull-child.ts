// A process that pulls one image into a store and prints "pulled <digest>" (killed by tests mid-pull).
// Usage: node --import tsx test/images/pull-child.ts <store dir> <insecure host> <ref>
import { join } from 'node:path';
import { DirLayerBackend } from '../../src/images/layers.ts';
import { ImageStore } from '../../src/images/store.ts';

const [dir = '', host = '', ref = ''] = process.argv.slice(2);
const store = await ImageStore.open({ dir, backend: new DirLayerBackend(join(dir, 'layers')), insecureRegistries: [host], log: (l) => console.log(l) });
const r = await store.pull(ref);
console.log(`pulled ${r.image.digest}`);
