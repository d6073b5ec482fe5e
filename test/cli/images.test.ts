// `reddwarf images` and `reddwarf images prune` on a node's data dir: the store the agent keeps
// in `<data-dir>/images` (dir backend), listed and pruned by the real binary.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { DirLayerBackend } from '../../src/images/layers.ts';
import { ImageStore } from '../../src/images/store.ts';
import { BIN, makeTempDir, REPO_ROOT } from '../helpers/process.ts';
import { buildImage, busyboxLayer, pushImage, registryAvailable, startRegistry, type TestRegistry } from '../helpers/registry.ts';

const execFileP = promisify(execFile);
const skip = !registryAvailable('reddwarf images CLI tests');
const reddwarf = async (...args: string[]): Promise<string> => (await execFileP(process.execPath, [BIN, ...args], { cwd: REPO_ROOT, env: { ...process.env, NO_COLOR: '1' } })).stdout;

describe('reddwarf images', { skip }, () => {
  let reg: TestRegistry;
  let dataDir: string;
  before(async () => {
    reg = await startRegistry();
    await pushImage(reg, 'cli/used', 'v1', buildImage({ layers: [busyboxLayer([{ path: 'u', content: 'u' }])] }));
    await pushImage(reg, 'cli/unused', 'v1', buildImage({ layers: [busyboxLayer([{ path: 'n', content: 'n' }])] }));
    dataDir = makeTempDir('reddwarf-cli-images-');
    const dir = join(dataDir, 'images');
    const store = await ImageStore.open({ dir, backend: new DirLayerBackend(join(dir, 'layers')), insecureRegistries: [reg.host] });
    const used = await store.pull(`${reg.host}/cli/used:v1`);
    await store.pull(`${reg.host}/cli/unused:v1`);
    store.use(used.image.digest, 'default/web');
  });
  after(async () => {
    await reg?.stop();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it('lists reference, digest, size and the pods using each image; prune removes the unused one', async () => {
    const table = await reddwarf('images', '--data-dir', dataDir);
    const lines = table.trim().split('\n');
    assert.match(lines[0]!, /^REFERENCE\s+DIGEST\s+SIZE\s+PODS$/);
    assert.match(lines[1]!, new RegExp(`^${reg.host}/cli/unused:v1\\s+[0-9a-f]{12}\\s+[0-9.]+[kM]B\\s+<none>$`));
    assert.match(lines[2]!, new RegExp(`^${reg.host}/cli/used:v1\\s+[0-9a-f]{12}\\s+[0-9.]+[kM]B\\s+default/web$`));
    const json = JSON.parse(await reddwarf('images', '--data-dir', dataDir, '-o', 'json')) as { ref: string; users: string[] }[];
    assert.deepEqual(json.map((i) => [i.ref, i.users]), [[`${reg.host}/cli/unused:v1`, []], [`${reg.host}/cli/used:v1`, ['default/web']]]);

    const pruned = await reddwarf('images', 'prune', '--data-dir', dataDir);
    assert.match(pruned, new RegExp(`deleted ${reg.host}/cli/unused:v1`));
    assert.match(pruned, /1 image removed/);
    const after = JSON.parse(await reddwarf('images', '--data-dir', dataDir, '-o', 'json')) as { ref: string }[];
    assert.deepEqual(after.map((i) => i.ref), [`${reg.host}/cli/used:v1`]);
  });

  it('says so when the node has no image store', async () => {
    const empty = makeTempDir('reddwarf-cli-noimages-');
    try {
      assert.match(await reddwarf('images', '--data-dir', empty), /No images/);
      assert.match(await reddwarf('images', 'prune', '--data-dir', empty), /0 images removed/);
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  });
});
