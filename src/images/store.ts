// The agent's image store: a content store of verified blobs (`<dir>/blobs/sha256/<hex>`, partial
// downloads in `<dir>/ingest/` resumed after a restart), layer chains in a LayerBackend, and a small
// JSON index (`<dir>/index.json`, written tmp + fsync + rename so a kill -9 leaves the old or the
// new one). One pull per reference and per digest at a time: concurrent callers share it.
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { CommandRunner } from '../runtime/illumos/command.ts';
import { credentialsId, type CredentialLookup, type RegistryCredentials } from './credentials.ts';
import { ImagePullError } from './errors.ts';
import { uncompressedDigest } from './diffid.ts';
import { backendFromConfig, chainIds, type BackendConfig, type CloneTarget, type LayerBackend } from './layers.ts';
import type { PullPolicy } from './policy.ts';
import { RegistryClient, type Descriptor, type ResolvedManifest } from './registry.ts';
import { digestRef, InvalidReference, parseImageRef, type ImageRef } from './reference.ts';
import { realClock, type Clock } from '../time/clock.ts';

/** What the image config says about the process (OCI image config `config`). */
export interface ImageConfig {
  entrypoint?: string[];
  cmd?: string[];
  env?: string[];
  workingDir?: string;
  user?: string;
}

/** An image whose every layer chain is complete. */
export interface StoredImage {
  /** The canonical reference it was last pulled as. */
  ref: string;
  /** Every reference that resolved to it. */
  refs: string[];
  /** The repo digest: what the reference resolved to (an index or a manifest). */
  digest: string;
  /** `registry/repository@digest`, as kubelet reports containerStatuses[].imageID. */
  imageID: string;
  /** The linux/amd64 image manifest's digest. */
  manifestDigest: string;
  configDigest: string;
  config: ImageConfig;
  /** Bytes of config + compressed layers (as containerd reports an image's size). */
  size: number;
  /** Layer blob digests, bottom first. */
  layers: string[];
  /** Chain ids, bottom first; `top` is the last. */
  chains: string[];
  top: string;
  /** ms since the epoch: last pull or use. */
  lastUsed: number;
}

export interface ImageListEntry {
  ref: string;
  digest: string;
  size: number;
  users: string[];
}

export interface ImageStoreOptions {
  /** Metadata and blob directory (the agent's `<data-dir>/images`). */
  dir: string;
  /** Where chains live; omitted to reopen the backend recorded in the index (the CLI). */
  backend?: LayerBackend;
  /** Runs zfs for a reopened ZFS backend. */
  runner?: CommandRunner;
  insecureRegistries?: string[];
  /** Registry timeout (ms), default 30 s. */
  timeoutMs?: number;
  log?: (line: string) => void;
  /** Pull durations, last-used times and registry timeouts (default realClock). */
  clock?: Clock;
}

export interface PullOptions {
  /** Credentials for the image's registry, or a lookup by registry host (imagePullSecrets). */
  credentials?: RegistryCredentials | CredentialLookup;
  /** Effective policy (see pullPolicy()); default Always. */
  policy?: PullPolicy;
  signal?: AbortSignal;
}

export interface PullResult {
  image: StoredImage;
  /** Bytes downloaded by this pull (0 when everything was present). */
  bytes: number;
  durationMs: number;
  /** False when the image was already present and nothing was fetched. */
  pulled: boolean;
}

interface IndexFile {
  version: 1;
  backend: BackendConfig;
  images: Record<string, StoredImage>;
  /** canonical reference → digest */
  refs: Record<string, string>;
  /** user (pod key) → digests it uses */
  users: Record<string, string[]>;
}

interface Shared<T> {
  promise: Promise<T>;
  controller: AbortController;
  waiters: number;
}

const PARALLEL_BLOBS = 3;
const hexOf = (d: string): string => d.replace(/^sha256:/, '');

/** The agent's image store. */
export class ImageStore {
  private index: IndexFile;
  private readonly client: RegistryClient;
  private readonly byRef = new Map<string, Shared<PullResult>>();
  private readonly byDigest = new Map<string, Promise<StoredImage>>();
  /** One download per blob and one build per chain, also across images that share layers. */
  private readonly blobFetches = new Map<string, Promise<number>>();
  private readonly chainBuilds = new Map<string, Promise<void>>();
  /** Chains an in-flight pull relies on: prune leaves them alone. */
  private readonly building = new Map<string, number>();
  private readonly log: (line: string) => void;
  private readonly clock: Clock;

