// Flag groups shared by `serve`, `up` and `agent`. clipanion reads options from the command
// instance's own properties, so a group is assigned in the constructor (see withFlags).
import { Command, Option, UsageError } from 'clipanion';
import { DEFAULT_KUBE_MINOR } from '../server/api.ts';
import { DEFAULT_MAX_PODS, DEFAULT_SYSTEM_RESERVED_CPU, DEFAULT_SYSTEM_RESERVED_MEMORY } from '../runtime/host.ts';
import { BrandsError, parseBrandList } from '../runtime/brands.ts';

/** TLS, authentication and limit flags of the control plane (`serve`, `up`). */
export const secureFlags = () => ({
  tls: Option.Boolean('--tls', false, { description: 'serve HTTPS (certificates auto-generated in <data-dir>/tls unless --tls-cert/--tls-key); also turns on authentication' }),
  tlsCert: Option.String('--tls-cert', { description: 'PEM server certificate (with --tls-key)' }),
  tlsKey: Option.String('--tls-key', { description: 'PEM private key of --tls-cert' }),
  tlsSan: Option.Array('--tls-san', [], { description: 'extra host names or IPs for the generated server certificate (comma-separated, repeatable)' }),
  tokenFile: Option.String('--token-file', { description: 'static bearer tokens, kube-apiserver format: token,user,uid,"group1,group2"; turns on authentication' }),
  insecureAllowAnonymous: Option.Boolean('--insecure-allow-anonymous', false, { description: 'on a non-loopback address, serve without TLS and authentication (every client is admin)' }),
  maxRequestsInflight: Option.String('--max-requests-inflight', '400', { description: 'concurrent non-watch requests; above it clients get 429' }),
});

/** Flags of the control plane (`serve`, `up`). */
export const controlPlaneFlags = () => ({
  bind: Option.String('--bind', '127.0.0.1:6443', { description: 'address:port to listen on' }),
  dataDir: Option.String('--data-dir', './reddwarf-data', { description: 'directory for the store, kubeconfig, zones and TLS material' }),
  http: Option.String('--http', 'auto', { description: 'HTTP transport: auto (uWebSockets.js, else node:http), uws or node' }),
  kubeMinor: Option.String('--kube-minor', String(DEFAULT_KUBE_MINOR), { description: 'the Kubernetes minor version /version reports (27–33)' }),
  nodeMonitorGracePeriod: Option.String('--node-monitor-grace-period', '40s', { description: 'silence after which a node is marked Ready=Unknown' }),
  allowedOrigins: Option.String('--allowed-origins', '', { description: 'comma-separated origins whose pages may open WebSocket watches' }),
  ...secureFlags(),
  inspectorUrl: Option.String('--inspector-url', 'https://stately.ai/inspect', { description: 'the Stately inspector the /inspect page frames' }),
});

/** Where `agent` also reads --token from (the SMF method passes it so). */
export const TOKEN_ENV = 'REDDWARF_TOKEN';

/** How a remote agent reaches the API server (`agent`). */
export const remoteAgentFlags = () => ({
  serverCa: Option.String('--server-ca', { description: "PEM CA that signs the API server's certificate (<data-dir>/tls/ca.pem on the server)" }),
  token: Option.String('--token', { env: TOKEN_ENV, description: `join token from \`reddwarf token create\` (or any bearer token); also read from $${TOKEN_ENV}, which other local users cannot see as they can see arguments` }),
});

