// The node agent: registers its Node, renews its Lease every 10 s, and hosts the pod actors of the pods
// bound to it. It talks to the API only through the Client, so it runs beside the API server
// (`up`) or on another host (`agent --server`).
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { open, type RootDatabase } from 'lmdb';
import type { Client } from '../client/client.ts';
import type { Node } from '../api/model/types.ts';
import { Ipam } from '../runtime/ipam.ts';
import { hostResources, parseReservation } from '../runtime/host.ts';
import { MockRuntime } from '../runtime/mock.ts';
import { startIllumosRuntime } from '../runtime/illumos/start.ts';
import type { StorageFlags } from '../runtime/storage.ts';
import type { ZoneRuntime } from '../runtime/runtime.ts';
import type { Distribution } from '../runtime/brands.ts';
import { registerOnce, startHeartbeats, type NodeIdentity } from './register.ts';
import { realClock, sleep, type Clock } from '../time/clock.ts';
import { startPodHost, type PodHost } from './pods.ts';
import { ImageStore } from '../images/store.ts';
import { DirLayerBackend, ZfsLayerBackend } from '../images/layers.ts';
import { buildSupervisor } from '../runtime/supervisor/build.ts';
import { podWorkload, simulatedSource, storeSource, type ImageSource } from './workload.ts';
import { startImageGc } from './image-gc.ts';
import { ExecRunner } from '../runtime/illumos/exec.ts';
import { storagePoolConfig } from '../runtime/storage.ts';
import { createNodeApi, nodeApiRoutes } from './node-api/handler.ts';
import { listenNodeApi, requestServingCert } from './node-api/server.ts';
import type { HttpHandler } from '../server/http.ts';
import type { Listening } from '../server/listen.ts';
import type { NodeServingCert } from '../server/node-authority.ts';

/** The supervisor's first container restart back-off, doubling to 5 min: kubelet's. */
const RESTART_BACKOFF_MS = 10_000;

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
  /** Heartbeat period: Lease renewal and Node status check (kubelet's --node-status-update-frequency); 10 s by default. */
  heartbeatMs?: number;
  /** Pull images from registries, or pretend (mock runtime default). */
  imagePulls?: 'real' | 'simulated';
  insecureRegistries?: string[];
  /** Container log rotation: size (bytes) and files kept per instance. */
  logMaxBytes?: number;
  logMaxFiles?: number;
  /** Percent of the image store's disk in use above which unused images are pruned (LRU). */
  imageGcHighThreshold?: number;
  /**
   * The node API on a socket (HTTPS on the node IP, else 127.0.0.1): its port (0: ephemeral) and,
   * in-process, the serving certificate handed over; without `cert` the agent asks the API server.
   * Unset: not on a socket (an API server in this process calls `Agent.nodeApi` directly).
   */
  nodeApi?: { port: number; cert?: (node: string, sans: string[]) => Promise<NodeServingCert & { key?: string }> };
  /** Hollow nodes (bench/scale.ts): this runtime and IPAM instead of `runtime`'s and an LMDB env in `dataDir`. */
  runtimeImpl?: ZoneRuntime;
  ipam?: Ipam;
  /** The agent's time: pod actors, container poll, retries, the mock runtime's steps; realClock by default. */
  clock?: Clock;
  log: (m: string) => void;
}

export interface Agent {
  node: string;
  pods: PodHost;
  runtime: ZoneRuntime;
  /** The node's image store (absent with simulated pulls). */
  images?: ImageStore;
  /** The node API's routes without authentication: what an API server in this process calls. */
  nodeApi: HttpHandler;
  /** The node API's port, when it listens. */
  nodeApiPort?: number;
  stop(): Promise<void>;
}

/** Picks the zone runtime: illumos where `uname` says SunOS, the mock elsewhere. */
export function defaultRuntime(): 'mock' | 'illumos' {
  return process.platform === 'sunos' ? 'illumos' : 'mock';
}