  private constructor(readonly dir: string, readonly backend: LayerBackend, index: IndexFile, opts: ImageStoreOptions) {
    this.index = index;
    this.clock = opts.clock ?? realClock;
    this.client = new RegistryClient({ ...(opts.insecureRegistries ? { insecureRegistries: opts.insecureRegistries } : {}), ...(opts.timeoutMs ? { timeoutMs: opts.timeoutMs } : {}), clock: this.clock });
    this.log = opts.log ?? (() => {});
  }

  /**
   * Opens (or creates) the store in `dir`.
   * @example const store = await ImageStore.open({ dir: `${dataDir}/images`, backend: new DirLayerBackend(`${dataDir}/images/layers`) });
   */
  static async open(opts: ImageStoreOptions): Promise<ImageStore> {
    for (const d of ['', 'blobs/sha256', 'ingest']) mkdirSync(join(opts.dir, d), { recursive: true });
    const path = join(opts.dir, 'index.json');
    let index: IndexFile | undefined;
    if (existsSync(path)) index = JSON.parse(readFileSync(path, 'utf8')) as IndexFile;
    const backend = opts.backend ?? (index ? backendFromConfig(index.backend, opts.runner) : undefined);
    if (!backend) throw new Error(`no image store in ${opts.dir} and no layer backend given`);
    index ??= { version: 1, backend: backend.config, images: {}, refs: {}, users: {} };
    index.backend = backend.config;
    await backend.init();
    const store = new ImageStore(opts.dir, backend, index, opts);
    store.save();
    return store;
  }

  /** An image by digest, canonical reference or any reference that normalises to one. */
  get(refOrDigest: string): StoredImage | undefined {
    this.reload();
    if (/^sha256:[a-f0-9]{64}$/.test(refOrDigest)) return this.index.images[refOrDigest];
    let ref: ImageRef;
    try {
      ref = parseImageRef(refOrDigest);
    } catch {
      return undefined;
    }
    if (ref.digest) {
      const img = this.index.images[ref.digest];
      return img && img.imageID.startsWith(`${ref.registry}/${ref.repository}@`) ? img : undefined;
    }
    const d = this.index.refs[ref.name];
    return d ? this.index.images[d] : undefined;
  }

  /** Every stored image with the pods using it. */
  list(): ImageListEntry[] {
    this.reload();
    return Object.values(this.index.images)
      .map((img) => ({ ref: img.ref, digest: img.digest, size: img.size, users: this.usersOf(img.digest) }))
      .sort((a, b) => a.ref.localeCompare(b.ref));
  }

  /** Records that `podKey` uses image `digest` (prune keeps it). */
  use(digest: string, podKey: string): void {
    this.reload();
    const img = this.index.images[digest];
    if (!img) throw new ImagePullError('not-present', `image ${digest} is not in the store`);
    const list = (this.index.users[podKey] ??= []);
    if (!list.includes(digest)) list.push(digest);
    img.lastUsed = this.clock.now();
    this.save();
  }

  /** Forgets every image use of `podKey`. */
  release(podKey: string): void {
    this.reload();
    if (!(podKey in this.index.users)) return;
    delete this.index.users[podKey];
    this.save();
  }

  /** A new pod/container root from a stored image (ZFS clone, or a copy on the dir backend). */
  async clone(digest: string, target: CloneTarget, signal?: AbortSignal): Promise<void> {
    const img = this.index.images[digest];
    if (!img) throw new ImagePullError('not-present', `image ${digest} is not in the store`);
    await this.backend.clone(img.top, target, signal);
  }

  /**
   * Pulls `ref` as `policy` says; concurrent pulls of one reference (or one digest) share one
   * download. A caller's abort only cancels the download when every caller sharing it aborted.
   */
  async pull(refText: string, opts: PullOptions = {}): Promise<PullResult> {
    const started = this.clock.now();
    let ref: ImageRef;
    try {
      ref = parseImageRef(refText);
    } catch (e) {
      throw new ImagePullError('invalid', e instanceof InvalidReference ? e.message : String(e));
    }
    const policy = opts.policy ?? 'Always';
    if (policy !== 'Always') {
      const have = this.get(ref.name);
      if (have && (await this.backend.has(have.top))) {
        this.touch(have.digest);
        return { image: have, bytes: 0, durationMs: this.clock.now() - started, pulled: false };
      }
      if (policy === 'Never') throw new ImagePullError('not-present', `image ${ref.name} is not present with imagePullPolicy Never`);
    }
    // Only callers with the same credentials share a pull: a pod with wrong or no credentials must
    // not get a private image because another pod was pulling it at the same moment.
    const credentials = credentialsFor(ref, opts.credentials);
    const key = `${ref.name}\0${credentialsId(credentials)}`;
    let shared = this.byRef.get(key);
    if (!shared) {
      const controller = new AbortController();
      const promise = this.pullOnce(ref, credentials, controller.signal, started).finally(() => this.byRef.delete(key));
      shared = { promise, controller, waiters: 0 };
      this.byRef.set(key, shared);
    }
    return this.wait(shared, opts.signal);
  }

