// IllumosRuntime: the ZoneRuntime of illumos hosts. Each step is one wrapper call (zfs, dladm,
// zonecfg, zoneadm) through a CommandRunner; provisioning undoes itself on failure and
// deprovisioning carries on past failures (upstream leaked both ways: SPEC §5.6, §11.6).
import { chmod, chown, stat } from 'node:fs/promises';
import { InvalidZoneTransition, ZoneAlreadyExists, ZoneError, ZoneNotFound } from '../errors.ts';
import { BUNDLE_DIR, type ContainerRuntimeStatus, type DeprovisionReport, type RuntimeContainer, type ZoneRuntime, type ZoneSpec, type ZoneState, type ZoneStatus } from '../runtime.ts';
import { readStatuses, requestRestart, requestStop, writeBundle, writeContainer, type Bundle, type BundleContainer } from '../supervisor/bundle.ts';
import { join } from 'node:path';
import { carryOn, runWithRollback, type ZoneStep } from '../steps.ts';
import type { StorageEngine } from '../storage.ts';
import { assertZoneSpec } from '../zonespec.ts';
import { CommandError, firstLine, type CommandRunner } from './command.ts';
import { createEtherstub, createVnic, deleteVnic, showLink } from './dladm.ts';
import { destroyDataset, listDatasets } from './zfs.ts';
import { createIf, createStaticAddr, showAddr } from './ipadm.ts';
import { configureZone, deleteZoneConfig, OWNER_ATTR, zoneAttrs, zonecfgText } from './zonecfg.ts';
import { listZones, NO_SUCH_ZONE, zoneadm, zoneEntry, type ZoneadmEntry, type ZoneadmVerb } from './zoneadm.ts';
import { zlogin, type ExecResult } from './zlogin.ts';
import { realClock, type Clock } from '../../time/clock.ts';

/** The link pod VNICs sit on: an etherstub the runtime creates, or a physical NIC (`--direct-nic`). */
export type PodLink = { kind: 'etherstub'; name: string } | { kind: 'direct'; name: string };

export interface IllumosRuntimeOptions {
  runner: CommandRunner;
  storage: StorageEngine;
  link: PodLink;
  /** The pods' gateway, configured on a host VNIC over the etherstub at initialize(). */
  gateway?: { ip: string; prefixLen: number };
  /** How containers run in zones: without it zones boot their brand's own init and run nothing of the pod's. */
  workload?: ZoneWorkload;
  /** Parent directory of zonepaths (`--zonepath-prefix`); default: the zone dataset's default mountpoint. */
  zonepathPrefix?: string;
  /** Paces the wait for stopped containers (default realClock). */
  clock?: Clock;
}

/** What the runtime needs to run a pod's containers in its zone. */
export interface ZoneWorkload {
  /**
   * The zone supervisor's binary on this host (built on first use). `lx`: the build an lx zone
   * needs on illumos (its root has no illumos ld.so.1: interpreter and libraries from /native).
   */
  supervisor(variant: 'native' | 'lx'): Promise<string>;
  /** Container roots from image layer chains: the snapshot an lx zone installs from, and clones. */
  images?: {
    snapshot(top: string): string;
    clone(top: string, target: { path: string; dataset?: string }, signal?: AbortSignal): Promise<void>;
  };
  /** The supervisor's initial restart back-off (kubelet: 10 s). */
  backoffMs: number;
  /** Container log rotation (kubelet's --container-log-max-size / --container-log-max-files). */
  logMaxBytes: number;
  logMaxFiles: number;
  /** Where the bundle goes: by default into the zone root on this host; `reddwarf plan` records it instead. */
  writeBundle?(root: string, bundle: Bundle, initBinary: string): Promise<void>;
}

/** The zone's init: the supervisor, inside the zone root. */
export const SUPERVISOR_PATH = '/.reddwarf/init';
/** How often a stop waits on the containers' statuses. */
const STOP_POLL_MS = 250;

/** Waits `ms` on `clock`; an abort ends the wait at once with the signal's reason. */
function pause(clock: Clock, ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason as Error);
    const onAbort = (): void => {
      clock.clearTimeout(timer);
      reject(signal?.reason as Error);
    };
    const timer = clock.setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** A ZoneSpec plus the persistent volumes delegated to the zone (by volume name). */
export interface IllumosZoneSpec extends ZoneSpec {
  volumes?: string[];
}

/** A tool failed during a zone operation; the message leads with the tool's own words. */
export class ZoneCommandFailed extends ZoneError {
  constructor(zoneName: string, readonly command: CommandError) {
    super(zoneName, `${firstLine(command.stderr) || `exit code ${command.exitCode}`} (${command.argv.join(' ')} exited ${command.exitCode})`, { cause: command });
  }
}

