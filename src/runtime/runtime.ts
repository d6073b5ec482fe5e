// The ZoneRuntime seam: what the pod actors ask of a host. `illumos` drives zonecfg/zoneadm/
// dladm/zfs; `mock` keeps zones in a file for hosts that are not illumos (and for tests).

/** Zone states as `zoneadm list -p` prints them, plus `absent` for a zone that does not exist. */
export type ZoneState = 'configured' | 'incomplete' | 'installed' | 'ready' | 'running' | 'shutting_down' | 'down' | 'absent';

/** The brands a pod's zone may have (src/api/model/brands.ts POD_BRANDS). */
export type ZoneBrand = 'lx' | 'sparse' | 'lipkg' | 'pkgsrc' | 'ipkg' | 'nlipkg' | 'joyent' | 'joyent-minimal';

/** The image a container runs from, as the image store holds it. */
export interface ContainerImage {
  /** The reference the pod names (`nginx:1.27`). */
  ref: string;
  /** The manifest digest (`sha256:…`): containerStatuses[].imageID. */
  digest: string;
  /** The layer chain id of its top layer: what a container root is cloned from. */
  top: string;
}

/**
 * One container as the zone's supervisor runs it, resolved from the pod and its image
 * (Entrypoint/Cmd vs command/args, Env vs env, WorkingDir, User).
 */
export interface RuntimeContainer {
  name: string;
  /** Absent: the container runs on the zone's own userland (native brands without an image). */
  image?: ContainerImage;
  /** Passed to execve exactly. */
  argv: string[];
  env: [string, string][];
  cwd: string;
  uid: number;
  gid: number;
}

/** One exit, as lastState.terminated shows it. */
export interface TerminationRecord {
  exitCode: number;
  signal: number;
  startedAt: string;
  finishedAt: string;
  reason: string;
}

/** What the zone supervisor reports of one container: its status.json. */
export interface ContainerRuntimeStatus {
  name: string;
  /** Starts so far minus one (the log file `<instance>.log`). */
  instance: number;
  restartCount: number;
  state: 'running' | 'waiting' | 'terminated';
  /** waiting: CrashLoopBackOff, NetworkNotReady …; terminated: Completed | Error. */
  reason?: string;
  message?: string;
  pid?: number;
  startedAt?: string;
  finishedAt?: string;
  exitCode?: number;
  signal?: number;
  last: TerminationRecord | null;
}

export interface ZoneNetwork {
  /** The VNIC created for this pod (dladm link-name rules). */
  vnic: string;
  /** The etherstub or physical link the VNIC sits on. */
  link: string;
  ip: string;
  prefixLen: number;
  gateway: string;
}

/** Everything needed to build one pod's zone, derived from the pod by src/agent. */
export interface ZoneSpec {
  /** `<namespace>/<name>` of the pod, for messages and IPAM. */
  pod: string;
  uid: string;
  zoneName: string;
  brand: ZoneBrand;
  zonepath: string;
  /** lx only: the image to install from. */
  imagePath?: string;
  network: ZoneNetwork;
  restartPolicy: 'Always' | 'OnFailure' | 'Never';
  /** Run one by one to completion before the containers. */
  initContainers: RuntimeContainer[];
  containers: RuntimeContainer[];
  cpuCapMillis?: number;
  memoryCapBytes?: number;
  /** Quota of the pod's dataset, e.g. `10G`. */
  quota?: string;
}

export interface ZoneStatus {
  zoneName: string;
  state: ZoneState;
  zoneId?: number;
}

/** What deprovisioning could not remove; it carries on past each failure. */
export interface DeprovisionReport {
  problems: string[];
}

export interface ZoneRuntime {
  readonly kind: 'mock' | 'illumos';
  /**
   * Creates the dataset, VNIC and zone, installs and boots it. Each step is undone when a later
   * one fails (or the signal aborts), so a failed provision leaves nothing behind.
   */
  provision(spec: ZoneSpec, signal?: AbortSignal): Promise<ZoneStatus>;
  /** The zone's state; `absent` when it does not exist (never an error). */
  state(zoneName: string): Promise<ZoneState>;
  /** Boots an installed zone again (after a crash). */
  boot(zoneName: string, signal?: AbortSignal): Promise<ZoneStatus>;
  /** Graceful shutdown; resolves when the zone is down. */
  shutdown(zoneName: string, signal?: AbortSignal): Promise<void>;
  /** Forced halt. */
  halt(zoneName: string, signal?: AbortSignal): Promise<void>;
  /** Removes zone, dataset and VNIC, continuing past individual failures. */
  deprovision(spec: ZoneSpec, signal?: AbortSignal): Promise<DeprovisionReport>;
  /** Every zone this runtime manages, with its state. */
  list(): Promise<ZoneStatus[]>;
  /** What the zone's supervisor reports of each container that has started; [] when none has (or no supervisor runs). */
  containerStatuses(spec: ZoneSpec): Promise<ContainerRuntimeStatus[]>;
  /** SIGTERM to every container of a running zone, SIGKILL after `graceSec`; resolves once they have all exited. */
  stopContainers(spec: ZoneSpec, graceSec: number, signal?: AbortSignal): Promise<void>;
  /** Restarts one container on its (new) definition, e.g. a new image: TERM, KILL after the grace, start again. */
  restartContainer(spec: ZoneSpec, container: RuntimeContainer, graceSec: number, signal?: AbortSignal): Promise<void>;
  /**
   * Host directory of a container's CRI logs (`<instance>.log` and rotations, laid out as supervisor/bundle.ts says):
   * `<zonepath>/root/.reddwarf/logs/<container>` on illumos; the mock keeps its own.
   */
  logDir(zoneName: string, container: string): string;
}

/** The directory under a zone root that reddwarf owns (the pod bundle: supervisor/bundle.ts). */
export const BUNDLE_DIR = '.reddwarf';
