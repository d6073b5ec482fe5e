// Builds the illumos runtime of a node agent from its flags and prepares the host (base
// datasets, etherstub or --direct-nic check, the pods' gateway): fatal when that fails.
import { parseCidr, formatIpv4 } from '../ipam.ts';
import { storagePoolConfig, ZfsStorageEngine, type StorageFlags } from '../storage.ts';
import type { CommandRunner } from './command.ts';
import { ExecRunner } from './exec.ts';
import { IllumosRuntime, type PodLink, type ZoneWorkload } from './runtime.ts';
import type { Clock } from '../../time/clock.ts';

export interface IllumosStartOptions {
  storage: StorageFlags;
  etherstub: string;
  /** Put pod VNICs on this physical link instead of the etherstub. */
  directNic?: string;
  podCidr: string;
  /** Default: the real tools through PATH. */
  runner?: CommandRunner;
  /** How pods' containers run in their zones (the supervisor, image clones). */
  workload?: ZoneWorkload;
  /** `--zonepath-prefix` (where zone roots, and so container logs, live). */
  zonepathPrefix?: string;
  /** Paces the wait for stopped containers (default realClock). */
  clock?: Clock;
}

/** The link pod VNICs sit on, from `--etherstub-name` / `--direct-nic`. */
export function podLink(o: { etherstub: string; directNic?: string }): PodLink {
  return o.directNic ? { kind: 'direct', name: o.directNic } : { kind: 'etherstub', name: o.etherstub };
}

/** The runtime, not yet initialized. */
export function illumosRuntime(o: IllumosStartOptions): IllumosRuntime {
  const runner = o.runner ?? new ExecRunner();
  const link = podLink(o);
  const cidr = parseCidr(o.podCidr);
  // On an etherstub nothing else routes for the pods: the host carries their gateway (SPEC §6.2 gap).
  const gateway = link.kind === 'etherstub' ? { ip: formatIpv4(cidr.gateway), prefixLen: cidr.prefixLen } : undefined;
  return new IllumosRuntime({ runner, storage: new ZfsStorageEngine(runner, storagePoolConfig(o.storage)), link, ...(gateway ? { gateway } : {}), ...(o.workload ? { workload: o.workload } : {}), ...(o.zonepathPrefix ? { zonepathPrefix: o.zonepathPrefix } : {}), ...(o.clock ? { clock: o.clock } : {}) });
}

/** The runtime with its host prepared. */
export async function startIllumosRuntime(o: IllumosStartOptions): Promise<IllumosRuntime> {
  const rt = illumosRuntime(o);
  await rt.initialize();
  return rt;
}