  private async wait<T>(shared: Shared<T>, signal: AbortSignal | undefined): Promise<T> {
    shared.waiters++;
    if (!signal) return shared.promise;
    signal.throwIfAborted();
    let onAbort: () => void = () => {};
    const aborted = new Promise<never>((_, reject) => {
      onAbort = () => {
        if (--shared.waiters === 0) shared.controller.abort(signal.reason);
        reject(signal.reason);
      };
      signal.addEventListener('abort', onAbort, { once: true });
    });
    try {
      return await Promise.race([shared.promise, aborted]);
    } finally {
      signal.removeEventListener('abort', onAbort);
    }
  }

  private async pullOnce(ref: ImageRef, credentials: RegistryCredentials | undefined, signal: AbortSignal, started: number): Promise<PullResult> {
    this.log(`pulling ${ref.name}`);
    const resolved = await this.client.resolve(ref, { credentials, signal });
    const existing = this.index.images[resolved.digest];
    let bytes = 0;
    let image: StoredImage;
    if (existing && (await this.backend.has(existing.top))) {
      image = existing;
    } else {
      let p = this.byDigest.get(resolved.digest);
      if (!p) {
        p = this.materialise(ref, resolved, credentials, signal, (n) => (bytes += n)).finally(() => this.byDigest.delete(resolved.digest));
        this.byDigest.set(resolved.digest, p);
      }
      image = await p;
    }
    this.reload();
    const img = this.index.images[image.digest] ?? image;
    img.ref = ref.name;
    if (!img.refs.includes(ref.name)) img.refs.push(ref.name);
    img.lastUsed = this.clock.now();
    this.index.images[img.digest] = img;
    // A tag moved to a new digest: the old image keeps its other names.
    const old = this.index.refs[ref.name];
    if (old && old !== img.digest && this.index.images[old]) {
      const o = this.index.images[old];
      o.refs = o.refs.filter((r) => r !== ref.name);
      if (o.ref === ref.name) o.ref = o.refs[0] ?? digestRef(ref, o.digest);
    }
    this.index.refs[ref.name] = img.digest;
    this.save();
    const durationMs = this.clock.now() - started;
    this.log(`pulled ${ref.name} (${img.digest}) in ${durationMs} ms, ${bytes} bytes fetched`);
    return { image: img, bytes, durationMs, pulled: bytes > 0 || !existing };
  }

