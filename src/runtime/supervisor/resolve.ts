// What a container runs, computed as kubelet and containerd do: argv from command/args over the
// image's Entrypoint/Cmd, the environment with `$(VAR)` expansion and fieldRefs, and the user.
import { readFile, realpath } from 'node:fs/promises';
import { join, sep } from 'node:path';

/** The parts of an OCI image config a container start needs (the image store's StoredImage.config). */
export interface ImageConfig {
  entrypoint?: string[] | null;
  cmd?: string[] | null;
  /** `KEY=value` entries. */
  env?: string[] | null;
  workingDir?: string;
  /** `uid`, `uid:gid`, `name`, `name:group` … */
  user?: string;
}

export interface EnvVarSpec {
  name: string;
  value?: string;
  valueFrom?: { fieldRef?: { fieldPath: string; apiVersion?: string }; [other: string]: unknown };
}

/** The container fields this module reads (a subset of core/v1 Container). */
export interface ContainerSpec {
  name: string;
  command?: string[];
  args?: string[];
  env?: EnvVarSpec[];
  workingDir?: string;
  securityContext?: { runAsUser?: number; runAsGroup?: number; [other: string]: unknown };
}

/** Values for `valueFrom.fieldRef` (downward API) and the pod-level user settings. */
export interface PodContext {
  name: string;
  namespace: string;
  uid: string;
  nodeName?: string;
  podIP?: string;
  hostIP?: string;
  serviceAccountName?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  /** `HOSTNAME` as containerd sets it (the pod's hostname); omitted when undefined. */
  hostname?: string;
  /** Service variables kubelet adds (KUBERNETES_SERVICE_HOST …), visible to `$(VAR)` and set when the container does not set them. */
  serviceEnv?: [string, string][];
  securityContext?: { runAsUser?: number; runAsGroup?: number; [other: string]: unknown };
}

/** The container cannot be started as specified (kubelet's CreateContainerConfigError). */
export class ContainerConfigError extends Error {
  constructor(readonly container: string, message: string) {
    super(`container ${container}: ${message}`);
    this.name = 'ContainerConfigError';
  }
}

/**
 * kubelet's `$(VAR)` expansion (third_party/forked/golang/expansion): `$(NAME)` becomes the value
 * when NAME is defined, else stays as written; `$$` is a literal `$` (so `$$(NAME)` gives `$(NAME)`);
 * an unclosed `$(` and any other `$x` stay as they are.
 */
export function expand(input: string, lookup: (name: string) => string | undefined): string {
  let out = '';
  let checkpoint = 0;
  for (let cursor = 0; cursor < input.length; cursor++) {
    if (input[cursor] !== '$' || cursor + 1 >= input.length) continue;
    out += input.slice(checkpoint, cursor);
    const rest = input.slice(cursor + 1);
    let advance = 1;
    if (rest[0] === '$') out += '$';
    else if (rest[0] === '(') {
      const close = rest.indexOf(')', 1);
      if (close === -1) out += '$(';
      else {
        const name = rest.slice(1, close);
        out += lookup(name) ?? `$(${name})`;
        advance = close + 1;
      }
    } else out += `$${rest[0]}`;
    cursor += advance;
    checkpoint = cursor + 1;
  }
  return out + input.slice(checkpoint);
}

function fieldValue(container: string, path: string, pod: PodContext | undefined): string {
  if (!pod) throw new ContainerConfigError(container, `env fieldRef ${path} needs the pod's fields`);
  const keyed = /^metadata\.(labels|annotations)\['(.*)'\]$/.exec(path);
  if (keyed) return (keyed[1] === 'labels' ? pod.labels : pod.annotations)?.[keyed[2] as string] ?? '';
  switch (path) {
    case 'metadata.name': return pod.name;
    case 'metadata.namespace': return pod.namespace;
    case 'metadata.uid': return pod.uid;
    case 'spec.nodeName': return pod.nodeName ?? '';
    case 'spec.serviceAccountName': return pod.serviceAccountName ?? '';
    case 'status.podIP': case 'status.podIPs': return pod.podIP ?? '';
    case 'status.hostIP': case 'status.hostIPs': return pod.hostIP ?? '';
    default: throw new ContainerConfigError(container, `unsupported fieldRef ${JSON.stringify(path)}`);
  }
}

/** kubelet's makeEnvironmentVariables: the container's own variables, in order, each expanded against those before it. */
function kubeletEnv(c: ContainerSpec, pod: PodContext | undefined): [string, string][] {
  const vars = new Map<string, string>();
  const service = new Map(pod?.serviceEnv ?? []);
  const lookup = (n: string) => vars.get(n) ?? service.get(n);
  for (const e of c.env ?? []) {
    let v: string;
    if (e.valueFrom) {
      if (!e.valueFrom.fieldRef) throw new ContainerConfigError(c.name, `env ${e.name}: only valueFrom.fieldRef is supported`);
      v = fieldValue(c.name, e.valueFrom.fieldRef.fieldPath, pod);
    } else v = expand(e.value ?? '', lookup);
    vars.set(e.name, v);
  }
  // Service variables come after and never override the container's own (kubelet order).
  for (const [k, v] of service) if (!vars.has(k)) vars.set(k, v);
  return [...vars];
}

