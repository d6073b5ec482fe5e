// The pod bundle: the files under `<zone root>/.reddwarf/` through which the
// agent tells the zone supervisor what to run, reads back what happened, and asks it to stop or
// restart a container. Every function takes the zone root's host path (`<zonepath>/root`).
import { chmod, copyFile, mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import type { ContainerRuntimeStatus } from '../runtime.ts';
import { basename, dirname, join } from 'node:path';

export { ContainerConfigError, expand, resolveArgv, resolveEnv, resolveUser } from './resolve.ts';
export type { ContainerSpec, EnvVarSpec, ImageConfig, PodContext } from './resolve.ts';

/** One container as the supervisor runs it. */
export interface BundleContainer {
  name: string;
  /** Passed to execve as is; argv[0] absolute or searched in the env's PATH inside `root`. */
  argv: string[];
  env: [string, string][];
  /** The container's root as seen inside the zone (`/.reddwarf/containers/<name>/rootfs`), or `/`. */
  root: string;
  cwd: string;
  uid: number;
  gid: number;
}

/** The pod's interface, configured by the supervisor before any container starts (no SMF runs in the zone). */
export interface BundleNetwork {
  /** The datalink inside the zone: the pod's VNIC (an exclusive-IP zone sees it under its own name). */
  link: string;
  address: string;
  prefixLen: number;
  gateway: string;
}

export interface Bundle {
  /** Absent: the supervisor configures no network (containers start at once). */
  network?: BundleNetwork;
  restartPolicy: 'Always' | 'OnFailure' | 'Never';
  /** Initial restart back-off (kubelet: 10 s), doubled up to 300 s. */
  backoffMs: number;
  logMaxBytes: number;
  logMaxFiles: number;
  initContainers: BundleContainer[];
  containers: BundleContainer[];
}

// status.json's shape is the runtime seam's ContainerRuntimeStatus (one definition for both sides).
export type { ContainerRuntimeStatus, TerminationRecord } from '../runtime.ts';

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
/** The supervisor's fixed table size (MAX_CONTAINERS in init.c), init containers included. */
export const MAX_CONTAINERS = 64;

const base = (root: string) => join(root, '.reddwarf');

/** Host directory of a container's CRI logs (`<instance>.log`, rotations `.1` …). */
export function logDir(root: string, name: string): string {
  return join(base(root), 'logs', name);
}

async function writeAtomic(path: string, data: string | Buffer, mode = 0o644): Promise<void> {
  // A dot name: the supervisor acts on `restart-<name>`, never on a half-written `.restart-….tmp`.
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.tmp`);
  await writeFile(tmp, data, { mode });
  await rename(tmp, path);
}

function checkName(name: string): void {
  if (!DNS_LABEL.test(name)) throw new Error(`invalid container name ${JSON.stringify(name)}: not a DNS label`);
}

function nulList(container: string, what: string, items: string[]): Buffer {
  for (const s of items) if (s.includes('\0')) throw new Error(`container ${container}: ${what} contains a NUL byte`);
  return Buffer.from(items.map((s) => `${s}\0`).join(''));
}

/**
 * Writes (or rewrites, for a restart with a new image) one container's argv, env, root, cwd and
 * user. Each file is replaced atomically: a supervisor restarting the container meanwhile reads
 * either the old or the new file.
 */
export async function writeContainer(root: string, c: BundleContainer): Promise<void> {
  checkName(c.name);
  if (c.argv.length === 0 || !c.argv[0]) throw new Error(`container ${c.name}: empty argv`);
  for (const [k] of c.env) if (!k || k.includes('=')) throw new Error(`container ${c.name}: invalid env name ${JSON.stringify(k)}`);
  for (const [what, v] of [['root', c.root], ['cwd', c.cwd]] as const) {
    if (!v.startsWith('/') || /[\n\0]/.test(v)) throw new Error(`container ${c.name}: ${what} must be an absolute path, got ${JSON.stringify(v)}`);
  }
  for (const id of [c.uid, c.gid]) if (!Number.isInteger(id) || id < 0 || id > 2 ** 31 - 1) throw new Error(`container ${c.name}: invalid uid/gid ${id}`);
  const dir = join(base(root), 'containers', c.name);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await writeAtomic(join(dir, 'argv'), nulList(c.name, 'argv', c.argv));
  await writeAtomic(join(dir, 'env'), nulList(c.name, 'env', c.env.map(([k, v]) => `${k}=${v}`)), 0o600);
  await writeAtomic(join(dir, 'root'), `${c.root}\n`);
  await writeAtomic(join(dir, 'cwd'), `${c.cwd}\n`);
  await writeAtomic(join(dir, 'user'), `${c.uid}:${c.gid}\n`);
}

const LINK_NAME = /^[A-Za-z0-9_.]{1,63}$/;
const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;

/** The `network` line: checked here, since the supervisor can only report a bad one as NetworkNotReady. */
function networkLine(n: BundleNetwork): string {
  if (!LINK_NAME.test(n.link)) throw new Error(`network: invalid link name ${JSON.stringify(n.link)}`);
  for (const [what, ip] of [['address', n.address], ['gateway', n.gateway]] as const) {
    if (!IPV4.test(ip)) throw new Error(`network: ${what} ${JSON.stringify(ip)} is not an IPv4 address`);
  }
  if (!Number.isInteger(n.prefixLen) || n.prefixLen < 0 || n.prefixLen > 32) throw new Error(`network: invalid prefix length ${n.prefixLen}`);
  return `network ${n.link} ${n.address}/${n.prefixLen} ${n.gateway}`;
}

/** pod.conf text for a bundle. */
export function podConf(b: Bundle): string {
  return [
    ...(b.network ? [networkLine(b.network)] : []),
    `restartPolicy ${b.restartPolicy}`,
    `backoffMs ${Math.max(1, Math.round(b.backoffMs))}`,
    `logMaxBytes ${Math.max(1, Math.round(b.logMaxBytes))}`,
    `logMaxFiles ${Math.max(1, Math.round(b.logMaxFiles))}`,
    ...b.initContainers.map((c) => `init ${c.name}`),
    ...b.containers.map((c) => `container ${c.name}`),
    '',
  ].join('\n');
}

/**
 * Lays out the whole bundle in a zone root before boot: the supervisor binary as
 * `/.reddwarf/init`, pod.conf, every container's files, and empty control/ and logs/. A boot starts
 * afresh: control requests, statuses and logs of an earlier boot are removed (the supervisor counts
 * instances from 0 again, and a stale `<n>.log` would pass for the current instance).
 */
export async function writeBundle(root: string, b: Bundle, initBinaryPath: string): Promise<void> {
  const names = [...b.initContainers, ...b.containers].map((c) => c.name);
  const dup = names.find((n, i) => names.indexOf(n) !== i);
  if (dup) throw new Error(`container name ${dup} is used twice`);
  if (names.length > MAX_CONTAINERS) throw new Error(`a pod runs at most ${MAX_CONTAINERS} containers (init containers included), got ${names.length}`);
  const dir = base(root);
  await mkdir(dir, { recursive: true, mode: 0o755 });
  const tmp = join(dir, `.init.${process.pid}.tmp`);
  await copyFile(initBinaryPath, tmp);
  await chmod(tmp, 0o755);
  await rename(tmp, join(dir, 'init'));
  for (const c of [...b.initContainers, ...b.containers]) {
    await writeContainer(root, c);
    await rm(join(dir, 'containers', c.name, 'status.json'), { force: true });
  }
  await rm(join(dir, 'control'), { recursive: true, force: true });
  await mkdir(join(dir, 'control'), { mode: 0o700 });
  await rm(join(dir, 'logs'), { recursive: true, force: true });
  await mkdir(join(dir, 'logs'), { mode: 0o750 });
  await writeAtomic(join(dir, 'pod.conf'), podConf(b));
}

/** The names in pod.conf order (inits first), or undefined without a pod.conf. */
async function confNames(root: string): Promise<string[] | undefined> {
  try {
    const text = await readFile(join(base(root), 'pod.conf'), 'utf8');
    return text.split('\n').map((l) => /^(?:init|container)\s+(\S+)/.exec(l)?.[1]).filter((n): n is string => !!n);
  } catch {
    return undefined;
  }
}

/** Every container's status.json, in pod.conf order; a container never started has none. */
export async function readStatuses(root: string): Promise<ContainerRuntimeStatus[]> {
  let names = await confNames(root);
  if (!names) {
    try {
      names = (await readdir(join(base(root), 'containers'))).sort();
    } catch {
      return [];
    }
  }
  const out: ContainerRuntimeStatus[] = [];
  for (const name of names) {
    let text: string;
    try {
      text = await readFile(join(base(root), 'containers', name, 'status.json'), 'utf8');
    } catch {
      continue;
    }
    try {
      const s = JSON.parse(text) as ContainerRuntimeStatus;
      if (s && typeof s === 'object' && s.name === name) out.push(s);
    } catch {
      // Written by tmp + rename, so never half a file; anything else is not ours to guess at.
    }
  }
  return out;
}

async function control(root: string, file: string, graceSec: number): Promise<void> {
  const dir = join(base(root), 'control');
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await writeAtomic(join(dir, file), `${Math.max(0, Math.floor(graceSec))}\n`);
}

/** Asks the supervisor to SIGTERM every container, SIGKILL them after `graceSec`, and start nothing more. */
export function requestStop(root: string, graceSec: number): Promise<void> {
  return control(root, 'stop', graceSec);
}

/** Asks the supervisor to stop one container (TERM, KILL after `graceSec`) and start it again from its (re-read) files. */
export async function requestRestart(root: string, name: string, graceSec: number): Promise<void> {
  checkName(name);
  return control(root, `restart-${name}`, graceSec);
}