  /** Fetches config and missing layers, builds the missing chains in order, records the image. */
  private async materialise(ref: ImageRef, r: ResolvedManifest, credentials: RegistryCredentials | undefined, signal: AbortSignal, counted: (n: number) => void): Promise<StoredImage> {
    const m = r.manifest;
    counted(await this.ensureBlob(ref, m.config, credentials, signal));
    const configJson = parseConfig(ref, await readFile(this.blobPath(m.config.digest), 'utf8')) as {
      config?: { Entrypoint?: string[] | null; Cmd?: string[] | null; Env?: string[] | null; WorkingDir?: string; User?: string };
      rootfs?: { diff_ids?: string[] };
    };
    const diffIds = configJson.rootfs?.diff_ids ?? [];
    if (diffIds.length !== m.layers.length || diffIds.some((d) => !/^sha256:[a-f0-9]{64}$/.test(d))) {
      throw new ImagePullError('invalid', `${ref.name}: the config lists ${diffIds.length} diff ids for ${m.layers.length} layers`);
    }
    const chains = chainIds(diffIds);
    for (const c of chains) this.building.set(c, (this.building.get(c) ?? 0) + 1);
    try {
      // Chains are built bottom up, so the highest complete one says what is left to do.
      let done = -1;
      for (let i = chains.length - 1; i >= 0; i--) {
        if (await this.backend.has(chains[i]!)) {
          done = i;
          break;
        }
      }
      const todo = m.layers.slice(done + 1);
      // Downloads run up to PARALLEL_BLOBS ahead of the layer being applied; a failure stops the rest.
      const inner = new AbortController();
      const stop = (): void => inner.abort(signal.reason);
      signal.addEventListener('abort', stop, { once: true });
      const downloads = new Map<string, Promise<void>>();
      let next = 0;
      let built = 0;
      const startMore = (): void => {
        while (next < todo.length && next < built + PARALLEL_BLOBS) {
          const d = todo[next++]!;
          if (downloads.has(d.digest)) continue;
          const p = this.ensureBlob(ref, d, credentials, inner.signal).then(counted);
          p.catch(() => {});
          downloads.set(d.digest, p);
        }
      };
      try {
        startMore();
        for (let i = done + 1; i < chains.length; i++) {
          const layer = m.layers[i]!;
          await downloads.get(layer.digest);
          signal.throwIfAborted();
          await this.buildChain(chains[i]!, i > 0 ? chains[i - 1] : undefined, signal, async () => {
            const got = await uncompressedDigest(this.blobPath(layer.digest), signal).catch((e: unknown) => {
              if (signal.aborted) throw signal.reason;
              throw new ImagePullError('invalid', `${ref.name}: layer ${layer.digest} cannot be decompressed: ${(e as Error).message}`);
            });
            if (got !== diffIds[i]) throw new ImagePullError('digest-mismatch', `${ref.name}: layer ${layer.digest} unpacks to ${got}, but the image config says ${diffIds[i]}`);
            this.log(`applying layer ${i + 1}/${chains.length} ${layer.digest} of ${ref.name}`);
            return this.blobPath(layer.digest);
          });
          built++;
          startMore();
        }
      } catch (e) {
        inner.abort(e);
        await Promise.allSettled(downloads.values());
        throw e;
      } finally {
        signal.removeEventListener('abort', stop);
      }
      const c = configJson.config ?? {};
      const config: ImageConfig = {
        ...(c.Entrypoint ? { entrypoint: c.Entrypoint } : {}),
        ...(c.Cmd ? { cmd: c.Cmd } : {}),
        ...(c.Env ? { env: c.Env } : {}),
        ...(c.WorkingDir ? { workingDir: c.WorkingDir } : {}),
        ...(c.User ? { user: c.User } : {}),
      };
      const image: StoredImage = {
        ref: ref.name,
        refs: [ref.name],
        digest: r.digest,
        imageID: digestRef(ref, r.digest),
        manifestDigest: r.manifestDigest,
        configDigest: m.config.digest,
        config,
        size: m.config.size + m.layers.reduce((s, l) => s + l.size, 0),
        layers: m.layers.map((l) => l.digest),
        chains,
        top: chains.at(-1) ?? '',
        lastUsed: this.clock.now(),
      };
      if (!image.top) throw new ImagePullError('invalid', `${ref.name}: an image without layers`);
      this.reload();
      this.index.images[image.digest] = image;
      this.save();
      return image;
    } finally {
      for (const c of chains) {
        const n = (this.building.get(c) ?? 1) - 1;
        if (n > 0) this.building.set(c, n);
        else this.building.delete(c);
      }
    }
  }

  blobPath(digest: string): string {
    return join(this.dir, 'blobs', 'sha256', hexOf(digest));
  }

  /** Builds a chain unless another pull is building it (then waits for that) or it is complete. */
  /** `prepare` verifies the layer (diff id) and returns its blob path; it runs only when the chain is really built. */
  private async buildChain(chainId: string, parent: string | undefined, signal: AbortSignal, prepare: () => Promise<string>): Promise<void> {
    for (;;) {
      const running = this.chainBuilds.get(chainId);
      if (!running) break;
      await running.catch(() => {});
    }
    // Set synchronously after the wait: a second waiter sees this build, not a gap.
    const p = (async () => {
      if (await this.backend.has(chainId)) return;
      const layer = await prepare();
      try {
        await this.backend.build(chainId, parent, layer, signal);
      } catch (e) {
        if (signal.aborted || e instanceof ImagePullError) throw e;
        // tar, cp or zfs failed (a corrupt layer, a full disk): still a failed pull for the pod.
        throw new ImagePullError('invalid', `cannot apply layer ${layer.slice(layer.lastIndexOf('/') + 1)} (chain ${chainId}): ${(e as Error).message}`);
      }
    })().finally(() => this.chainBuilds.delete(chainId));
    this.chainBuilds.set(chainId, p);
    await p;
  }

  /** A verified blob on disk, one download per digest at a time; returns the bytes this call fetched. */
  private async ensureBlob(ref: ImageRef, d: Descriptor, credentials: RegistryCredentials | undefined, signal: AbortSignal): Promise<number> {
    for (;;) {
      const running = this.blobFetches.get(d.digest);
      if (!running) break;
      await running.catch(() => {});
    }
    const p = this.fetchBlobOnce(ref, d, credentials, signal).finally(() => this.blobFetches.delete(d.digest));
    this.blobFetches.set(d.digest, p);
    return p;
  }