/** Flags of a node agent (`agent`, `up`). */
export const agentFlags = () => ({
  nodeName: Option.String('--node-name', { description: 'node name to register (default: the host name, lower-cased)' }),
  nodeIp: Option.String('--node-ip', { description: "this node's address, reported as its InternalIP and pods' hostIP (default: the first non-loopback IPv4 address)" }),
  runtime: Option.String('--runtime', 'auto', { description: 'zone runtime: auto (illumos on illumos, else mock), illumos or mock' }),
  podCidr: Option.String('--pod-cidr', '10.88.0.0/16', { description: 'addresses for pods' }),
  systemReservedCpu: Option.String('--system-reserved-cpu', DEFAULT_SYSTEM_RESERVED_CPU, { description: 'CPU kept for the host' }),
  systemReservedMemory: Option.String('--system-reserved-memory', DEFAULT_SYSTEM_RESERVED_MEMORY, { description: 'memory kept for the host' }),
  maxPods: Option.String('--max-pods', String(DEFAULT_MAX_PODS), { description: 'pods this node accepts' }),
  supportedBrands: Option.String('--supported-brands', 'auto', { description: 'zone brands this node offers, comma-separated (lx, sparse, lipkg, pkgsrc, ipkg, nlipkg, joyent, joyent-minimal), or auto: those installed under /usr/lib/brand (the mock runtime: lx,sparse)' }),
  etherstubName: Option.String('--etherstub-name', 'reddwarf0', { description: 'etherstub the pod VNICs sit on' }),
  zonepathPrefix: Option.String('--zonepath-prefix', { description: 'parent directory of zone roots (default: /<zones dataset>, e.g. /rpool/zones)' }),
  storagePool: Option.String('--storage-pool', 'rpool', { description: 'ZFS pool for zones, images and volumes' }),
  zonesDataset: Option.String('--zones-dataset', { description: 'dataset of zone roots (default: <pool>/zones)' }),
  imagesDataset: Option.String('--images-dataset', { description: 'dataset of images (default: <pool>/images)' }),
  volumesDataset: Option.String('--volumes-dataset', { description: 'dataset of persistent volumes (default: <pool>/volumes)' }),
  directNic: Option.String('--direct-nic', { description: 'physical link for pod VNICs instead of the etherstub (illumos)' }),
  nodeStatusUpdateFrequency: Option.String('--node-status-update-frequency', '10s', { description: 'how often the agent renews its Lease in kube-node-lease and checks its Node status (written when it changes, or every 5 min)' }),
  imagePulls: Option.String('--image-pulls', 'auto', { description: 'real (pull images from registries) or simulated (images exist nowhere; the mock runtime\'s default, so it works offline); auto: real on illumos' }),
  insecureRegistry: Option.Array('--insecure-registry', [], { description: 'host:port of a registry reached over plain HTTP (repeatable, comma-separated); all others use HTTPS' }),
  containerLogMaxSize: Option.String('--container-log-max-size', '10Mi', { description: 'a container log file is rotated at this size' }),
  containerLogMaxFiles: Option.String('--container-log-max-files', '5', { description: 'log files kept per container instance, the current one included' }),
  imageGcHighThreshold: Option.String('--image-gc-high-threshold', '85', { description: 'percent of the image store\'s disk in use above which unused images are pruned, least recently used first' }),
  nodeApiPort: Option.String('--node-api-port', { description: 'HTTPS port of the node API (kubectl logs) on --node-ip, 0 for any free port; default 10250 for `agent`; `up` serves its own node in-process and listens only when this is given' }),
});

export type SecureFlags = ReturnType<typeof secureFlags>;
/** The security flags are optional for callers that build flags by hand (tests, benches): off by default. */
export type ControlPlaneFlags = Omit<ReturnType<typeof controlPlaneFlags>, keyof SecureFlags> & Partial<SecureFlags>;
export type AgentFlags = ReturnType<typeof agentFlags>;
export type RemoteAgentFlags = ReturnType<typeof remoteAgentFlags>;

/** Parses a duration such as `40s`, `500ms`, `2m` into ms. */
export function parseDuration(flag: string, v: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/.exec(v.trim());
  if (!m) throw new UsageError(`${flag} must be a duration such as 40s, 500ms or 2m (got ${JSON.stringify(v)})`);
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[m[2] as 'ms' | 's' | 'm' | 'h'];
  return Math.round(Number(m[1]) * unit);
}

/** A positive integer flag. */
export function parseCount(flag: string, v: string): number {
  if (!/^\d{1,6}$/.test(v) || Number(v) < 1) throw new UsageError(`${flag} must be a positive whole number (got ${JSON.stringify(v)})`);
  return Number(v);
}

/** `--image-pulls`: real or simulated; auto is real on illumos and simulated on the mock runtime. */
export function parseImagePulls(v: string, runtime: 'mock' | 'illumos'): 'real' | 'simulated' {
  if (v === 'auto') return runtime === 'illumos' ? 'real' : 'simulated';
  if (v === 'real' || v === 'simulated') return v;
  throw new UsageError(`--image-pulls must be auto, real or simulated (got ${JSON.stringify(v)})`);
}

/** An explicit `--supported-brands` list: pod brands only; bhyve and kvm are refused with a clear word. */
export function parseBrands(v: string): string[] {
  try {
    return parseBrandList(v);
  } catch (e) {
    if (e instanceof BrandsError) throw new UsageError(e.message);
    throw e;
  }
}

/** `--runtime`: auto picks illumos on illumos hosts. */
export function parseRuntime(v: string): 'mock' | 'illumos' {
  if (v === 'auto') return process.platform === 'sunos' ? 'illumos' : 'mock';
  if (v === 'mock' || v === 'illumos') return v;
  throw new UsageError(`--runtime must be auto, illumos or mock (got ${JSON.stringify(v)})`);
}

/** A Command base class carrying a flag group as its own properties (where clipanion looks). */
export function withFlags<T extends object>(make: () => T): (abstract new () => Command & T & { usageFailed: boolean }) & Omit<typeof Command, 'prototype'> {
  abstract class WithFlags extends Command {
    /** Set when execute() failed with a usage error (a bad flag value): main.ts exits 2. */
    usageFailed = false;
    constructor() {
      super();
      Object.assign(this, make());
    }
    override async catch(error: unknown): Promise<void> {
      if (error instanceof UsageError) this.usageFailed = true;
      throw error;
    }
  }
  return WithFlags as unknown as (abstract new () => Command & T & { usageFailed: boolean }) & Omit<typeof Command, 'prototype'>;
}
