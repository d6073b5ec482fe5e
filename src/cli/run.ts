// Assembles the processes the commands run: the control plane (API server, scheduler, node
// liveness) and the node agent, from parsed flags. Here the wall clock is chosen: `realClock`
// goes to every part unless a caller (a test, a bench) passes another.
import { UsageError } from 'clipanion';
import { fromCallback } from 'xstate';
import { LocalClient } from '../client/local.ts';
import type { Client } from '../client/client.ts';
import { startControlPlane, type ControlPlane } from '../control/plane.ts';
import { startScheduler } from '../scheduler/scheduler.ts';
import { startApiServer, parseBind, type ApiServer } from '../server/start.ts';
import { startAgent, type Agent } from '../agent/agent.ts';
import { nodeIp, nodeName } from '../agent/identity.ts';
import { defaultZonepathPrefix, storagePoolConfig, type StorageFlags } from '../runtime/storage.ts';
import { parseMemory } from '../api/model/quantity.ts';
import { BrandsError, resolveHostBrands, type Distribution } from '../runtime/brands.ts';
import { parseCount, parseDuration, parseImagePulls, parseRuntime, type AgentFlags, type ControlPlaneFlags, type RemoteAgentFlags } from './flags.ts';
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { RemoteClient } from '../client/remote.ts';
import { agentBearer } from '../server/auth.ts';
import type { ApiServerOptions } from '../server/start.ts';
import { logAt, logEnabled } from './log.ts';
import { DEFAULT_NODE_API_PORT } from '../agent/node-api/protocol.ts';
import type { NodeServingCert } from '../server/node-authority.ts';
import { realClock, type Clock } from '../time/clock.ts';

export interface RunningControlPlane {
  server: ApiServer;
  client: Client;
  plane: ControlPlane;
  clock: Clock;
  stop(): Promise<void>;
}

