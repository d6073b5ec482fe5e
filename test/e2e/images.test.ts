// Image pulls end to end with `reddwarf up` on the mock runtime and `--image-pulls real` (no root
// needed): a real registry with basic auth (Debian's docker-registry on 127.0.0.1) reached through
// imagePullSecrets made by the real kubectl, the image store shared with illumos (`reddwarf images`
// and `images prune`), and a pull resumed after the `up` process is SIGKILLed in the middle of a blob.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, lstatSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { kubectl, kubectlMissing, type Kubectl } from '../helpers/kubectl.ts';
import { BIN, makeTempDir, pollUntil, REPO_ROOT, startUp, type UpProcess } from '../helpers/process.ts';
import { buildImage, busyboxLayer, pushImage, registryAvailable, startCountingProxy, startRegistry, type BuiltImage, type CountingProxy, type TestRegistry } from '../helpers/registry.ts';
import { BUSYBOX, BUSYBOX_APPLETS } from '../helpers/oci-image.ts';
import type { Pod } from '../../src/api/model/types.ts';

const WAIT_MS = 30_000;
const USER = { username: 'puller', password: 'right-horse-battery' };
/** Random bytes (incompressible) in the big image's second layer: big enough to stall mid-blob. */
const BIG_BYTES = 24 * 2 ** 20;

/** Why this suite cannot run here, or undefined (it needs no root: the mock runtime pulls for real). */
function missing(): string | undefined {
  const why = (registryAvailable('image pull end-to-end tests') ? undefined : 'docker-registry is not installed')
    ?? (existsSync(BUSYBOX) ? undefined : `${BUSYBOX} is missing (busybox-static)`)
    ?? kubectlMissing(33) ?? kubectlMissing(27);
  if (why) console.error(`\n*** SKIPPED image pulls end to end: ${why} ***\n`);
  return why;
}

type ContainerStatus = { name: string; image: string; imageID: string; ready: boolean; state: Record<string, Record<string, unknown>> };
type Listed = { ref: string; digest: string; size: number; users: string[] };
type IndexFile = { images: Record<string, { ref: string; digest: string; layers: string[]; configDigest: string; chains: string[]; top: string }>; users: Record<string, string[]> };

/** `reddwarf images …` as a user runs it, bounded in time. */
function reddwarfCli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { cwd: REPO_ROOT, timeout: 30_000, killSignal: 'SIGKILL', env: { ...process.env, NO_COLOR: '1' } }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : -1) : 0;
      resolve({ code, stdout: String(stdout), stderr: String(stderr) });
    });
  });
}

const sha256File = (path: string): string => `sha256:${createHash('sha256').update(readFileSync(path)).digest('hex')}`;
const hex = (d: string): string => d.replace(/^sha256:/, '');

