// The ZoneRuntime seam: what the pod actors ask of a host. `illumos` drives zonecfg/zoneadm/
// dladm/zfs; `mock` keeps zones in a file for hosts that are not illumos (and for tests).

/** Zone states as `zoneadm list -p` prints them, plus `absent` for a zone that does not exist. */
export type ZoneState = 'configured' | 'incomplete' | 'installed' | 'ready' | 'running' | 'shutting_down' | 'down' | 'absent';

/** The brands a pod's zone may have (src/scheduler/brands.ts POD_BRANDS). */
export type ZoneBrand = 'lx' | 'sparse' | 'lipkg' | 'pkgsrc' | 'ipkg' | 'nlipkg' | 'joyent' | 'joyent-minimal';

/** One container of the pod, run as a supervised process in the zone. */
export interface ZoneProcess {
  name: string;
  command: string[];
  env: [string, string][];
  workingDir?: string;
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
  processes: ZoneProcess[];
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
}
