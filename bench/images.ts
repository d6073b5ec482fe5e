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
//   pods            (issue 12) time to start --pods pods from one already-pulled image: `reddwarf up`
//                   as a child process on the simulated illumos host (real zone roots, the zone
//                   supervisor running busybox; needs root) with real pulls from the registry. One pod
//                   first pulls a busybox image whose command is `sleep 3600`; then --pods pods naming
//                   it are created through the API, and each is timed from its create to
//                   Running with its container ready (the pod list polled every 100 ms, bounded).
//                   At most --pod-concurrency (8) pods are starting at any time, a new one created as
//                   one becomes ready: the fake host runs every tool call under one state lock with a
//                   10 s wait and copies files for each clone, so 50 at once on 2 cores made installs
//                   fail with "fake illumos host: lock timeout" (a limit of the simulator, not of up).
//                   Reported: p50/p99/max and wall time, the `zfs clone` calls the fake host logged
//                   for those pods (one per pod: clone, no copy on real ZFS), and that no layer chain
//                   was built again (`zfs snapshot` calls and the store's "applying layer" log lines
//                   stay the same). Not root (or no unshare/busybox-static/gcc): the same phase on
//                   `--runtime mock`, marked runtime: 'mock' (no zones, no zfs: counts are null).
//                   Then the pods are deleted and up, the fake host and the registry stopped.
// Reading it: ratio = client MB/s ÷ curl MB/s (1.0: the store downloads as fast as curl on this
// machine). MB = 10^6 bytes. Rounds alternate client and curl so other load lands on both.
//
// Usage: node --import tsx bench/images.ts [--mib 100] [--layers 4] [--rounds 3] [--pods 50] [--pod-concurrency 8]
// Progress goes to stderr; the last line of stdout is one JSON object.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { parse as parseYaml } from 'yaml';
import { DirLayerBackend, ZfsLayerBackend } from '../src/images/layers.ts';
import { parseImageRef } from '../src/images/reference.ts';
import { RegistryClient } from '../src/images/registry.ts';
import { ImageStore } from '../src/images/store.ts';
import { ExecRunner } from '../src/runtime/illumos/exec.ts';
import { FakeIllumosHost } from '../test/fakes/host.ts';
import { makeTempDir, pollUntil, sleep, startUp, type UpProcess } from '../test/helpers/process.ts';
import { realZoneSkipReason } from '../test/helpers/realzone.ts';
import { buildImage, busyboxLayer, pushImage, registryAvailable, startRegistry, type TestRegistry } from '../test/helpers/registry.ts';

const { values } = parseArgs({
  options: {
    mib: { type: 'string', default: '100' },
    layers: { type: 'string', default: '4' },
    rounds: { type: 'string', default: '3' },
    pods: { type: 'string', default: '50' },
    'pod-concurrency': { type: 'string', default: '8' },
  },
});
const mib = Number(values.mib);
const nLayers = Math.max(1, Number(values.layers));
const rounds = Math.max(1, Number(values.rounds));
const pods = Math.max(1, Number(values.pods));
const podConcurrency = Math.max(1, Number(values['pod-concurrency']));
const round = (n: number, d = 1): number => Math.round(n * 10 ** d) / 10 ** d;
const progress = (s: string): void => void process.stderr.write(`${s}\n`);
const mbps = (bytes: number, ms: number): number => round(bytes / 1e6 / (ms / 1000));
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;
/** Nearest-rank percentile (p in 0..100). */
const pct = (xs: number[], p: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))] ?? 0;
};

/** Waits for pods to become ready at most this long (after the first pod's pull). */
const POD_READY_TIMEOUT_MS = 150_000;
const POD_DELETE_TIMEOUT_MS = 90_000;

type PodStatus = { phase?: string; reason?: string; message?: string; containerStatuses?: { ready?: boolean; state?: Record<string, { reason?: string; message?: string }> }[] };
type PodItem = { metadata: { name: string }; status?: PodStatus };

