// Image pulls and pod roots: how fast the image store pulls from a local registry, beside curl.
//
// A registry (Debian's docker-registry, test/helpers/registry.ts) on 127.0.0.1 holds an image of
// --mib MiB (busybox + layers of random bytes, so gzip cannot shrink them; --layers of them). Per
// round, in this process, one after the other:
//   client   RegistryClient.fetchBlob of every blob, one at a time, to files on disk (sha256
//            verified while streaming): the store's download path alone.
//   curl     `curl -sS -o <file>` of the same blob URLs, one at a time, to files on disk.
//   pull     ImageStore.pull into a fresh store on the dir backend: manifest, downloads (3 in
//            parallel), and every layer applied with GNU tar (the whole job a pod waits for).
// Then the time to make --pods pod roots from one pulled image (a small busybox image):
//   clone_dir       DirLayerBackend.clone = cp -a, one after another.
//   clone_zfs_fake  ZfsLayerBackend.clone = `zfs clone` on the simulated illumos host (each call
//                   a node process; the fake copies files, real ZFS would not: this measures the
//                   command path only).
// Reading it: ratio = client MB/s ÷ curl MB/s (1.0: the store downloads as fast as curl on this
// machine). MB = 10^6 bytes. Rounds alternate client and curl so other load lands on both.
//
// Usage: node --import tsx bench/images.ts [--mib 100] [--layers 4] [--rounds 3] [--pods 50]
// Progress goes to stderr; the last line of stdout is one JSON object.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, rmSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { DirLayerBackend, ZfsLayerBackend } from '../src/images/layers.ts';
import { parseImageRef } from '../src/images/reference.ts';
import { RegistryClient } from '../src/images/registry.ts';
import { ImageStore } from '../src/images/store.ts';
import { ExecRunner } from '../src/runtime/illumos/exec.ts';
import { FakeIllumosHost } from '../test/fakes/host.ts';
import { makeTempDir } from '../test/helpers/process.ts';
import { buildImage, busyboxLayer, pushImage, registryAvailable, startRegistry } from '../test/helpers/registry.ts';

const { values } = parseArgs({
  options: {
    mib: { type: 'string', default: '100' },
    layers: { type: 'string', default: '4' },
    rounds: { type: 'string', default: '3' },
    pods: { type: 'string', default: '50' },
  },
});
const mib = Number(values.mib);
const nLayers = Math.max(1, Number(values.layers));
const rounds = Math.max(1, Number(values.rounds));
const pods = Math.max(1, Number(values.pods));
const round = (n: number, d = 1): number => Math.round(n * 10 ** d) / 10 ** d;
const progress = (s: string): void => void process.stderr.write(`${s}\n`);
const mbps = (bytes: number, ms: number): number => round(bytes / 1e6 / (ms / 1000));
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;

