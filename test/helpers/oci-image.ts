// Builds OCI / Docker v2 images for tests from files on this host (busybox-static's /bin/busybox,
// so their programs really run): each layer staged in a temp dir, archived with GNU tar
// (sorted, mtime 0, numeric owners: the same spec gives the same digest), gzip/zstd/plain; config,
// manifest and optionally an index with linux/amd64 + linux/arm64. pushImage uploads through the
// registry HTTP API (monolithic POST + PUT, manifest PUT), answering auth challenges.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, chownSync, copyFileSync, linkSync, lchownSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { makeTempDir } from './process.ts';

export const BUSYBOX = '/bin/busybox';
export const BUSYBOX_APPLETS = ['sh', 'echo', 'sleep', 'cat', 'ls', 'true', 'false', 'env', 'id', 'test', 'pwd', 'stat', 'readlink'];

export interface FileSpec {
  path: string;
  type?: 'file' | 'dir' | 'symlink' | 'hardlink';
  content?: string | Buffer;
  /** Copy this host file's bytes. */
  from?: string;
  /** symlink target, or the path (inside the layer) a hard link points at. */
  target?: string;
  mode?: number;
  uid?: number;
  gid?: number;
}

export interface LayerSpec {
  files: FileSpec[];
  /** The uncompressed layer bytes as given (e.g. not a tar at all), instead of staging files. */
  raw?: Buffer;
  /** Archive only these paths (no directory entries for their parents), as a hand-made tar may. */
  only?: string[];
  compression?: 'gzip' | 'zstd' | 'none';
}

export interface ImageConfigSpec {
  Entrypoint?: string[];
  Cmd?: string[];
  Env?: string[];
  WorkingDir?: string;
  User?: string;
}

export interface ImageSpec {
  layers: LayerSpec[];
  config?: ImageConfigSpec;
  /** Media types: OCI (default) or Docker v2 schema 2. */
  format?: 'oci' | 'docker';
  /** Also an index (manifest list) naming linux/amd64 and linux/arm64 images. */
  index?: boolean;
  /** Only an arm64 image in the index (to test 'no-platform'). */
  armOnly?: boolean;
  /** Config diff ids that lie (layer index → diff id), to test verification. */
  diffIds?: Record<number, string>;
}

export interface BuiltLayer {
  digest: string;
  diffId: string;
  size: number;
  mediaType: string;
}

export interface BuiltImage {
  /** Every blob by digest (configs and layers). */
  blobs: Map<string, Buffer>;
  /** Manifests by digest, with their media type; the last pushed is the tagged one. */
  manifests: { digest: string; mediaType: string; bytes: Buffer }[];
  /** The digest the tag resolves to (the index's when there is one). */
  digest: string;
  /** The linux/amd64 manifest's digest. */
  amd64Digest: string;
  layers: BuiltLayer[];
  configDigest: string;
  size: number;
}

const sha = (b: Buffer): string => `sha256:${createHash('sha256').update(b).digest('hex')}`;

/** The busybox base: /bin/busybox, applet symlinks, /tmp, /etc/passwd. */
export function busyboxLayer(extra: FileSpec[] = []): LayerSpec {
  return {
    files: [
      { path: 'bin', type: 'dir', mode: 0o755 },
      { path: 'bin/busybox', from: BUSYBOX, mode: 0o755 },
      ...BUSYBOX_APPLETS.map((a): FileSpec => ({ path: `bin/${a}`, type: 'symlink', target: 'busybox' })),
      { path: 'tmp', type: 'dir', mode: 0o1777 },
      { path: 'etc/passwd', content: 'root:x:0:0:root:/root:/bin/sh\n', mode: 0o644 },
      ...extra,
    ],
  };
}