  private async fetchBlobOnce(ref: ImageRef, d: Descriptor, credentials: RegistryCredentials | undefined, signal: AbortSignal): Promise<number> {
    const final = this.blobPath(d.digest);
    if (existsSync(final)) return 0;
    const partial = join(this.dir, 'ingest', hexOf(d.digest));
    const resumed = existsSync(partial);
    try {
      return await this.client.fetchBlob(ref, d, partial, final, { credentials, signal });
    } catch (e) {
      // A resumed file whose old bytes were bad (a torn write): fetchBlob deleted it; one fresh try.
      if (!(resumed && e instanceof ImagePullError && e.kind === 'digest-mismatch')) throw e;
      this.log(`blob ${d.digest} of ${ref.name} failed verification after a resume; fetching it whole`);
      return this.client.fetchBlob(ref, d, partial, final, { credentials, signal });
    }
  }

  /** Removes every image no pod uses, then the chains and blobs nothing else references. */
  async prune(): Promise<StoredImage[]> {
    this.reload();
    const unused = Object.values(this.index.images).filter((i) => this.usersOf(i.digest).length === 0);
    return this.remove(unused);
  }

  /**
   * Removes unused images, least recently used first, until their sizes add up to `bytesNeeded`
   * (the agent's free-space threshold). Returns what it removed.
   */
  async pruneLru(bytesNeeded: number): Promise<StoredImage[]> {
    this.reload();
    const unused = Object.values(this.index.images).filter((i) => this.usersOf(i.digest).length === 0).sort((a, b) => a.lastUsed - b.lastUsed);
    const pick: StoredImage[] = [];
    let freed = 0;
    for (const img of unused) {
      if (freed >= bytesNeeded) break;
      pick.push(img);
      freed += img.size;
    }
    return this.remove(pick);
  }

  private async remove(images: StoredImage[]): Promise<StoredImage[]> {
    if (images.length === 0) return [];
    for (const img of images) {
      delete this.index.images[img.digest];
      for (const [name, d] of Object.entries(this.index.refs)) if (d === img.digest) delete this.index.refs[name];
    }
    this.save();
    const keptChains = new Set<string>([...this.building.keys()]);
    const keptBlobs = new Set<string>();
    for (const img of Object.values(this.index.images)) {
      for (const c of img.chains) keptChains.add(c);
      for (const b of [...img.layers, img.configDigest]) keptBlobs.add(b);
    }
    for (const img of images) {
      // Top down: on ZFS a chain's dataset is the origin of the one above it.
      for (const c of [...img.chains].reverse()) {
        if (keptChains.has(c)) continue;
        keptChains.add(c);
        await this.backend.remove(c);
      }
      for (const b of [...img.layers, img.configDigest]) if (!keptBlobs.has(b)) await rm(this.blobPath(b), { force: true });
      this.log(`removed image ${img.ref} (${img.digest})`);
    }
    return images;
  }

  private usersOf(digest: string): string[] {
    return Object.entries(this.index.users).filter(([, ds]) => ds.includes(digest)).map(([u]) => u).sort();
  }

  private touch(digest: string): void {
    this.reload();
    const img = this.index.images[digest];
    if (!img) return;
    img.lastUsed = this.clock.now();
    this.save();
  }

  /** Re-reads the index (the CLI may have pruned in another process). */
  private reload(): void {
    const path = join(this.dir, 'index.json');
    try {
      const next = JSON.parse(readFileSync(path, 'utf8')) as IndexFile;
      next.backend = this.backend.config;
      this.index = next;
    } catch {
      // keep what we have: the file is only ever replaced whole
    }
  }

  private save(): void {
    const path = join(this.dir, 'index.json');
    const tmp = `${path}.${process.pid}.tmp`;
    const fd = openSync(tmp, 'w', 0o600);
    try {
      writeSync(fd, JSON.stringify(this.index, null, 1));
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, path);
  }
}

function parseConfig(ref: ImageRef, text: string): unknown {
  try {
    const j = JSON.parse(text) as unknown;
    if (j && typeof j === 'object') return j;
  } catch {
    // fall through
  }
  throw new ImagePullError('invalid', `${ref.name}: the image config is not a JSON object`);
}

function credentialsFor(ref: ImageRef, c: PullOptions['credentials']): RegistryCredentials | undefined {
  if (!c) return undefined;
  return typeof c === 'function' ? c(ref.registry) : c;
}