/** Starts the API server and the control plane actors on it. */
export async function runControlPlane(f: ControlPlaneFlags, log: (m: string) => void, clock: Clock = realClock): Promise<RunningControlPlane> {
  let bind: { host: string; port: number };
  try {
    bind = parseBind(f.bind);
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  if (!['auto', 'uws', 'node'].includes(f.http)) throw new UsageError(`--http must be auto, uws or node (got ${JSON.stringify(f.http)})`);
  const minor = Number(f.kubeMinor);
  if (!Number.isInteger(minor) || minor < 20 || minor > 40) throw new UsageError(`--kube-minor must be a Kubernetes minor version such as 31 (got ${JSON.stringify(f.kubeMinor)})`);
  const graceMs = parseDuration('--node-monitor-grace-period', f.nodeMonitorGracePeriod);
  const allowedOrigins = f.allowedOrigins.split(',').map((o) => o.trim()).filter(Boolean);
  const security = securityOptions(f, bind.host, log);
  const server = await startApiServer({ ...bind, dataDir: f.dataDir, http: f.http as 'auto' | 'uws' | 'node', kubeMinor: minor, allowedOrigins, inspectorUrl: f.inspectorUrl, log, ...security, requestLog: logEnabled('debug') ? (e) => logAt('debug', 'request', { ...e }) : undefined, clock });
  const client = new LocalClient(server.store);
  let stopScheduler: Promise<void> | undefined;
  const scheduler = fromCallback(() => {
    const s = startScheduler({ client, log, clock });
    return () => {
      stopScheduler = s.stop();
    };
  });
  const plane = startControlPlane({ client, nodeMonitorGraceMs: graceMs, scheduler, log, clock });
  const unregister = server.inspect.register('control-plane', plane.actor);
  return {
    server,
    client,
    plane,
    clock,
    async stop() {
      unregister();
      plane.stop();
      await stopScheduler;
      await server.stop();
    },
  };
}

/** Flags with no default (illumos storage and links, --node-ip): optional for callers that build flags by hand. */
type OptionalFlagKeys = 'storagePool' | 'zonesDataset' | 'imagesDataset' | 'volumesDataset' | 'directNic' | 'nodeIp' | 'nodeApiPort'
  | 'imagePulls' | 'insecureRegistry' | 'containerLogMaxSize' | 'containerLogMaxFiles' | 'imageGcHighThreshold';

/** How the node API of an agent is served: `agent` listens on 10250 unless told; `up` hands over its certificate. */
export interface NodeApiChoice {
  /** The port when --node-api-port is not given; undefined: no socket. */
  defaultPort?: number;
  /** The serving certificate, from an API server in this process. */
  cert?: (node: string, sans: string[]) => Promise<NodeServingCert>;
}

/** `--node-api-port`: 0–65535. */
export function parseNodeApiPort(v: string | undefined, fallback: number | undefined): number | undefined {
  if (v === undefined) return fallback;
  if (!/^\d{1,5}$/.test(v) || Number(v) > 65535) throw new UsageError(`--node-api-port must be a port number, 0 for any free port (got ${JSON.stringify(v)})`);
  return Number(v);
}

/** Starts a node agent talking through `client`, on `clock`. */
export async function runAgent(f: Omit<AgentFlags, OptionalFlagKeys> & Partial<Pick<AgentFlags, OptionalFlagKeys>>, dataDir: string, client: Client, log: (m: string) => void, nodeApi: NodeApiChoice = { defaultPort: DEFAULT_NODE_API_PORT }, clock: Clock = realClock): Promise<Agent> {
  const apiPort = parseNodeApiPort(f.nodeApiPort, nodeApi.defaultPort);
  let name: string;
  let ip: string | undefined;
  try {
    name = nodeName(f.nodeName);
    ip = nodeIp(f.nodeIp);
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  const storage: StorageFlags = { ...(f.storagePool ? { pool: f.storagePool } : {}), ...(f.zonesDataset ? { zonesDataset: f.zonesDataset } : {}), ...(f.imagesDataset ? { imagesDataset: f.imagesDataset } : {}), ...(f.volumesDataset ? { volumesDataset: f.volumesDataset } : {}) };
  let pool;
  try {
    pool = storagePoolConfig(storage);
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  const runtime = parseRuntime(f.runtime);
  const logMaxBytes = parseMemory(f.containerLogMaxSize ?? '10Mi');
  if (logMaxBytes === undefined || logMaxBytes < 1024) throw new UsageError(`--container-log-max-size must be a size of at least 1Ki such as 10Mi (got ${JSON.stringify(f.containerLogMaxSize)})`);
  const gcThreshold = Number(f.imageGcHighThreshold ?? '85');
  if (!Number.isInteger(gcThreshold) || gcThreshold < 1 || gcThreshold > 100) throw new UsageError(`--image-gc-high-threshold must be a percentage from 1 to 100 (got ${JSON.stringify(f.imageGcHighThreshold)})`);
  let hostBrands: { brands: string[]; distribution: Distribution };
  try {
    hostBrands = resolveHostBrands(f.supportedBrands, runtime);
  } catch (e) {
    if (e instanceof BrandsError) throw new UsageError(e.message);
    throw e;
  }
  return startAgent({
    client,
    imagePulls: parseImagePulls(f.imagePulls ?? 'auto', runtime),
    insecureRegistries: (f.insecureRegistry ?? []).flatMap((v) => v.split(',')).map((v) => v.trim()).filter(Boolean),
    logMaxBytes,
    logMaxFiles: parseCount('--container-log-max-files', f.containerLogMaxFiles ?? '5'),
    imageGcHighThreshold: gcThreshold,
    nodeName: name,
    ...(ip ? { nodeIp: ip } : {}),
    dataDir,
    runtime,
    podCidr: f.podCidr,
    systemReservedCpu: f.systemReservedCpu,
    systemReservedMemory: f.systemReservedMemory,
    maxPods: parseCount('--max-pods', f.maxPods),
    ...hostBrands,
    etherstub: f.etherstubName,
    zonepathPrefix: f.zonepathPrefix ?? defaultZonepathPrefix(pool),
    storage,
    ...(f.directNic ? { directNic: f.directNic } : {}),
    heartbeatMs: parseDuration('--node-status-update-frequency', f.nodeStatusUpdateFrequency),
    ...(apiPort !== undefined ? { nodeApi: { port: apiPort, ...(nodeApi.cert ? { cert: nodeApi.cert } : {}) } } : {}),
    log,
    clock,
  });
}

/** Whether a bind address only takes connections from this host. */
export function isLoopback(host: string): boolean {
  if (host === 'localhost' || host === '::1') return true;
  return isIP(host) === 4 && host.startsWith('127.');
}

/**
 * TLS, authentication and limits from the flags. On loopback both stay off unless asked for
 * (--tls, --tls-cert/--tls-key, --token-file); on any other address they turn on by themselves
 * unless --insecure-allow-anonymous, which warns on every start.
 */
export function securityOptions(f: ControlPlaneFlags, host: string, log: (m: string) => void): Pick<ApiServerOptions, 'tls' | 'auth' | 'maxRequestsInflight'> {
  if ((f.tlsCert === undefined) !== (f.tlsKey === undefined)) {
    throw new UsageError('When using --tls, you must supply both --tls-cert and --tls-key together. Provide both --tls-cert and --tls-key, or omit both to auto-generate.');
  }
  let tls = f.tls === true || f.tlsCert !== undefined;
  let auth = tls || f.tokenFile !== undefined;
  if (f.insecureAllowAnonymous) {
    auth = false;
    log(`WARNING: --insecure-allow-anonymous: every client that reaches ${host} is admin${tls ? '' : ', over plain HTTP'}; do not use this on a network you do not trust`);
  } else if (!isLoopback(host)) {
    if (!tls) log(`${host} is not a loopback address: serving HTTPS with certificates in <data-dir>/tls (--insecure-allow-anonymous turns this off)`);
    log(`${host} is not a loopback address: authentication is required (admin token in <data-dir>/admin-token and the kubeconfig)`);
    tls = true;
    auth = true;
  }
  const out: Pick<ApiServerOptions, 'tls' | 'auth' | 'maxRequestsInflight'> = {
    maxRequestsInflight: parseCount('--max-requests-inflight', f.maxRequestsInflight ?? '400'),
  };
  if (tls) out.tls = f.tlsCert !== undefined && f.tlsKey !== undefined ? { mode: 'provided', certFile: f.tlsCert, keyFile: f.tlsKey } : { mode: 'auto', sans: (f.tlsSan ?? []).flatMap((v) => v.split(',')).map((v) => v.trim()).filter(Boolean) };
  if (auth) out.auth = f.tokenFile !== undefined ? { tokenFile: f.tokenFile } : {};
  return out;
}

/** The RemoteClient of `reddwarf agent`: the server's CA (--server-ca) and its join token (--token). */
export function remoteClientFor(server: string, f: RemoteAgentFlags, node: string | undefined): RemoteClient {
  let ca: string | undefined;
  if (f.serverCa !== undefined) {
    try {
      ca = readFileSync(f.serverCa, 'utf8');
    } catch (e) {
      throw new UsageError(`--server-ca ${f.serverCa}: ${(e as Error).message}`);
    }
  }
  let token = f.token;
  if (token !== undefined) {
    let name: string;
    try {
      name = nodeName(node);
    } catch (e) {
      throw new UsageError((e as Error).message);
    }
    token = agentBearer(token, name);
  }
  return new RemoteClient({ server, ca, token });
}
