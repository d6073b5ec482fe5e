// The storage engine: where zone roots, images and persistent volumes live (SPEC §5.9). ZFS on
// illumos (through the illumos/zfs.ts wrappers), an in-memory set of names elsewhere.
import type { CommandRunner } from './illumos/command.ts';
import { CommandError } from './illumos/command.ts';
import { createDataset, destroyDataset, listDatasets, snapshot } from './illumos/zfs.ts';

/** The datasets of `--storage-pool` and its overrides. */
export interface StoragePoolConfig {
  pool: string;
  zonesDataset: string;
  imagesDataset: string;
  volumesDataset: string;
}

/** The flags that make a StoragePoolConfig. */
export interface StorageFlags {
  pool?: string;
  zonesDataset?: string;
  imagesDataset?: string;
  volumesDataset?: string;
}

/** `--storage-pool` default. */
export const DEFAULT_STORAGE_POOL = 'rpool';

/** A storage flag that is not a ZFS dataset name. */
export class InvalidDatasetName extends Error {
  constructor(readonly flag: string, readonly value: string) {
    super(`${flag}: "${value}" is not a valid ZFS dataset name`);
    this.name = 'InvalidDatasetName';
  }
}

const DATASET_RE = /^[A-Za-z][A-Za-z0-9_.:-]*(\/[A-Za-z0-9_.:-]+)*$/;

/**
 * `{pool}/zones`, `{pool}/images`, `{pool}/volumes`, each overridable by its full dataset name.
 * @example storagePoolConfig({ pool: 'tank' }).zonesDataset // 'tank/zones'
 */
export function storagePoolConfig(f: StorageFlags = {}): StoragePoolConfig {
  const pool = f.pool || DEFAULT_STORAGE_POOL;
  const c: StoragePoolConfig = {
    pool,
    zonesDataset: f.zonesDataset || `${pool}/zones`,
    imagesDataset: f.imagesDataset || `${pool}/images`,
    volumesDataset: f.volumesDataset || `${pool}/volumes`,
  };
  const flags: [string, string][] = [['--storage-pool', c.pool], ['--zones-dataset', c.zonesDataset], ['--images-dataset', c.imagesDataset], ['--volumes-dataset', c.volumesDataset]];
  for (const [flag, v] of flags) if (!DATASET_RE.test(v)) throw new InvalidDatasetName(flag, v);
  return c;
}

/** Zone roots default to the zones dataset's mountpoint. */
export const defaultZonepathPrefix = (c: StoragePoolConfig): string => `/${c.zonesDataset}`;

export interface Volume {
  name: string;
  dataset: string;
  quota?: string;
}

/** Storage for zones and volumes. */
export interface StorageEngine {
  readonly config: StoragePoolConfig;
  /** Creates the base datasets that are missing (at agent start). */
  initialize(): Promise<void>;
  zoneDataset(zone: string): string;
  volumeDataset(name: string): string;
  /** Creates the zone's dataset (optionally with a quota and mountpoint); 'exists' when it was there. */
  createZoneDataset(zone: string, opts?: { quota?: string; mountpoint?: string; signal?: AbortSignal }): Promise<'created' | 'exists'>;
  destroyZoneDataset(zone: string, signal?: AbortSignal): Promise<'destroyed' | 'absent'>;
  createSnapshot(dataset: string, name: string): Promise<void>;
  /** A persistent volume: outlives the pods that use it. */
  createVolume(name: string, quota?: string): Promise<'created' | 'exists'>;
  destroyVolume(name: string): Promise<'destroyed' | 'absent'>;
  listVolumes(): Promise<Volume[]>;
}

/** Base datasets could not be created; names the dataset (SPEC §5.9 wording). */
export class StorageInitFailed extends Error {
  constructor(readonly dataset: string, cause: unknown) {
    const why = cause instanceof CommandError ? cause.stderr.trim() || cause.message : cause instanceof Error ? cause.message : String(cause);
    super(`Storage initialization failed: Failed to create dataset '${dataset}': ${why}`, { cause });
    this.name = 'StorageInitFailed';
  }
}

/** ZFS datasets through zfs(8). */
export class ZfsStorageEngine implements StorageEngine {
  constructor(private readonly runner: CommandRunner, readonly config: StoragePoolConfig) {}