function stageLayer(spec: LayerSpec): { tar: Buffer; blob: Buffer; mediaType: 'gzip' | 'zstd' | 'none' } {
  if (spec.raw) return { tar: spec.raw, blob: gzipSync(spec.raw), mediaType: 'gzip' };
  const dir = makeTempDir('reddwarf-layer-');
  try {
    const root = join(dir, 'root');
    mkdirSync(root);
    for (const f of spec.files) {
      const p = join(root, f.path);
      mkdirSync(dirname(p), { recursive: true });
      const type = f.type ?? 'file';
      if (type === 'dir') mkdirSync(p, { recursive: true });
      else if (type === 'symlink') symlinkSync(f.target ?? '', p);
      else if (type === 'hardlink') linkSync(join(root, f.target ?? ''), p);
      else if (f.from) copyFileSync(f.from, p);
      else writeFileSync(p, f.content ?? '');
      if (type === 'symlink') {
        if (f.uid !== undefined) lchownSync(p, f.uid, f.gid ?? f.uid);
        continue;
      }
      if (f.mode !== undefined) chmodSync(p, f.mode);
      if (f.uid !== undefined) chownSync(p, f.uid, f.gid ?? f.uid);
    }
    const tarPath = join(dir, 'layer.tar');
    const what = spec.only ? ['--no-recursion', ...spec.only.map((p) => `./${p}`)] : ['.'];
    execFileSync('tar', ['-c', '-f', tarPath, '--sort=name', '--mtime=@0', '--numeric-owner', '-C', root, ...what]);
    const tar = readFileSync(tarPath);
    const c = spec.compression ?? 'gzip';
    const blob = c === 'gzip' ? gzipSync(tar) : c === 'zstd' ? execFileSync('zstd', ['-q', '-c', tarPath]) : tar;
    return { tar, blob, mediaType: c };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Builds an image (blobs and manifests in memory). */
export function buildImage(spec: ImageSpec): BuiltImage {
  const oci = (spec.format ?? 'oci') === 'oci';
  const blobs = new Map<string, Buffer>();
  const layers: BuiltLayer[] = spec.layers.map((l) => {
    const s = stageLayer(l);
    const digest = sha(s.blob);
    blobs.set(digest, s.blob);
    const mediaType = oci
      ? s.mediaType === 'gzip' ? 'application/vnd.oci.image.layer.v1.tar+gzip' : s.mediaType === 'zstd' ? 'application/vnd.oci.image.layer.v1.tar+zstd' : 'application/vnd.oci.image.layer.v1.tar'
      : s.mediaType === 'zstd' ? 'application/vnd.oci.image.layer.v1.tar+zstd' : 'application/vnd.docker.image.rootfs.diff.tar.gzip';
    return { digest, diffId: sha(s.tar), size: s.blob.length, mediaType };
  });
  const manifests: BuiltImage['manifests'] = [];
  const platformImage = (architecture: string): { digest: string; size: number; configDigest: string; bytes: Buffer; mediaType: string } => {
    const config = Buffer.from(JSON.stringify({
      architecture,
      os: 'linux',
      config: spec.config ?? {},
      rootfs: { type: 'layers', diff_ids: layers.map((l, i) => spec.diffIds?.[i] ?? l.diffId) },
      history: layers.map(() => ({ created_by: 'reddwarf test image builder' })),
    }));
    const configDigest = sha(config);
    blobs.set(configDigest, config);
    const mediaType = oci ? 'application/vnd.oci.image.manifest.v1+json' : 'application/vnd.docker.distribution.manifest.v2+json';
    const bytes = Buffer.from(JSON.stringify({
      schemaVersion: 2,
      mediaType,
      config: { mediaType: oci ? 'application/vnd.oci.image.config.v1+json' : 'application/vnd.docker.container.image.v1+json', digest: configDigest, size: config.length },
      layers: layers.map((l) => ({ mediaType: l.mediaType, digest: l.digest, size: l.size })),
    }));
    const digest = sha(bytes);
    manifests.push({ digest, mediaType, bytes });
    return { digest, size: bytes.length, configDigest, bytes, mediaType };
  };
  const amd = platformImage('amd64');
  const layerBytes = layers.reduce((s, l) => s + l.size, 0);
  if (!spec.index && !spec.armOnly) {
    return { blobs, manifests, digest: amd.digest, amd64Digest: amd.digest, layers, configDigest: amd.configDigest, size: layerBytes + (blobs.get(amd.configDigest)?.length ?? 0) };
  }
  const arm = platformImage('arm64');
  const entries = [...(spec.armOnly ? [] : [{ m: amd, architecture: 'amd64' }]), { m: arm, architecture: 'arm64', variant: 'v8' }];
  const indexType = oci ? 'application/vnd.oci.image.index.v1+json' : 'application/vnd.docker.distribution.manifest.list.v2+json';
  const index = Buffer.from(JSON.stringify({
    schemaVersion: 2,
    mediaType: indexType,
    manifests: entries.map((e) => ({ mediaType: e.m.mediaType, digest: e.m.digest, size: e.m.size, platform: { os: 'linux', architecture: e.architecture, ...('variant' in e ? { variant: e.variant } : {}) } })),
  }));
  const digest = sha(index);
  manifests.push({ digest, mediaType: indexType, bytes: index });
  return { blobs, manifests, digest, amd64Digest: amd.digest, layers, configDigest: amd.configDigest, size: layerBytes + (blobs.get(amd.configDigest)?.length ?? 0) };
}

interface Creds {
  username: string;
  password: string;
}

/** A fetch that answers one 401 challenge (Basic, or Bearer via the realm with pull,push scope). */
async function authed(url: string, init: RequestInit, repo: string, creds: Creds | undefined, cache: { auth?: string }): Promise<Response> {
  const go = (auth?: string): Promise<Response> => fetch(url, { ...init, headers: { ...(init.headers as Record<string, string>), ...(auth ? { authorization: auth } : {}) } });
  let res = await go(cache.auth);
  if (res.status !== 401) return res;
  const challenge = res.headers.get('www-authenticate') ?? '';
  await res.arrayBuffer();
  const basic = creds ? `Basic ${Buffer.from(`${creds.username}:${creds.password}`).toString('base64')}` : undefined;
  if (/^basic/i.test(challenge)) cache.auth = basic;
  else {
    const realm = /realm="([^"]*)"/.exec(challenge)?.[1] ?? '';
    const service = /service="([^"]*)"/.exec(challenge)?.[1] ?? '';
    const t = await fetch(`${realm}?service=${encodeURIComponent(service)}&scope=${encodeURIComponent(`repository:${repo}:pull,push`)}`, { headers: basic ? { authorization: basic } : {} });
    if (!t.ok) throw new Error(`token server refused the push: ${t.status} ${await t.text()}`);
    cache.auth = `Bearer ${((await t.json()) as { token: string }).token}`;
  }
  res = await go(cache.auth);
  return res;
}