/** The `pods` phase: `reddwarf up` as a child, n pods from one pulled image, create → Running+ready. */
async function podsPhase(reg: TestRegistry, n: number, concurrency: number): Promise<Record<string, unknown>> {
  const skip = realZoneSkipReason({ compiler: true });
  const runtime = skip ? 'mock' : 'illumos';
  if (skip) progress(`pods: ${skip}; running the pods phase on the mock runtime`);
  const image = `${reg.host}/bench/sleeper:v1`;
  await pushImage(reg, 'bench/sleeper', 'v1', buildImage({ layers: [busyboxLayer()], config: { Entrypoint: ['/bin/sleep'], Cmd: ['3600'], Env: ['PATH=/bin'] } }));

  const host = skip ? undefined : FakeIllumosHost.create({ realRoot: true });
  const savedEnv = { PATH: process.env['PATH'], REDDWARF_FAKE_HOST: process.env['REDDWARF_FAKE_HOST'] };
  if (host) Object.assign(process.env, host.env());
  const dataDir = makeTempDir('reddwarf-bench-pods-');
  let up: UpProcess | undefined;
  // The image store logs each layer it applies on up's stderr: count them as they come (the kept stderr is capped).
  let applied = 0;
  let partial = '';
  try {
    const args = host
      ? ['--runtime', 'illumos', '--image-pulls', 'real', '--insecure-registry', reg.host, '--zonepath-prefix', host.mountpoint('rpool/zones'), '--supported-brands', 'lx,sparse', '--node-ip', '127.0.0.2']
      : ['--runtime', 'mock', '--image-pulls', 'real', '--insecure-registry', reg.host];
    progress(`pods: starting reddwarf up --runtime ${runtime}…`);
    up = await startUp({ dataDir, nodeName: 'bench-node', args });
    up.child.stderr?.on('data', (d: string) => {
      const lines = (partial + d).split('\n');
      partial = lines.pop() ?? '';
      applied += lines.filter((l) => l.includes('applying layer')).length;
    });
    const kc = parseYaml(readFileSync(up.kubeconfig, 'utf8')) as { users?: { user?: { token?: string } }[] };
    const token = kc.users?.[0]?.user?.token;
    const headers: Record<string, string> = { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) };
    const base = `${up.url}/api/v1/namespaces/default/pods`;
    const u = up;
    const api = async (method: string, url: string, body?: unknown): Promise<unknown> => {
      const res = await fetch(url, { method, headers, ...(body ? { body: JSON.stringify(body) } : {}), signal: AbortSignal.timeout(10_000) });
      const text = await res.text();
      if (!res.ok) throw new Error(`${method} ${url}: ${res.status} ${text.slice(0, 300)}\n${u.stderrTail(20)}`);
      return text ? (JSON.parse(text) as unknown) : undefined;
    };
    const pod = (name: string) => ({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name, annotations: { 'reddwarf.io/zone-brand': 'lx' } },
      spec: { terminationGracePeriodSeconds: 1, containers: [{ name: 'app', image }] },
    });
    const list = async (): Promise<PodItem[]> => ((await api('GET', base)) as { items: PodItem[] }).items;
    const isReady = (p: PodItem): boolean => p.status?.phase === 'Running' && (p.status.containerStatuses ?? []).length > 0 && (p.status.containerStatuses ?? []).every((c) => c.ready === true);

    // The first pod pulls the image (timed, but not part of the numbers below).
    const t = performance.now();
    await api('POST', base, pod('warm'));
    const warm = await pollUntil(async () => (await list()).find((p) => p.metadata.name === 'warm' && isReady(p)), POD_READY_TIMEOUT_MS, 100);
    if (!warm) throw new Error(`pods: the first pod did not become ready within ${POD_READY_TIMEOUT_MS} ms\n${up.stderrTail(30)}`);
    const warmMs = performance.now() - t;
    progress(`pods: first pod (pull + start) ready in ${round(warmMs / 1000, 2)} s; creating ${n} pods…`);
    await sleep(500); // let the warm pod's last commands land in the log
    const cmds0 = host?.commands() ?? [];
    const applied0 = applied;

    const created = new Map<string, number>();
    const readyAt = new Map<string, number>();
    const failed = new Set<string>();
    const t0 = performance.now();
    let createMs = 0;
    const deadline = Date.now() + POD_READY_TIMEOUT_MS;
    let lastProgress = 0;
    // At most `concurrency` pods starting at once (created, neither ready nor failed): see the top comment.
    while (readyAt.size + failed.size < n && Date.now() < deadline) {
      while (created.size < n && created.size - readyAt.size - failed.size < concurrency) {
        const name = `bench-${created.size}`;
        const tc = performance.now();
        created.set(name, tc);
        await api('POST', base, pod(name));
        createMs += performance.now() - tc;
      }
      const now = performance.now();
      for (const p of await list()) {
        const name = p.metadata.name;
        if (!created.has(name) || readyAt.has(name) || failed.has(name)) continue;
        if (isReady(p)) readyAt.set(name, now);
        else if (p.status?.phase === 'Failed') failed.add(name);
      }
      if (readyAt.size - lastProgress >= 10) {
        lastProgress = readyAt.size;
        progress(`pods: ${readyAt.size}/${n} ready after ${round((now - t0) / 1000, 1)} s`);
      }
      if (readyAt.size + failed.size < n) await sleep(100);
    }
    const wallMs = (readyAt.size ? Math.max(...readyAt.values()) : performance.now()) - t0;
    const lat = [...readyAt].map(([name, at]) => at - created.get(name)!);
    progress(`pods: ${readyAt.size}/${n} ready; wall ${round(wallMs / 1000, 2)} s`);
    // Pods not ready within the bound: how they stand (phase / container state / reason), counted.
    const notReady: Record<string, number> = {};
    if (readyAt.size < n) {
      for (const p of await list()) {
        if (!created.has(p.metadata.name) || readyAt.has(p.metadata.name)) continue;
        const st = Object.entries(p.status?.containerStatuses?.[0]?.state ?? {})[0];
        const key = [p.status?.phase ?? 'no phase', p.status?.reason, st ? `${st[0]}${st[1].reason ? ` ${st[1].reason}` : ''}` : 'no container status', (st?.[1].message ?? p.status?.message)?.slice(0, 160)].filter(Boolean).join(' / ');
        notReady[key] = (notReady[key] ?? 0) + 1;
      }
      progress(`pods: not ready: ${JSON.stringify(notReady)}\n${up.stderrTail(25)}`);
    }
    await sleep(500);
    const cmds = (host?.commands() ?? []).slice(cmds0.length);
    const zfs = (verb: string, cs: string[][]): string[][] => cs.filter((c) => c[0] === 'zfs' && c[1] === verb);
    const podClones = zfs('clone', cmds);

    // Delete every pod, then wait (bounded) until the list is empty.
    progress('pods: deleting the pods…');
    const td = performance.now();
    for (const name of ['warm', ...created.keys()]) await api('DELETE', `${base}/${name}`).catch((e: unknown) => progress(`pods: delete ${name}: ${(e as Error).message.split('\n')[0]}`));
    const gone = await pollUntil(async () => (await list()).length === 0, POD_DELETE_TIMEOUT_MS, 250);
    const deleteMs = performance.now() - td;
    progress(`pods: ${gone ? 'all deleted' : 'NOT all deleted'} in ${round(deleteMs / 1000, 2)} s`);

    return {
      runtime,
      ...(skip ? { why_mock: skip } : {}),
      pods: n,
      ready: readyAt.size,
      ...(readyAt.size < n ? { not_ready: notReady } : {}),
      first_pod_pull_and_start_ms: round(warmMs),
      concurrency,
      failed: failed.size,
      create_requests_ms_total: round(createMs),
      wall_ms: round(wallMs),
      create_to_ready_ms: { p50: round(pct(lat, 50)), p99: round(pct(lat, 99)), max: round(lat.length ? Math.max(...lat) : 0) },
      zfs_clone_calls: host ? podClones.length : null,
      zfs_clone_calls_to_zones: host ? podClones.filter((c) => c.some((a) => a.startsWith('rpool/zones/'))).length : null,
      zfs_snapshot_calls: host ? zfs('snapshot', cmds).length : null,
      zfs_snapshot_calls_before: host ? zfs('snapshot', cmds0).length : null,
      layers_applied_during: applied - applied0,
      layers_applied_before: applied0,
      layer_chains_rebuilt: (host ? zfs('snapshot', cmds).length : 0) + (applied - applied0) > 0,
      deleted_ms: gone ? round(deleteMs) : null,
    };
  } finally {
    if (up) {
      await up.stop(10_000);
      up.cleanup();
    }
    host?.dispose();
    rmSync(dataDir, { recursive: true, force: true });
    for (const [name, v] of Object.entries(savedEnv)) {
      if (v === undefined) delete process.env[name];
      else process.env[name] = v;
    }
  }
}

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

    const podsResult = await podsPhase(reg, pods, podConcurrency);

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
        pods: podsResult,
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