describe('image pulls end to end (mock runtime, --image-pulls real, basic-auth registry, kubectl 1.27 and 1.33)', { concurrency: false }, () => {
  const why = missing();
  let reg: TestRegistry;
  let proxy: CountingProxy;
  let up: UpProcess;
  let dataDir: string;
  let k33: Kubectl;
  let k27: Kubectl;
  let big: BuiltImage;
  let bigData: Buffer;
  const upArgs = (): string[] => ['--runtime', 'mock', '--image-pulls', 'real', '--insecure-registry', reg.host, '--insecure-registry', proxy.host];
  const image = (name: string): string => `${reg.host}/test/${name}`;

  before(async () => {
    if (why) return;
    reg = await startRegistry({ basic: [USER] });
    await pushImage(reg, 'test/app', 'v1', buildImage({ layers: [busyboxLayer()], config: { Entrypoint: ['/bin/sh', '-c'], Cmd: ['echo up; while true; do sleep 1; done'], Env: ['PATH=/bin'] }, index: true }));
    bigData = randomBytes(BIG_BYTES);
    big = buildImage({
      layers: [busyboxLayer(), { files: [{ path: 'data', type: 'dir', mode: 0o755 }, { path: 'data/random.bin', content: bigData, mode: 0o644 }], compression: 'none' }],
      config: { Entrypoint: ['/bin/sh', '-c'], Cmd: ['while true; do sleep 1; done'], Env: ['PATH=/bin'] },
    });
    await pushImage(reg, 'test/big', 'v1', big);
    proxy = await startCountingProxy(reg.host);
    dataDir = makeTempDir('reddwarf-images-e2e-');
    up = await startUp({ dataDir, nodeName: 'img-node', args: upArgs() });
    k33 = kubectl(up.kubeconfig, { minor: 33, procs: () => [up] });
    k27 = kubectl(up.kubeconfig, { minor: 27, procs: () => [up] });
  });

  after(async () => {
    if (why) return;
    await up?.stop();
    k33?.cleanup();
    k27?.cleanup();
    await proxy?.close();
    await reg?.stop();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  const getPod = async (name: string): Promise<Pod> => JSON.parse((await k33.ok('get', 'pod', name, '-o', 'json')).stdout) as Pod;
  const status0 = (p: Pod): ContainerStatus | undefined => (p.status?.['containerStatuses'] as ContainerStatus[] | undefined)?.[0];
  const waitFor = async <T>(what: string, name: string, check: (p: Pod) => T | undefined, ms = WAIT_MS): Promise<T> => {
    let last: Pod | undefined;
    const got = await pollUntil(async () => {
      last = await getPod(name);
      return check(last) ?? undefined;
    }, ms, 250);
    assert.ok(got !== undefined, `${what}: pod ${name} is\n${JSON.stringify(last?.status, null, 1)}\n${up.stderrTail(30)}`);
    return got;
  };
  const running = (p: Pod): ContainerStatus | undefined => {
    const c = status0(p);
    return p.status?.phase === 'Running' && c?.state['running'] ? c : undefined;
  };
  const events = async (k: Kubectl, name: string): Promise<string> =>
    (await k.ok('get', 'events', '--field-selector', `involvedObject.name=${name}`, '-o', 'jsonpath={range .items[*]}{.reason}:{.message}{"\\n"}{end}')).stdout;
  const podYaml = (name: string, img: string, secret?: string, policy?: string): string => `apiVersion: v1
kind: Pod
metadata:
  name: ${name}
  annotations: {reddwarf.io/zone-brand: lx}
spec:
  terminationGracePeriodSeconds: 2
${secret ? `  imagePullSecrets:\n  - name: ${secret}\n` : ''}  containers:
  - name: app
    image: ${img}
${policy ? `    imagePullPolicy: ${policy}\n` : ''}`;
  const index = (): IndexFile => JSON.parse(readFileSync(join(dataDir, 'images', 'index.json'), 'utf8')) as IndexFile;

  it('pulls with an imagePullSecret from a basic-auth registry; a wrong password or no secret fails as unauthorized within 30 s', { skip: why }, async () => {
    await k33.ok('create', 'secret', 'docker-registry', 'regcred', `--docker-server=${reg.host}`, `--docker-username=${USER.username}`, `--docker-password=${USER.password}`);
    // kubectl 1.27 makes the same kind of Secret (type kubernetes.io/dockerconfigjson).
    await k27.ok('create', 'secret', 'docker-registry', 'badcred', `--docker-server=${reg.host}`, `--docker-username=${USER.username}`, '--docker-password=not-the-password');
    await k33.ok('apply', '-f', k33.file('good.yaml', podYaml('good', image('app:v1'), 'regcred')));
    // Always: with IfNotPresent (the default for a tag) kubelet runs an image already present
    // whatever the pod's secrets, and `good` may have pulled it by then.
    await k33.ok('apply', '-f', k33.file('bad.yaml', podYaml('bad', image('app:v1'), 'badcred', 'Always')));
    await k27.ok('apply', '-f', k27.file('nosecret.yaml', podYaml('nosecret', image('app:v1'), undefined, 'Always')));

    const c = await waitFor('good running', 'good', running);
    assert.match(c.imageID, new RegExp(`^${reg.host.replace(/\./g, '\\.')}/test/app@sha256:[0-9a-f]{64}$`));
    assert.equal(c.image, image('app:v1'));
    const good = await events(k33, 'good');
    assert.match(good, /^Pulling:Pulling image "127\.0\.0\.1:\d+\/test\/app:v1"$/m);
    const pulled = /^Pulled:Successfully pulled image "[^"]+app:v1" in [\d.]+s \([\d.]+s including waiting\)\. Image size: (\d+) bytes\.$/m.exec(good);
    assert.ok(pulled, `no Pulled event:\n${good}`);
    assert.ok(Number(pulled[1]) > 500_000, `image size ${pulled[1]} is not busybox's`);

    for (const name of ['bad', 'nosecret']) {
      const w = await waitFor(`${name} waiting on its image`, name, (p) => {
        const s = status0(p)?.state['waiting'];
        return s && (s['reason'] === 'ErrImagePull' || s['reason'] === 'ImagePullBackOff') ? s : undefined;
      });
      assert.match(String(w['message']), /unauthorized/, `${name}: ${JSON.stringify(w)}`);
      assert.doesNotMatch(String(w['message']), /not found/, `${name}: refused credentials must not read as a missing image`);
      const p = await getPod(name);
      assert.equal(p.status?.phase, 'Pending');
      const ev = await events(k27, name);
      assert.match(ev, /^Failed:Failed to pull image "127\.0\.0\.1:\d+\/test\/app:v1": unauthorized: .*\(check imagePullSecrets\)$/m, `${name} events:\n${ev}`);
      assert.doesNotMatch(ev, /^Pulled:/m);
    }
    // Three pods, two refused: only the good one uses the stored image.
    assert.deepEqual(Object.keys(index().users), ['default/good']);
    await k33.ok('delete', 'pod', 'bad', 'nosecret', '--wait=true', '--timeout=30s');
  });

  it('keeps pulled images in the same store as illumos: `reddwarf images` lists it with its pod; `images prune` removes it once the pod is gone', { skip: why }, async () => {
    const imageID = status0(await getPod('good'))?.imageID ?? '';
    const digest = imageID.replace(/^.*@/, '');
    const table = await reddwarfCli('images', '--data-dir', dataDir);
    assert.equal(table.code, 0, table.stderr);
    assert.match(table.stdout, /^REFERENCE\s+DIGEST\s+SIZE\s+PODS$/m);
    assert.match(table.stdout, new RegExp(`^${reg.host.replace(/\./g, '\\.')}/test/app:v1\\s+${hex(digest).slice(0, 12)}\\s+\\S+\\s+default/good$`, 'm'));
    const json = await reddwarfCli('images', '--data-dir', dataDir, '-o', 'json');
    assert.equal(json.code, 0, json.stderr);
    const listed = JSON.parse(json.stdout) as Listed[];
    assert.deepEqual(listed.map((i) => [i.ref, i.digest, i.users]), [[image('app:v1'), digest, ['default/good']]]);
    const stored = index().images[digest];
    assert.ok(stored, 'the index holds the pulled image');
    // A prune while the pod runs keeps the image it uses.
    const kept = await reddwarfCli('images', 'prune', '--data-dir', dataDir);
    assert.equal(kept.code, 0, kept.stderr);
    assert.match(kept.stdout, /^0 images removed/m);

    await k27.ok('delete', 'pod', 'good', '--wait=true', '--timeout=30s');
    const released = await pollUntil(() => Object.keys(index().users).length === 0, WAIT_MS, 100);
    assert.ok(released, `the agent still records users after the delete: ${JSON.stringify(index().users)}\n${up.stderrTail(20)}`);
    const pruned = await reddwarfCli('images', 'prune', '--data-dir', dataDir);
    assert.equal(pruned.code, 0, pruned.stderr);
    assert.match(pruned.stdout, new RegExp(`^deleted ${reg.host.replace(/\./g, '\\.')}/test/app:v1 \\(${digest}, `, 'm'));
    assert.match(pruned.stdout, /^1 image removed, /m);
    const after = await reddwarfCli('images', '--data-dir', dataDir);
    assert.match(after.stdout, /^No images in /);
    for (const chain of stored.chains) assert.equal(existsSync(join(dataDir, 'images', 'layers', hex(chain))), false, `chain ${chain} left behind`);
    for (const blob of [...stored.layers, stored.configDigest]) assert.equal(existsSync(join(dataDir, 'images', 'blobs', 'sha256', hex(blob))), false, `blob ${blob} left behind`);
  });

  it('resumes a pull after `up` is SIGKILLed mid-blob: a Range request for the rest, and only a complete, verified image is used', { skip: why }, async () => {
    const bigLayer = big.layers[1]!;
    const baseLayer = big.layers[0]!;
    // Every blob body stalls after this many bytes: the busybox layer and the config pass whole.
    const stallAt = Math.floor(bigLayer.size / 3);
    assert.ok(baseLayer.size < stallAt, `busybox layer ${baseLayer.size} bytes would stall too`);
    proxy.stallAfter = stallAt;
    await k33.ok('create', 'secret', 'docker-registry', 'proxycred', `--docker-server=${proxy.host}`, `--docker-username=${USER.username}`, `--docker-password=${USER.password}`);
    const ref = `${proxy.host}/test/big:v1`;
    await k33.ok('apply', '-f', k33.file('big.yaml', podYaml('big', ref, 'proxycred')));

    // Mid-blob: the proxy holds the big layer, and the store's partial file has every byte it sent.
    const partial = join(dataDir, 'images', 'ingest', hex(bigLayer.digest));
    const size = (): number => (existsSync(partial) ? statSync(partial).size : 0);
    // …and the busybox layer and the config, which pass the proxy whole, are stored: after the
    // restart only the rest of the big layer is left to fetch.
    const stored = (d: string): boolean => existsSync(join(dataDir, 'images', 'blobs', 'sha256', hex(d)));
    const mid = await pollUntil(() => size() === stallAt && stored(baseLayer.digest) && stored(big.configDigest), WAIT_MS, 50);
    assert.ok(mid, `no partial blob of ${stallAt} bytes (have ${size()}) beside the stored base layer:\n${up.stderrTail(20)}`);
    assert.equal(existsSync(join(dataDir, 'images', 'blobs', 'sha256', hex(bigLayer.digest))), false);
    assert.ok((await getPod('big')).status?.phase === 'Pending');
    await up.kill9();
    const have = size();
    assert.equal(have, stallAt, 'the partial blob survives the kill');
    proxy.stallAfter = undefined;
    proxy.release();
    const before = proxy.requests.length;

    up = await startUp({ dataDir, nodeName: 'img-node', args: upArgs() });
    const c = await waitFor('big running after the restart', 'big', running, 45_000);
    assert.equal(c.imageID, `${proxy.host}/test/big@${big.digest}`);

    // The pull resumed: one ranged GET for the rest of the big layer, answered 206; nothing else refetched.
    const again = proxy.requests.slice(before).filter((r) => r.method === 'GET' && /\/blobs\/sha256:/.test(r.path));
    assert.deepEqual(again.map((r) => [r.path.replace(/^.*\/blobs\//, ''), r.range, r.status]), [[bigLayer.digest, `bytes=${have}-`, 206]], JSON.stringify(proxy.requests, null, 1));
    assert.match(up.stderr(), new RegExp(`pulled ${proxy.host.replace(/\./g, '\\.')}/test/big:v1 \\(${big.digest}\\) in \\d+ ms, ${bigLayer.size - have} bytes fetched`));

    // The stored image is whole: verified blobs, every chain complete, no leftovers, and the top
    // chain (what a container root is cloned from) holds every file of the image.
    const img = index().images[big.digest];
    assert.ok(img, 'the image is in the index');
    assert.deepEqual(img.layers, big.layers.map((l) => l.digest));
    for (const b of [...img.layers, img.configDigest]) assert.equal(sha256File(join(dataDir, 'images', 'blobs', 'sha256', hex(b))), b);
    assert.deepEqual(readdirSync(join(dataDir, 'images', 'ingest')), []);
    const layersDir = join(dataDir, 'images', 'layers');
    for (const chain of img.chains) assert.ok(statSync(join(layersDir, hex(chain))).isDirectory(), `chain ${chain} missing`);
    assert.deepEqual(readdirSync(layersDir).filter((n) => n.endsWith('.partial')), []);
    const top = join(layersDir, hex(img.top));
    assert.equal(createHash('sha256').update(readFileSync(join(top, 'data', 'random.bin'))).digest('hex'), createHash('sha256').update(bigData).digest('hex'));
    assert.equal(sha256File(join(top, 'bin', 'busybox')), sha256File(BUSYBOX));
    for (const a of BUSYBOX_APPLETS) assert.ok(lstatSync(join(top, 'bin', a)).isSymbolicLink(), `bin/${a}`);
    assert.equal(readFileSync(join(top, 'etc', 'passwd'), 'utf8'), 'root:x:0:0:root:/root:/bin/sh\n');
    assert.deepEqual(index().users, { 'default/big': [big.digest] });
    const ev = await events(k33, 'big');
    assert.match(ev, /^Pulled:Successfully pulled image "[^"]+big:v1" in /m);
  });
});