/** The link is neither there nor creatable (a `--direct-nic` that does not exist). */
export class LinkUnavailable extends Error {
  constructor(readonly link: string, why: string) {
    super(`datalink ${link}: ${why}`);
    this.name = 'LinkUnavailable';
  }
}

const BOOTED: readonly ZoneState[] = ['running', 'ready', 'shutting_down', 'down'];
/** Zones this runtime manages carry this prefix (names.ts); others on the host are left alone. */
const MANAGED_PREFIX = 'reddwarf-';

/** The host VNIC carrying the pods' gateway: a valid link name (ends with a digit) from the etherstub's. */
export function gatewayLinkName(etherstub: string): string {
  return `${etherstub.replace(/[^A-Za-z0-9_]/g, '_').slice(0, 26)}_gw0`;
}

/** Zones, datalinks and datasets of pods on an illumos host. */
export class IllumosRuntime implements ZoneRuntime {
  readonly kind = 'illumos' as const;
  private readonly runner: CommandRunner;

  constructor(private readonly o: IllumosRuntimeOptions) {
    this.runner = o.runner;
  }

  /** At agent start: base datasets, the etherstub (or a check of the physical link), the gateway. */
  async initialize(): Promise<void> {
    await this.o.storage.initialize();
    const link = this.o.link;
    if (link.kind === 'direct') {
      if (!(await showLink(this.runner, link.name))) throw new LinkUnavailable(link.name, 'no such link (--direct-nic)');
      return;
    }
    // An existing etherstub is fine (upstream ignored every failure here; we only ignore that one).
    await createEtherstub(this.runner, link.name);
    const gw = this.o.gateway;
    if (gw) {
      const vnic = gatewayLinkName(link.name);
      await createVnic(this.runner, link.name, vnic);
      await createIf(this.runner, vnic);
      if (!(await showAddr(this.runner, `${vnic}/v4`))) await createStaticAddr(this.runner, `${vnic}/v4`, `${gw.ip}/${gw.prefixLen}`);
    }
  }

  async provision(input: ZoneSpec, signal?: AbortSignal): Promise<ZoneStatus> {
    const spec = input as IllumosZoneSpec;
    assertZoneSpec(spec);
    signal?.throwIfAborted();
    const z = spec.zoneName;
    const existing = await this.entry(z, signal);
    if (existing) await this.checkOwner(spec);
    let state: ZoneState = existing?.state ?? 'absent';
    const storage = this.o.storage;
    const volumes = (spec.volumes ?? []).map((v) => storage.volumeDataset(v));
    // Each step adopts what is already there (a provision resumed after a restart); the rollback
    // removes it all the same, so a failed provision leaves nothing of this pod behind.
    await runWithRollback(z, [
      {
        name: 'dataset',
        run: (s) => this.cmd(z, async () => {
          // Volumes outlive pods: created when missing, never undone here.
          for (const v of spec.volumes ?? []) await storage.createVolume(v);
          const mountpoint = spec.zonepath === `/${storage.zoneDataset(z)}` ? undefined : spec.zonepath;
          await storage.createZoneDataset(z, { ...(spec.quota ? { quota: spec.quota } : {}), ...(mountpoint ? { mountpoint } : {}), ...(s ? { signal: s } : {}) });
          // zoneadm refuses a zonepath that is not root's with mode 0700 (validate_zonepath).
          await ownedPrivately(spec.zonepath, 0o700);
        }),
        undo: async () => void (await this.cmd(z, () => storage.destroyZoneDataset(z))),
      },
      {
        name: 'vnic',
        run: async (s) => void (await this.cmd(z, () => createVnic(this.runner, spec.network.link, spec.network.vnic, s))),
        undo: async () => void (await this.cmd(z, () => deleteVnic(this.runner, spec.network.vnic))),
      },
      {
        name: 'configure',
        run: async (s) => {
          if (state !== 'absent') return;
          await this.cmd(z, () => configureZone(this.runner, z, zonecfgText(spec, { datasets: volumes, ...(this.o.workload ? { init: SUPERVISOR_PATH } : {}) }), s));
          state = 'configured';
        },
        undo: () => this.removeConfig(z),
      },
      {
        name: 'install',
        run: async (s) => {
          if (state === 'configured' || state === 'incomplete') {
            await this.verb(z, 'install', s, spec.brand === 'lx' ? this.installSource(spec) : undefined);
            state = 'installed';
          }
          await ownedPrivately(`${spec.zonepath}/root`, 0o755);
          // Before boot: each container's root (a clone of its image) and the supervisor's bundle.
          if (state === 'installed') await this.prepareContainers(spec, s);
        },
        undo: async () => {
          await this.removeContainerRoots(z);
          await this.verb(z, 'uninstall');
        },
      },
      {
        name: 'boot',
        run: async (s) => {
          if (state === 'running') return;
          await this.verb(z, 'boot', s);
          state = 'running';
        },
        undo: () => this.verb(z, 'halt'),
      },
    ], signal);
    return this.status(z, signal);
  }