  async initialize(): Promise<void> {
    for (const ds of [this.config.zonesDataset, this.config.imagesDataset, this.config.volumesDataset]) {
      try {
        await createDataset(this.runner, ds, { parents: true });
      } catch (e) {
        throw new StorageInitFailed(ds, e);
      }
    }
  }

  zoneDataset(zone: string): string {
    return `${this.config.zonesDataset}/${zone}`;
  }

  volumeDataset(name: string): string {
    return `${this.config.volumesDataset}/${name}`;
  }

  createZoneDataset(zone: string, opts: { quota?: string; mountpoint?: string; signal?: AbortSignal } = {}): Promise<'created' | 'exists'> {
    const props: Record<string, string> = {};
    if (opts.mountpoint) props['mountpoint'] = opts.mountpoint;
    if (opts.quota) props['quota'] = opts.quota;
    return createDataset(this.runner, this.zoneDataset(zone), { props, ...(opts.signal ? { signal: opts.signal } : {}) });
  }

  destroyZoneDataset(zone: string, signal?: AbortSignal): Promise<'destroyed' | 'absent'> {
    return destroyDataset(this.runner, this.zoneDataset(zone), signal);
  }

  createSnapshot(dataset: string, name: string): Promise<void> {
    return snapshot(this.runner, dataset, name);
  }

  createVolume(name: string, quota?: string): Promise<'created' | 'exists'> {
    return createDataset(this.runner, this.volumeDataset(name), { props: quota ? { quota } : {} });
  }

  destroyVolume(name: string): Promise<'destroyed' | 'absent'> {
    return destroyDataset(this.runner, this.volumeDataset(name));
  }

  async listVolumes(): Promise<Volume[]> {
    const prefix = `${this.config.volumesDataset}/`;
    const rows = await listDatasets(this.runner, this.config.volumesDataset, ['name', 'quota'], { recursive: true });
    return rows.filter((r) => r['name']?.startsWith(prefix)).map((r) => {
      const v: Volume = { name: (r['name'] ?? '').slice(prefix.length), dataset: r['name'] ?? '' };
      if (r['quota'] && r['quota'] !== 'none' && r['quota'] !== '-') v.quota = r['quota'];
      return v;
    });
  }
}

/** Dataset names in memory, for hosts without ZFS (SPEC §5.9's mock engine). */
export class MockStorageEngine implements StorageEngine {
  private readonly names = new Map<string, string | undefined>();
  constructor(readonly config: StoragePoolConfig) {}

  async initialize(): Promise<void> {
    for (const ds of [this.config.zonesDataset, this.config.imagesDataset, this.config.volumesDataset]) if (!this.names.has(ds)) this.names.set(ds, undefined);
  }

  zoneDataset(zone: string): string {
    return `${this.config.zonesDataset}/${zone}`;
  }

  volumeDataset(name: string): string {
    return `${this.config.volumesDataset}/${name}`;
  }

  async createZoneDataset(zone: string, opts: { quota?: string } = {}): Promise<'created' | 'exists'> {
    return this.add(this.zoneDataset(zone), opts.quota);
  }

  async destroyZoneDataset(zone: string): Promise<'destroyed' | 'absent'> {
    return this.names.delete(this.zoneDataset(zone)) ? 'destroyed' : 'absent';
  }

  async createSnapshot(): Promise<void> {}

  async createVolume(name: string, quota?: string): Promise<'created' | 'exists'> {
    return this.add(this.volumeDataset(name), quota);
  }

  async destroyVolume(name: string): Promise<'destroyed' | 'absent'> {
    return this.names.delete(this.volumeDataset(name)) ? 'destroyed' : 'absent';
  }

  async listVolumes(): Promise<Volume[]> {
    const prefix = `${this.config.volumesDataset}/`;
    return [...this.names].filter(([n]) => n.startsWith(prefix)).sort().map(([dataset, quota]) => ({ name: dataset.slice(prefix.length), dataset, ...(quota ? { quota } : {}) }));
  }

  /** Every dataset name, sorted. */
  datasets(): string[] {
    return [...this.names.keys()].sort();
  }

  private add(ds: string, quota: string | undefined): 'created' | 'exists' {
    if (this.names.has(ds)) return 'exists';
    this.names.set(ds, quota);
    return 'created';
  }
}