/**
 * The argv a container runs, by Kubernetes' rules: `command` replaces the image Entrypoint and
 * then the image Cmd is ignored; `args` replaces Cmd; neither → Entrypoint + Cmd. `$(VAR)` in
 * command and args is expanded from the container's env (not the image's).
 * @example
 * resolveArgv({ name: 'web', args: ['-p', '$(PORT)'], env: [{ name: 'PORT', value: '80' }] }, { entrypoint: ['/httpd'] })
 * // → ['/httpd', '-p', '80']
 */
export function resolveArgv(c: ContainerSpec, image: ImageConfig = {}, pod?: PodContext): string[] {
  const vars = new Map(kubeletEnv(c, pod));
  const lookup = (n: string) => vars.get(n);
  const command = c.command && c.command.length > 0 ? c.command.map((s) => expand(s, lookup)) : undefined;
  const args = c.args && c.args.length > 0 ? c.args.map((s) => expand(s, lookup)) : undefined;
  const entrypoint = image.entrypoint ?? [];
  const cmd = image.cmd ?? [];
  const argv = command ? [...command, ...(args ?? [])] : [...entrypoint, ...(args ?? cmd)];
  if (argv.length === 0 || argv[0] === '') throw new ContainerConfigError(c.name, 'no command specified');
  return argv;
}

/**
 * The whole environment: HOSTNAME, the image's Env, then the container's (kubelet-expanded)
 * variables replacing same-named ones in place and appending the rest (containerd's WithEnv).
 */
export function resolveEnv(c: ContainerSpec, image: ImageConfig = {}, pod?: PodContext): [string, string][] {
  const env = new Map<string, string>();
  if (pod?.hostname !== undefined) env.set('HOSTNAME', pod.hostname);
  for (const kv of image.env ?? []) {
    const i = kv.indexOf('=');
    if (i > 0) env.set(kv.slice(0, i), kv.slice(i + 1));
  }
  for (const [k, v] of kubeletEnv(c, pod)) env.set(k, v);
  return [...env];
}

/** Reads a file of the container root, refusing a path whose symlinks lead outside it. */
async function readInRoot(root: string, path: string): Promise<string | undefined> {
  try {
    const realRoot = await realpath(root);
    const real = await realpath(join(root, path));
    if (real !== realRoot && !real.startsWith(realRoot + sep)) return undefined;
    return await readFile(real, 'utf8');
  } catch {
    return undefined;
  }
}

/** Colon-separated database rows (/etc/passwd, /etc/group). */
function rows(text: string | undefined): string[][] {
  return (text ?? '').split('\n').filter((l) => l && !l.startsWith('#')).map((l) => l.split(':'));
}

const NUMERIC = /^\d+$/;

/**
 * The uid:gid a container runs as: securityContext runAsUser/runAsGroup (the container's over the
 * pod's), else the image config `user` (`uid`, `uid:gid`, `name`, `name:group`; names looked up in
 * the container root's /etc/passwd and /etc/group); a uid without a group takes the user's primary
 * group from /etc/passwd, else 0 (containerd). Unknown names are an error.
 */
export async function resolveUser(c: ContainerSpec, image: ImageConfig, rootPath: string, pod?: PodContext): Promise<{ uid: number; gid: number }> {
  const runAsUser = c.securityContext?.runAsUser ?? pod?.securityContext?.runAsUser;
  const runAsGroup = c.securityContext?.runAsGroup ?? pod?.securityContext?.runAsGroup;
  let passwd: string[][] | undefined;
  let groups: string[][] | undefined;
  const pw = async () => (passwd ??= rows(await readInRoot(rootPath, 'etc/passwd')));
  const gr = async () => (groups ??= rows(await readInRoot(rootPath, 'etc/group')));
  const primaryGid = async (uid: number) => {
    const row = (await pw()).find((r) => r[2] === String(uid));
    return row && NUMERIC.test(row[3] ?? '') ? Number(row[3]) : 0;
  };

  let uid: number;
  let gid: number | undefined;
  if (runAsUser !== undefined) {
    uid = runAsUser;
  } else {
    const spec = (image.user ?? '').trim();
    const [u = '', g] = spec.split(':', 2);
    if (u === '') uid = 0;
    else if (NUMERIC.test(u)) uid = Number(u);
    else {
      const row = (await pw()).find((r) => r[0] === u);
      if (!row || !NUMERIC.test(row[2] ?? '')) throw new ContainerConfigError(c.name, `unable to find user ${u}: no matching entries in passwd file`);
      uid = Number(row[2]);
      if (g === undefined && NUMERIC.test(row[3] ?? '')) gid = Number(row[3]);
    }
    if (g !== undefined && g !== '') {
      if (NUMERIC.test(g)) gid = Number(g);
      else {
        const row = (await gr()).find((r) => r[0] === g);
        if (!row || !NUMERIC.test(row[2] ?? '')) throw new ContainerConfigError(c.name, `unable to find group ${g}: no matching entries in group file`);
        gid = Number(row[2]);
      }
    }
  }
  if (runAsGroup !== undefined) gid = runAsGroup;
  gid ??= await primaryGid(uid);
  return { uid, gid };
}