  async state(zoneName: string): Promise<ZoneState> {
    return (await this.entry(zoneName))?.state ?? 'absent';
  }

  async boot(zoneName: string, signal?: AbortSignal): Promise<ZoneStatus> {
    const from = await this.mustState(zoneName, signal);
    if (from !== 'installed' && from !== 'ready') throw new InvalidZoneTransition(zoneName, from, 'running');
    await this.verb(zoneName, 'boot', signal);
    return this.status(zoneName, signal);
  }

  async shutdown(zoneName: string, signal?: AbortSignal): Promise<void> {
    const from = await this.mustState(zoneName, signal);
    if (from !== 'running') throw new InvalidZoneTransition(zoneName, from, 'installed');
    // The supervisor is no init that runs shutdown scripts: its containers are stopped already
    // (stopContainers), so the zone is halted.
    await this.verb(zoneName, this.o.workload ? 'halt' : 'shutdown', signal);
  }

  async containerStatuses(spec: ZoneSpec): Promise<ContainerRuntimeStatus[]> {
    if (!this.o.workload) return [];
    return readStatuses(rootOf(spec));
  }

  async stopContainers(spec: ZoneSpec, graceSec: number, signal?: AbortSignal): Promise<void> {
    // The caller knows the zone runs (the agent checks before it stops containers).
    if (!this.o.workload) return;
    const root = rootOf(spec);
    await requestStop(root, graceSec);
    // The supervisor TERMs them, KILLs them after the grace; the machine halts the zone if even that hangs.
    for (;;) {
      const statuses = await readStatuses(root);
      if (statuses.every((st) => st.state !== 'running')) return;
      await pause(this.o.clock ?? realClock, STOP_POLL_MS, signal);
    }
  }

  async restartContainer(spec: ZoneSpec, container: RuntimeContainer, graceSec: number, signal?: AbortSignal): Promise<void> {
    if (!this.o.workload) throw new ZoneError(spec.zoneName, 'containers are not supervised on this host (no zone workload configured)');
    const root = rootOf(spec);
    await writeContainer(root, await this.containerRoot(spec, container, signal));
    await requestRestart(root, container.name, graceSec);
  }

  async halt(zoneName: string, signal?: AbortSignal): Promise<void> {
    const from = await this.mustState(zoneName, signal);
    if (!BOOTED.includes(from)) throw new InvalidZoneTransition(zoneName, from, 'installed');
    await this.verb(zoneName, 'halt', signal);
  }

  /** lx zones install from the first container's image (a ZFS snapshot: cloned, not copied), or the lx-image annotation's path. */
  private installSource(spec: ZoneSpec): string | undefined {
    const top = [...spec.initContainers, ...spec.containers].find((c) => c.image)?.image?.top;
    const images = this.o.workload?.images;
    return top && images ? images.snapshot(top) : spec.imagePath;
  }

  /** Clones each container's image into the zone root and writes the supervisor's bundle (idempotent). */
  private async prepareContainers(spec: ZoneSpec, signal?: AbortSignal): Promise<void> {
    const w = this.o.workload;
    if (!w) return;
    // zoneadm install made the root; never create one out of nothing (a path on the wrong filesystem).
    if (!w.writeBundle && !(await isDirectory(rootOf(spec)))) throw new ZoneError(spec.zoneName, `zone root ${rootOf(spec)} does not exist after install: is the zonepath's dataset mounted there?`);
    const toBundle = async (c: RuntimeContainer): Promise<BundleContainer> => this.containerRoot(spec, c, signal);
    const n = spec.network;
    await (w.writeBundle ?? writeBundle)(rootOf(spec), {
      // The supervisor brings the VNIC up before any container starts: no SMF runs in the zone to do it.
      network: { link: n.vnic, address: n.ip, prefixLen: n.prefixLen, gateway: n.gateway },
      restartPolicy: spec.restartPolicy,
      backoffMs: w.backoffMs,
      logMaxBytes: w.logMaxBytes,
      logMaxFiles: w.logMaxFiles,
      initContainers: await Promise.all(spec.initContainers.map(toBundle)),
      containers: await Promise.all(spec.containers.map(toBundle)),
    }, await w.supervisor(spec.brand === 'lx' ? 'lx' : 'native'));
  }