/** Starts the agent; resolves once its Node is registered and its pods are adopted. */
export async function startAgent(o: AgentOptions): Promise<Agent> {
  const clock = o.clock ?? realClock;
  const reserved = parseReservation(o.systemReservedCpu, o.systemReservedMemory);
  const identity: NodeIdentity = {
    name: o.nodeName, brands: o.brands, resources: hostResources(reserved, o.maxPods), runtime: o.runtime,
    ...(o.nodeIp ? { ip: o.nodeIp } : {}), ...(o.distribution ? { distribution: o.distribution } : {}),
  };
  mkdirSync(o.dataDir, { recursive: true, mode: 0o700 });
  const env: RootDatabase | undefined = o.ipam ? undefined : open({ path: join(o.dataDir, 'agent'), compression: false });
  const ipam = o.ipam ?? Ipam.open(env as RootDatabase, o.podCidr);
  // Images: a real store (ZFS layer chains on illumos, directories elsewhere) or simulated pulls.
  const pulls = o.imagePulls ?? (o.runtime === 'illumos' ? 'real' : 'simulated');
  let images: ImageStore | undefined;
  if (pulls === 'real') {
    const backend = o.runtime === 'illumos'
      ? new ZfsLayerBackend(new ExecRunner({ clock }), storagePoolConfig(o.storage ?? {}).imagesDataset)
      : new DirLayerBackend(join(o.dataDir, 'images', 'layers'));
    images = await ImageStore.open({ dir: join(o.dataDir, 'images'), backend, insecureRegistries: o.insecureRegistries ?? [], log: o.log, clock });
  }
  const source: ImageSource = images ? storeSource(images) : simulatedSource();
  const supervisorDir = join(o.dataDir, 'supervisor');
  // illumos: base datasets, etherstub and gateway are prepared here; failing that is fatal (SPEC §5.9).
  const runtime: ZoneRuntime = o.runtimeImpl ?? (o.runtime === 'illumos'
    ? await startIllumosRuntime({
      storage: o.storage ?? {},
      etherstub: o.etherstub,
      podCidr: o.podCidr,
      zonepathPrefix: o.zonepathPrefix,
      clock,
      ...(o.directNic ? { directNic: o.directNic } : {}),
      workload: {
        supervisor: (variant) => buildSupervisor({ dir: supervisorDir, variant }),
        ...(images ? { images: images.backend } : {}),
        backoffMs: RESTART_BACKOFF_MS,
        logMaxBytes: o.logMaxBytes ?? 10 * 2 ** 20,
        logMaxFiles: o.logMaxFiles ?? 5,
      },
    }).catch(async (e: unknown) => {
      await env?.close();
      throw new Error(`Failed to initialize the illumos runtime: ${(e as Error).message}`, { cause: e });
    })
    : new MockRuntime({ dir: join(o.dataDir, 'zones'), clock, ...(o.mockStepDelayMs !== undefined ? { stepDelayMs: o.mockStepDelayMs } : {}) }));
  const gc = images ? startImageGc({ store: images, highThresholdPercent: o.imageGcHighThreshold ?? 85, clock, log: o.log }) : undefined;

  let stopped = false;
  let registered: Node | undefined;
  // Registration is retried until it works: the API server may not be up yet (SPEC §11.9).
  for (let delay = 250; !stopped; delay = Math.min(delay * 2, 10_000)) {
    try {
      registered = await registerOnce(o.client, identity, clock.now());
      break;
    } catch (e) {
      o.log(`node ${o.nodeName}: registration failed (${(e as Error).message}); retrying in ${delay} ms`);
      await sleep(clock, delay);
    }
  }
  o.log(`node ${o.nodeName} registered (${o.runtime} runtime, brands ${o.brands.join(', ')}, pod CIDR ${ipam.cidr})`);
  const nodeApiOpts = { runtime, clock, log: o.log };
  let nodeApi: Listening | undefined;
  if (o.nodeApi && !stopped) {
    nodeApi = await startNodeApi(o, identity, createNodeApi(nodeApiOpts)).catch((e: unknown) => {
      // Logs are worth a loud word, not the node: pods still run without them.
      o.log(`WARNING: node ${o.nodeName}: the node API (logs) is not served: ${(e as Error).message}`);
      return undefined;
    });
    if (nodeApi) {
      identity.apiPort = nodeApi.port;
      await registerOnce(o.client, identity, clock.now()).catch((e: unknown) => o.log(`node ${o.nodeName}: could not advertise the node API port: ${(e as Error).message}; the next registration will`));
      o.log(`node ${o.nodeName}: node API on https://${hostPort(o.nodeIp ?? '127.0.0.1', nodeApi.port)}`);
    }
  }
  const beats = startHeartbeats({ client: o.client, identity, clock, ...(o.heartbeatMs ? { periodMs: o.heartbeatMs } : {}), ...(registered ? { node: registered } : {}), log: o.log });
  const pods = startPodHost({
    client: o.client,
    node: o.nodeName,
    ...(o.nodeIp ? { hostIP: o.nodeIp } : {}),
    runtime,
    ipam,
    zone: { zonepathPrefix: o.zonepathPrefix, link: o.directNic ?? o.etherstub, brands: o.brands, lxNeedsImage: o.runtime === 'illumos' },
    reconcileMs: o.reconcileMs,
    clock,
    workload: podWorkload({ client: o.client, images: source, node: o.nodeName, brands: o.brands, ...(o.nodeIp ? { hostIP: o.nodeIp } : {}), podIP: (key) => ipam.lookup(key)?.ip }),
    log: o.log,
  });
  await pods.ready;
  return {
    node: o.nodeName,
    pods,
    runtime,
    ...(images ? { images } : {}),
    nodeApi: nodeApiRoutes(nodeApiOpts),
    ...(nodeApi ? { nodeApiPort: nodeApi.port } : {}),
    async stop() {
      stopped = true;
      beats.stop();
      gc?.stop();
      await nodeApi?.close();
      // Actors stop; zones keep running (workloads survive an agent restart).
      await pods.stop();
      // The mock's host state is on disk before another agent reads it.
      if (runtime instanceof MockRuntime) await runtime.flushed();
      await env?.close();
    },
  };
}

/** The node API's certificate (handed over, or signed by the API server on request), then its HTTPS listener. */
async function startNodeApi(o: AgentOptions, id: NodeIdentity, handler: HttpHandler): Promise<Listening> {
  const sans = [o.nodeName, ...(o.nodeIp ? [o.nodeIp] : ['127.0.0.1'])];
  const handed = await o.nodeApi?.cert?.(o.nodeName, sans);
  const cert = handed?.key ? { ...handed, key: handed.key } : await requestServingCert(o.client, id.name);
  return listenNodeApi({ handler, host: o.nodeIp ?? '127.0.0.1', port: o.nodeApi?.port ?? 0, cert, dir: join(o.dataDir, 'node-api') });
}

const hostPort = (host: string, port: number): string => (host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`);
