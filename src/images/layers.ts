// Layer chains: one directory (no ZFS) or one dataset (ZFS, as SmartOS imgadm keeps them) per OCI
// chain id, each built from its parent's content plus one layer, so shared layers are stored once.
// A chain is complete only when its final step ran (dir renamed into place / `@final` snapshot), so
// a half-applied chain found after a crash is deleted and built again.
import { createHash } from 'node:crypto';
import { execFile } from 'node:child_process';
import { mkdir, readdir, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { run, SLOW_TIMEOUT_MS, type CommandRunner } from '../runtime/illumos/command.ts';
import { cloneDataset, createDataset, destroyDataset, listDatasets, snapshot } from '../runtime/illumos/zfs.ts';
import { LayerApplier } from './tar.ts';

const execFileP = promisify(execFile);

/** OCI chain ids: chain(L0) = diff(L0); chain(Ln) = sha256(chain(Ln-1) + " " + diff(Ln)). */
export function chainIds(diffIds: string[]): string[] {
  const out: string[] = [];
  for (const d of diffIds) {
    const prev = out.at(-1);
    out.push(prev === undefined ? d : `sha256:${createHash('sha256').update(`${prev} ${d}`).digest('hex')}`);
  }
  return out;
}

/** Where a pod/container root made from an image goes. */
export interface CloneTarget {
  /** Host directory of the new root (for ZFS: its mountpoint). */
  path: string;
  /** ZFS: the dataset to create as a clone. */
  dataset?: string;
}

/** How a backend is reopened (kept in the store's index so `reddwarf images` finds it). */
export type BackendConfig = { kind: 'dir'; root: string } | { kind: 'zfs'; dataset: string };

/** One directory or dataset per layer chain. */
export interface LayerBackend {
  readonly config: BackendConfig;
  /** Creates what the backend needs (root dir, images dataset). */
  init(): Promise<void>;
  /** Whether chain `chainId` is complete. */
  has(chainId: string): Promise<boolean>;
  /** Builds `chainId` = `parent` (undefined for a base layer) + the layer tarball; a leftover half-built chain is removed first. */
  build(chainId: string, parent: string | undefined, layer: string, signal?: AbortSignal): Promise<void>;
  /** Removes a chain (children first: the store removes chains top down). */
  remove(chainId: string): Promise<void>;
  /** The complete chains present. */
  list(): Promise<string[]>;
  /** The chain's snapshot name (ZFS `<ds>/<id>@final`) or directory (dir). */
  snapshot(chainId: string): string;
  /** Host directory holding the chain's files. */
  path(chainId: string): Promise<string>;
  /** A new root from a chain: `zfs clone` (no copy) or `cp -a`. */
  clone(chainId: string, target: CloneTarget, signal?: AbortSignal): Promise<void>;
}

const hexOf = (chainId: string): string => chainId.replace(/^sha256:/, '');

/** Hosts without ZFS: `<root>/<chain hex>`, built in `<hex>.partial` and renamed when complete. */
export class DirLayerBackend implements LayerBackend {
  readonly config: BackendConfig;

  constructor(private readonly root: string, private readonly applier = new LayerApplier()) {
    this.config = { kind: 'dir', root };
  }

  async init(): Promise<void> {
    await mkdir(this.root, { recursive: true });
  }

  private dir(chainId: string): string {
    return join(this.root, hexOf(chainId));
  }

  async has(chainId: string): Promise<boolean> {
    try {
      return (await stat(this.dir(chainId))).isDirectory();
    } catch {
      return false;
    }
  }

  async build(chainId: string, parent: string | undefined, layer: string, signal?: AbortSignal): Promise<void> {
    const final = this.dir(chainId);
    const work = `${final}.partial`;
    await rm(work, { recursive: true, force: true });
    if (parent) await copyTree(this.dir(parent), work, signal);
    else await mkdir(work, { mode: 0o755 });
    await this.applier.apply(layer, work, signal);
    await rename(work, final);
  }

  async remove(chainId: string): Promise<void> {
    await rm(this.dir(chainId), { recursive: true, force: true });
    await rm(`${this.dir(chainId)}.partial`, { recursive: true, force: true });
  }

  async list(): Promise<string[]> {
    const names = await readdir(this.root).catch(() => [] as string[]);
    return names.filter((n) => /^[a-f0-9]{64}$/.test(n)).map((n) => `sha256:${n}`);
  }

  snapshot(chainId: string): string {
    return this.dir(chainId);
  }

  async path(chainId: string): Promise<string> {
    return this.dir(chainId);
  }

  async clone(chainId: string, target: CloneTarget, signal?: AbortSignal): Promise<void> {
    await copyTree(this.dir(chainId), target.path, signal);
  }
}

/** `cp -a src/. dst` (dst created): ownership, modes, links and times kept. */
async function copyTree(src: string, dst: string, signal?: AbortSignal): Promise<void> {
  await mkdir(dst, { recursive: true });
  await execFileP('cp', ['-a', `${src}/.`, dst], { timeout: SLOW_TIMEOUT_MS, ...(signal ? { signal } : {}) });
}

/** ZFS: dataset `<images>/<chain hex prefix>`, a clone of its parent's `@final`, snapshotted `@final` when complete. */
export class ZfsLayerBackend implements LayerBackend {
  readonly config: BackendConfig;
  private readonly applier: LayerApplier;

  constructor(private readonly runner: CommandRunner, private readonly dataset: string, applier?: LayerApplier) {
    this.config = { kind: 'zfs', dataset };
    this.applier = applier ?? new LayerApplier(runner);
  }

  /** Dataset of a chain: 32 hex digits of its id (128 bits) keep names and mountpoints short. */
  datasetOf(chainId: string): string {
    return `${this.dataset}/${hexOf(chainId).slice(0, 32)}`;
  }

  async init(): Promise<void> {
    await createDataset(this.runner, this.dataset, { parents: true });
  }

  async has(chainId: string): Promise<boolean> {
    return (await listDatasets(this.runner, this.snapshot(chainId), ['name'])).length > 0;
  }

  async build(chainId: string, parent: string | undefined, layer: string, signal?: AbortSignal): Promise<void> {
    const ds = this.datasetOf(chainId);
    // A dataset without @final is a build that died half way: never reuse it.
    await destroyDataset(this.runner, ds, signal);
    if (parent) await cloneDataset(this.runner, this.snapshot(parent), ds);
    else await createDataset(this.runner, ds, signal ? { signal } : {});
    await this.applier.apply(layer, await this.path(chainId), signal);
    await snapshot(this.runner, ds, 'final');
  }

  async remove(chainId: string): Promise<void> {
    await destroyDataset(this.runner, this.datasetOf(chainId));
  }

  async list(): Promise<string[]> {
    // Only the 32-digit prefix is in the name: the store maps prefixes back to chain ids.
    const rows = await listDatasets(this.runner, this.dataset, ['name'], { recursive: true });
    return rows.map((r) => r['name'] ?? '').filter((n) => n.startsWith(`${this.dataset}/`) && !n.includes('@')).map((n) => n.slice(this.dataset.length + 1));
  }

  snapshot(chainId: string): string {
    return `${this.datasetOf(chainId)}@final`;
  }

  async path(chainId: string): Promise<string> {
    const r = await run(this.runner, ['zfs', 'get', '-H', '-o', 'value', 'mountpoint', this.datasetOf(chainId)]);
    return r.stdout.trim();
  }

  async clone(chainId: string, target: CloneTarget, signal?: AbortSignal): Promise<void> {
    if (!target.dataset) throw new Error(`ZfsLayerBackend.clone(${chainId}): a dataset is needed`);
    signal?.throwIfAborted();
    await cloneDataset(this.runner, this.snapshot(chainId), target.dataset, { mountpoint: target.path });
  }
}

/** Reopens the backend an index names (dir, or ZFS through `runner`). */
export function backendFromConfig(c: BackendConfig, runner?: CommandRunner): LayerBackend {
  if (c.kind === 'dir') return new DirLayerBackend(c.root);
  if (!runner) throw new Error(`the image store is on ZFS (${c.dataset}): a command runner is needed`);
  return new ZfsLayerBackend(runner, c.dataset);
}