  /**
   * The bundle entry of one container; a container with an image gets its root as a clone of the
   * image's top layer chain: `<zone dataset>/c-<name>-<digest>` mounted inside the zone root.
   */
  private async containerRoot(spec: ZoneSpec, c: RuntimeContainer, signal?: AbortSignal): Promise<BundleContainer> {
    const entry = { name: c.name, argv: c.argv, env: c.env, cwd: c.cwd, uid: c.uid, gid: c.gid };
    const images = this.o.workload?.images;
    if (!c.image || !images) return { ...entry, root: '/' };
    const tag = c.image.top.replace(/^sha256:/, '').slice(0, 12);
    const inZone = `/.reddwarf/containers/${c.name}/${tag}`;
    const dataset = `${this.o.storage.zoneDataset(spec.zoneName)}/c-${c.name}-${tag}`;
    if (!(await this.childDatasets(spec.zoneName)).includes(dataset)) await images.clone(c.image.top, { path: `${rootOf(spec)}${inZone}`, dataset }, signal);
    return { ...entry, root: inZone };
  }

  /** Container roots go before `zoneadm uninstall`: their mounts sit inside the zone root. */
  private async removeContainerRoots(zoneName: string, signal?: AbortSignal): Promise<void> {
    if (!this.o.workload?.images) return;
    const parent = this.o.storage.zoneDataset(zoneName);
    for (const ds of (await this.childDatasets(zoneName)).filter((d) => d.startsWith(`${parent}/c-`))) await this.cmd(zoneName, () => destroyDataset(this.runner, ds, signal));
  }

  /** The zone dataset and its descendants (none when it does not exist). */
  private async childDatasets(zoneName: string): Promise<string[]> {
    const rows = await this.cmd(zoneName, () => listDatasets(this.runner, this.o.storage.zoneDataset(zoneName), ['name'], { recursive: true }));
    return rows.map((r) => r['name'] ?? '');
  }

  async deprovision(input: ZoneSpec, signal?: AbortSignal): Promise<DeprovisionReport> {
    const spec = input as IllumosZoneSpec;
    const z = spec.zoneName;
    const { problems, attempt } = carryOn(signal);
    let state: ZoneState = (await this.entry(z, signal))?.state ?? 'absent';
    if (state !== 'absent') {
      const owner = (await zoneAttrs(this.runner, z, signal))?.[OWNER_ATTR];
      // The name is another pod's (a newer pod of the same name): none of it is ours to remove.
      // An empty uid means the caller no longer knows the pod (orphan cleanup): it takes what is there.
      if (owner !== undefined && spec.uid !== '' && owner !== spec.uid) return { problems: [`zone ${z} belongs to pod uid ${owner}; left alone`] };
    }
    // Walk the zone down from its state; each step's outcome is known, so no state query in between.
    while (state !== 'absent') {
      const step: 'halt' | 'uninstall' | 'delete' = BOOTED.includes(state) ? 'halt' : state === 'configured' ? 'delete' : 'uninstall';
      if (step === 'uninstall') await attempt(`remove container roots of ${z}`, () => this.removeContainerRoots(z, signal));
      const ok = await attempt(`${step} zone ${z}`, () => (step === 'delete' ? this.removeConfig(z, signal) : this.verb(z, step, signal)));
      if (!ok) break;
      state = step === 'halt' ? 'installed' : step === 'uninstall' ? 'configured' : 'absent';
    }
    // Carry on past a stuck zone: the VNIC and dataset are still worth removing (upstream leaked them).
    await attempt(`delete vnic ${spec.network.vnic}`, () => this.cmd(z, () => deleteVnic(this.runner, spec.network.vnic, signal)));
    await attempt(`destroy dataset ${this.o.storage.zoneDataset(z)}`, () => this.cmd(z, () => this.o.storage.destroyZoneDataset(z, signal)));
    return { problems };
  }

  async list(): Promise<ZoneStatus[]> {
    const zones = await this.cmd('', () => listZones(this.runner));
    return zones.filter((e) => e.zoneName.startsWith(MANAGED_PREFIX)).sort((a, b) => a.zoneName.localeCompare(b.zoneName)).map(toStatus);
  }

  logDir(zoneName: string, container: string): string {
    // The zonepath the agent gives zones (zonespec.ts): `<prefix>/<zone>`, by default the dataset's mountpoint.
    const zonepath = this.o.zonepathPrefix ? join(this.o.zonepathPrefix, zoneName) : `/${this.o.storage.zoneDataset(zoneName)}`;
    return join(zonepath, 'root', BUNDLE_DIR, 'logs', container);
  }