/** Pushes an image's blobs and manifests to `registry` (host:port, plain HTTP) as `repo:tag`. */
export async function pushImage(registry: { host: string; pushCredentials?: Creds }, repo: string, tag: string, image: BuiltImage): Promise<void> {
  const base = `http://${registry.host}/v2/${repo}`;
  const cache: { auth?: string } = {};
  const creds = registry.pushCredentials;
  for (const [digest, bytes] of image.blobs) {
    const head = await authed(`${base}/blobs/${digest}`, { method: 'HEAD' }, repo, creds, cache);
    if (head.status === 200) continue;
    const start = await authed(`${base}/blobs/uploads/`, { method: 'POST' }, repo, creds, cache);
    if (start.status !== 202) throw new Error(`blob upload start ${repo}: ${start.status} ${await start.text()}`);
    await start.arrayBuffer();
    const loc = new URL(start.headers.get('location') ?? '', `http://${registry.host}`);
    loc.searchParams.set('digest', digest);
    const put = await authed(loc.toString(), { method: 'PUT', body: new Uint8Array(bytes), headers: { 'content-type': 'application/octet-stream', 'content-length': String(bytes.length) } }, repo, creds, cache);
    if (put.status !== 201) throw new Error(`blob upload ${repo} ${digest}: ${put.status} ${await put.text()}`);
    await put.arrayBuffer();
  }
  const last = image.manifests.length - 1;
  for (const [i, m] of image.manifests.entries()) {
    const ref = i === last ? tag : m.digest;
    const put = await authed(`${base}/manifests/${ref}`, { method: 'PUT', body: new Uint8Array(m.bytes), headers: { 'content-type': m.mediaType } }, repo, creds, cache);
    if (put.status !== 201) throw new Error(`manifest ${repo}:${ref}: ${put.status} ${await put.text()}`);
    await put.arrayBuffer();
  }
}