async function main(): Promise<void> {
  if (!registryAvailable('bench/images')) process.exit(0);
  const load0 = loadavg()[0] ?? 0;
  const reg = await startRegistry();
  const work = makeTempDir('reddwarf-bench-images-');
  try {
    progress(`building a ${mib} MiB image in ${nLayers} layers…`);
    const per = Math.floor((mib * 1024 * 1024) / nLayers);
    const big = buildImage({ layers: [busyboxLayer(), ...Array.from({ length: nLayers }, (_, i) => ({ files: [{ path: `data/${i}.bin`, content: randomBytes(per) }] }))], config: { Cmd: ['/bin/true'] } });
    const small = buildImage({ layers: [busyboxLayer()], config: { Cmd: ['/bin/sh'] } });
    await pushImage(reg, 'bench/big', 'v1', big);
    await pushImage(reg, 'bench/small', 'v1', small);
    const ref = parseImageRef(`${reg.host}/bench/big:v1`);
    const client = new RegistryClient({ insecureRegistries: [reg.host] });
    const resolved = await client.resolve(ref);
    const blobs = [resolved.manifest.config, ...resolved.manifest.layers];
    const totalBytes = blobs.reduce((s, b) => s + b.size, 0);
    const clientMs: number[] = [];
    const curlMs: number[] = [];
    const pullMs: number[] = [];
    for (let r = 0; r < rounds; r++) {
      const d1 = join(work, `client-${r}`);
      mkdirSync(d1);
      let t = performance.now();
      for (const b of blobs) await client.fetchBlob(ref, b, join(d1, `${b.digest.slice(7)}.partial`), join(d1, b.digest.slice(7)));
      clientMs.push(performance.now() - t);
      rmSync(d1, { recursive: true, force: true });

      const d2 = join(work, `curl-${r}`);
      mkdirSync(d2);
      t = performance.now();
      for (const b of blobs) execFileSync('curl', ['-sS', '-o', join(d2, b.digest.slice(7)), `http://${reg.host}/v2/bench/big/blobs/${b.digest}`]);
      curlMs.push(performance.now() - t);
      rmSync(d2, { recursive: true, force: true });

      const d3 = join(work, `store-${r}`);
      const store = await ImageStore.open({ dir: d3, backend: new DirLayerBackend(join(d3, 'layers')), insecureRegistries: [reg.host] });
      t = performance.now();
      await store.pull(ref.name);
      pullMs.push(performance.now() - t);
      rmSync(d3, { recursive: true, force: true });
      progress(`round ${r + 1}/${rounds}: client ${mbps(totalBytes, clientMs[r]!)} MB/s, curl ${mbps(totalBytes, curlMs[r]!)} MB/s, pull ${round(pullMs[r]! / 1000, 2)} s`);
    }

    progress(`cloning ${pods} pod roots from the small image (dir backend)…`);
    const d4 = join(work, 'clones');
    const store = await ImageStore.open({ dir: d4, backend: new DirLayerBackend(join(d4, 'layers')), insecureRegistries: [reg.host] });
    const pulled = await store.pull(`${reg.host}/bench/small:v1`);
    let t = performance.now();
    for (let i = 0; i < pods; i++) await store.clone(pulled.image.digest, { path: join(d4, 'pods', `p${i}`) });
    const cloneDirMs = performance.now() - t;

    progress(`cloning ${pods} pod roots on the simulated illumos host (zfs clone)…`);
    const host = FakeIllumosHost.create({ seeded: true, realRoot: true });
    let cloneZfsMs = 0;
    try {
      const runner = new ExecRunner({ env: host.env() });
      const zstore = await ImageStore.open({ dir: join(work, 'zfs'), backend: new ZfsLayerBackend(runner, 'rpool/images'), insecureRegistries: [reg.host] });
      const zp = await zstore.pull(`${reg.host}/bench/small:v1`);
      t = performance.now();
      for (let i = 0; i < pods; i++) await zstore.clone(zp.image.digest, { dataset: `rpool/zones/p${i}`, path: join(host.dir, 'root', 'zones', `p${i}`) });
      cloneZfsMs = performance.now() - t;
    } finally {
      host.dispose();
    }

    const clientMed = median(clientMs);
    const curlMed = median(curlMs);
    console.log(JSON.stringify({
      bench: 'images',
      node: process.version,
      cpus: availableParallelism(),
      platform: `${process.platform}-${process.arch}`,
      loadavg_1m: [round(load0, 2), round(loadavg()[0] ?? 0, 2)],
      baseline: 'curl -sS -o <file> of the same blob URLs, one at a time, same registry, same run',
      params: { mib, layers: nLayers, rounds, pods, image_bytes: totalBytes, blobs: blobs.length },
      results: {
        download: {
          client_MBps: mbps(totalBytes, clientMed),
          curl_MBps: mbps(totalBytes, curlMed),
          ratio: round(curlMed / clientMed, 2),
          client_ms: clientMs.map((x) => round(x)),
          curl_ms: curlMs.map((x) => round(x)),
        },
        pull_dir_backend: { median_s: round(median(pullMs) / 1000, 2), MBps: mbps(totalBytes, median(pullMs)), ms: pullMs.map((x) => round(x)) },
        clones: {
          image_bytes: small.size,
          dir_total_ms: round(cloneDirMs),
          dir_per_pod_ms: round(cloneDirMs / pods, 2),
          zfs_fake_total_ms: round(cloneZfsMs),
          zfs_fake_per_pod_ms: round(cloneZfsMs / pods, 2),
        },
      },
    }));
  } finally {
    await reg.stop();
    rmSync(work, { recursive: true, force: true });
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