  /** Runs `argv` in a running zone (zlogin); a non-zero exit is a result, an unknown zone an error. */
  async exec(zoneName: string, argv: string[], opts: { timeoutMs?: number; signal?: AbortSignal } = {}): Promise<ExecResult> {
    const r = await zlogin(this.runner, zoneName, argv, opts);
    if (r.exitCode !== 0 && /zlogin: .*(unknown|not running|only to running zones)/.test(r.stderr)) {
      if (/unknown/.test(r.stderr)) throw new ZoneNotFound(zoneName);
      throw new ZoneError(zoneName, `Zone operation failed for '${zoneName}': ${firstLine(r.stderr)}`);
    }
    return r;
  }

  private async entry(zoneName: string, signal?: AbortSignal): Promise<ZoneadmEntry | undefined> {
    return this.cmd(zoneName, () => zoneEntry(this.runner, zoneName, signal));
  }

  private async status(zoneName: string, signal?: AbortSignal): Promise<ZoneStatus> {
    const e = await this.entry(zoneName, signal);
    return e ? toStatus(e) : { zoneName, state: 'absent' };
  }

  private async mustState(zoneName: string, signal?: AbortSignal): Promise<ZoneState> {
    const e = await this.entry(zoneName, signal);
    if (!e) throw new ZoneNotFound(zoneName);
    return e.state;
  }

  /** A zone of this name that belongs to another pod is never adopted or undone. */
  private async checkOwner(spec: ZoneSpec): Promise<void> {
    const owner = (await this.cmd(spec.zoneName, () => zoneAttrs(this.runner, spec.zoneName)))?.[OWNER_ATTR];
    if (owner !== undefined && owner !== spec.uid) throw new ZoneAlreadyExists(spec.zoneName, owner);
  }

  private verb(zoneName: string, verb: ZoneadmVerb, signal?: AbortSignal, imagePath?: string): Promise<void> {
    return this.cmd(zoneName, () => zoneadm(this.runner, zoneName, verb, { ...(signal ? { signal } : {}), ...(imagePath ? { imagePath } : {}) }));
  }

  /** Deletes the configuration; an incomplete or installed zone is uninstalled first. */
  private async removeConfig(zoneName: string, signal?: AbortSignal): Promise<void> {
    try {
      await this.cmd(zoneName, () => deleteZoneConfig(this.runner, zoneName, signal));
    } catch (e) {
      if (!(e instanceof ZoneCommandFailed && /installed|incomplete|uninstall/.test(e.command.stderr))) throw e;
      await this.verb(zoneName, 'uninstall', signal);
      await this.cmd(zoneName, () => deleteZoneConfig(this.runner, zoneName, signal));
    }
  }

  /** Turns a CommandError into a ZoneError of this zone (ZoneNotFound for zoneadm's "no such zone"). */
  private async cmd<T>(zoneName: string, op: () => Promise<T>): Promise<T> {
    try {
      return await op();
    } catch (e) {
      if (!(e instanceof CommandError)) throw e;
      if (zoneName && NO_SUCH_ZONE.test(e.stderr)) throw new ZoneNotFound(zoneName);
      throw new ZoneCommandFailed(zoneName, e);
    }
  }
}

/** The zone root's host path. */
const rootOf = (spec: ZoneSpec): string => `${spec.zonepath}/root`;

async function isDirectory(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isDirectory();
  } catch {
    return false;
  }
}

/** Root-owned with `mode`, when the directory exists on this host (a dry run has none). */
async function ownedPrivately(path: string, mode: number): Promise<void> {
  try {
    await stat(path);
  } catch {
    return;
  }
  await chown(path, 0, 0).catch(() => {});
  await chmod(path, mode);
}

function toStatus(e: ZoneadmEntry): ZoneStatus {
  const s: ZoneStatus = { zoneName: e.zoneName, state: e.state };
  if (e.zoneId !== undefined) s.zoneId = e.zoneId;
  return s;
}

/** The verbs a fault can be injected under, as the tools name them (for simulated hosts). */
export const STEP_COMMANDS: Record<ZoneStep, string> = {
  dataset: 'zfs create',
  vnic: 'dladm create-vnic',
  configure: 'zonecfg -f',
  install: 'zoneadm install',
  boot: 'zoneadm boot',
  shutdown: 'zoneadm shutdown',
  halt: 'zoneadm halt',
  uninstall: 'zoneadm uninstall',
  delete: 'zonecfg delete',
  'vnic-delete': 'dladm delete-vnic',
  'dataset-destroy': 'zfs destroy',
};
