// IllumosRuntime: the ZoneRuntime of illumos hosts. Each step is one wrapper call (zfs, dladm,
// zonecfg, zoneadm) through a CommandRunner; provisioning undoes itself on failure and
// deprovisioning carries on past failures (upstream leaked both ways: SPEC §5.6, §11.6).
import { InvalidZoneTransition, ZoneAlreadyExists, ZoneError, ZoneNotFound } from '../errors.ts';
import { join } from 'node:path';
import { BUNDLE_DIR, type DeprovisionReport, type ZoneRuntime, type ZoneSpec, type ZoneState, type ZoneStatus } from '../runtime.ts';
import { carryOn, runWithRollback, type ZoneStep } from '../steps.ts';
import type { StorageEngine } from '../storage.ts';
import { assertZoneSpec } from '../zonespec.ts';
import { CommandError, firstLine, type CommandRunner } from './command.ts';
import { createEtherstub, createVnic, deleteVnic, showLink } from './dladm.ts';
import { createIf, createStaticAddr, showAddr } from './ipadm.ts';
import { configureZone, deleteZoneConfig, OWNER_ATTR, zoneAttrs, zonecfgText } from './zonecfg.ts';
import { listZones, NO_SUCH_ZONE, zoneadm, zoneEntry, type ZoneadmEntry, type ZoneadmVerb } from './zoneadm.ts';
import { zlogin, type ExecResult } from './zlogin.ts';

/** The link pod VNICs sit on: an etherstub the runtime creates, or a physical NIC (`--direct-nic`). */
export type PodLink = { kind: 'etherstub'; name: string } | { kind: 'direct'; name: string };

export interface IllumosRuntimeOptions {
  runner: CommandRunner;
  storage: StorageEngine;
  link: PodLink;
  /** The pods' gateway, configured on a host VNIC over the etherstub at initialize(). */
  gateway?: { ip: string; prefixLen: number };
  /** Parent directory of zonepaths (`--zonepath-prefix`); default: the zone dataset's default mountpoint. */
  zonepathPrefix?: string;
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
          await this.cmd(z, () => configureZone(this.runner, z, zonecfgText(spec, { datasets: volumes }), s));
          state = 'configured';
        },
        undo: () => this.removeConfig(z),
      },
      {
        name: 'install',
        run: async (s) => {
          if (state !== 'configured' && state !== 'incomplete') return;
          await this.verb(z, 'install', s, spec.brand === 'lx' ? spec.imagePath : undefined);
          state = 'installed';
        },
        undo: () => this.verb(z, 'uninstall'),
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
    await this.verb(zoneName, 'shutdown', signal);
  }

  async halt(zoneName: string, signal?: AbortSignal): Promise<void> {
    const from = await this.mustState(zoneName, signal);
    if (!BOOTED.includes(from)) throw new InvalidZoneTransition(zoneName, from, 'installed');
    await this.verb(zoneName, 'halt', signal);
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
