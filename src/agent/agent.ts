// The node agent: registers its Node, heartbeats every 10 s, and hosts the pod actors of the pods
// bound to it. It talks to the API only through the Client, so it runs beside the API server
// (`up`) or on another host (`agent --server`).
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { open, type RootDatabase } from 'lmdb';
import type { Client } from '../client/client.ts';
import { Ipam } from '../runtime/ipam.ts';
import { hostResources, parseReservation } from '../runtime/host.ts';
import { MockRuntime } from '../runtime/mock.ts';
import { startIllumosRuntime } from '../runtime/illumos/start.ts';
import type { StorageFlags } from '../runtime/storage.ts';
import type { ZoneRuntime } from '../runtime/runtime.ts';
import type { Distribution } from '../runtime/brands.ts';
import { heartbeat, HEARTBEAT_MS, registerOnce, type NodeIdentity } from './register.ts';
import { startPodHost, type PodHost } from './pods.ts';

export interface AgentOptions {
  client: Client;
  nodeName: string;
  /** The node's address (Node InternalIP, pods' hostIP); unset: none reported. */
  nodeIp?: string;
  dataDir: string;
  runtime: 'mock' | 'illumos';
  podCidr: string;
  systemReservedCpu: string;
  systemReservedMemory: string;
  maxPods: number;
  /** The brands this node offers (src/runtime/brands.ts resolveHostBrands): its label, its pods' default. */
  brands: string[];
  /** The host's distribution, advertised on the Node; unset: none (tests). */
  distribution?: Distribution;
  etherstub: string;
  zonepathPrefix: string;
  /** illumos: `--storage-pool` and the dataset overrides. */
  storage?: StorageFlags;
  /** illumos: put pod VNICs on this physical link instead of the etherstub. */
  directNic?: string;
  /** Mock runtime step delay (ms); tests pass 0. */
  mockStepDelayMs?: number;
  reconcileMs?: number;
  /** Heartbeat period (kubelet's --node-status-update-frequency); 10 s by default. */
  heartbeatMs?: number;
  log: (m: string) => void;
}

export interface Agent {
  node: string;
  pods: PodHost;
  runtime: ZoneRuntime;
  stop(): Promise<void>;
}

/** Picks the zone runtime: illumos where `uname` says SunOS, the mock elsewhere. */
export function defaultRuntime(): 'mock' | 'illumos' {
  return process.platform === 'sunos' ? 'illumos' : 'mock';
}

/** Starts the agent; resolves once its Node is registered and its pods are adopted. */
export async function startAgent(o: AgentOptions): Promise<Agent> {
  const reserved = parseReservation(o.systemReservedCpu, o.systemReservedMemory);
  const identity: NodeIdentity = {
    name: o.nodeName, brands: o.brands, resources: hostResources(reserved, o.maxPods), runtime: o.runtime,
    ...(o.nodeIp ? { ip: o.nodeIp } : {}), ...(o.distribution ? { distribution: o.distribution } : {}),
  };
  mkdirSync(o.dataDir, { recursive: true, mode: 0o700 });
  const env: RootDatabase = open({ path: join(o.dataDir, 'agent'), compression: false });
  const ipam = Ipam.open(env, o.podCidr);
  // illumos: base datasets, etherstub and gateway are prepared here; failing that is fatal (SPEC §5.9).
  const runtime: ZoneRuntime = o.runtime === 'illumos'
    ? await startIllumosRuntime({ storage: o.storage ?? {}, etherstub: o.etherstub, podCidr: o.podCidr, ...(o.directNic ? { directNic: o.directNic } : {}) }).catch(async (e: unknown) => {
      await env.close();
      throw new Error(`Failed to initialize the illumos runtime: ${(e as Error).message}`, { cause: e });
    })
    : new MockRuntime({ dir: join(o.dataDir, 'zones'), ...(o.mockStepDelayMs !== undefined ? { stepDelayMs: o.mockStepDelayMs } : {}) });

  let stopped = false;
  // Registration is retried until it works: the API server may not be up yet (SPEC §11.9).
  for (let delay = 250; !stopped; delay = Math.min(delay * 2, 10_000)) {
    try {
      await registerOnce(o.client, identity, Date.now());
      break;
    } catch (e) {
      o.log(`node ${o.nodeName}: registration failed (${(e as Error).message}); retrying in ${delay} ms`);
      await new Promise((r) => setTimeout(r, delay));
    }
  }
  o.log(`node ${o.nodeName} registered (${o.runtime} runtime, brands ${o.brands.join(', ')}, pod CIDR ${ipam.cidr})`);
  const beat = setInterval(() => {
    heartbeat(o.client, identity, Date.now()).catch((e: unknown) => o.log(`heartbeat failed: ${(e as Error).message}; will retry`));
  }, o.heartbeatMs ?? HEARTBEAT_MS);
  const pods = startPodHost({
    client: o.client,
    node: o.nodeName,
    ...(o.nodeIp ? { hostIP: o.nodeIp } : {}),
    runtime,
    ipam,
    zone: { zonepathPrefix: o.zonepathPrefix, link: o.directNic ?? o.etherstub, brands: o.brands, lxNeedsImage: o.runtime === 'illumos' },
    reconcileMs: o.reconcileMs,
    log: o.log,
  });
  await pods.ready;
  return {
    node: o.nodeName,
    pods,
    runtime,
    async stop() {
      stopped = true;
      clearInterval(beat);
      // Actors stop; zones keep running (workloads survive an agent restart).
      await pods.stop();
      await env.close();
    },
  };
}
