// `reddwarf plan`: the exact commands and zonecfg text the illumos runtime would run for a pod —
// agent start, provisioning, deletion — produced by the runtime itself on a DryRunRunner, with
// the zone supervisor's bundle it would write. Images are named, never pulled.
import type { Container, Pod } from '../../api/model/types.ts';
import { formatIpv4, parseCidr } from '../ipam.ts';
import type { RuntimeContainer } from '../runtime.ts';
import { storagePoolConfig, type StorageFlags } from '../storage.ts';
import { podConf, type Bundle, type BundleContainer } from '../supervisor/bundle.ts';
import { ContainerConfigError, expand, resolveEnv, type PodContext } from '../supervisor/resolve.ts';
import { PodSpecError, zoneSpecFor } from '../zonespec.ts';
import { LX_BRAND, podBrandOn } from '../../api/model/brands.ts';
import { DryRunRunner, type PlannedCommand } from './dryrun.ts';
import type { IllumosZoneSpec, ZoneWorkload } from './runtime.ts';
import { illumosRuntime, podLink } from './start.ts';
import { cloneDataset } from './zfs.ts';

/** Where the agent keeps the supervisor it builds (`<data-dir>/supervisor/init-<hash>`). */
const SUPERVISOR_BINARY = '<data-dir>/supervisor/init-<hash>';

export interface PlanOptions {
  storage: StorageFlags;
  etherstub: string;
  directNic?: string;
  podCidr: string;
  zonepathPrefix: string;
  /** The brands the planned node offers (the pod's default comes from them). */
  brands: readonly string[];
}

/** Shell-quotes an argument for display when it needs it. */
function quote(arg: string): string {
  return /^[A-Za-z0-9_./:=@,+$-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`;
}

function render(commands: PlannedCommand[]): string[] {
  const out: string[] = [];
  for (const c of commands) {
    if (c.note) {
      out.push(...c.note.map((l) => `# ${l}`.trimEnd()));
      continue;
    }
    if (c.file) {
      out.push(`# ${c.file.path}:`);
      for (const l of c.file.text.split('\n')) out.push(`#   ${l}`);
    }
    out.push(c.argv.map(quote).join(' '));
  }
  return out;
}

/** Persistent volumes of the pod: its PersistentVolumeClaims, one dataset each (`<ns>-<claim>`). */
function claimVolumes(pod: Pod): string[] {
  const volumes = (pod.spec as { volumes?: { persistentVolumeClaim?: { claimName?: string } }[] } | undefined)?.volumes ?? [];
  const ns = pod.metadata?.namespace || 'default';
  return volumes.flatMap((v) => (v.persistentVolumeClaim?.claimName ? [`${ns}-${v.persistentVolumeClaim.claimName}`] : []));
}

/** The plan text for `pod` (nothing is run). Throws PodSpecError for a pod that cannot be a zone. */
export async function planPod(pod: Pod, o: PlanOptions): Promise<string> {
  const runner = new DryRunRunner(o.directNic ? [o.directNic] : []);
  const cidr = parseCidr(o.podCidr);
  const ip = { ip: formatIpv4(cidr.first), prefixLen: cidr.prefixLen, gateway: formatIpv4(cidr.gateway) };
  const link = podLink(o);
  // As the agent: only lx zones run images; a native brand runs each container's command on the zone's own userland.
  const brand = podBrandOn(pod, o.brands);
  const images = brand === LX_BRAND ? planImages(pod) : new Map<string, string>();
  const ctx = planContext(pod, ip.ip);
  let resolved: { initContainers: RuntimeContainer[]; containers: RuntimeContainer[] };
  try {
    const one = (c: Container): RuntimeContainer => planContainer(c, pod, ctx, images);
    resolved = { initContainers: (pod.spec?.initContainers ?? []).map(one), containers: (pod.spec?.containers ?? []).map(one) };
  } catch (e) {
    if (e instanceof ContainerConfigError) throw new PodSpecError(`${ctx.namespace}/${ctx.name}`, e.message);
    throw e;
  }
  const spec: IllumosZoneSpec = zoneSpecFor(pod, { zonepathPrefix: o.zonepathPrefix, link: link.name, ip, brands: o.brands, lxNeedsImage: true, resolved });
  if (!spec.uid) spec.uid = '<pod uid>';
  const volumes = claimVolumes(pod);
  if (volumes.length > 0) spec.volumes = volumes;
  const workload: ZoneWorkload = {
    supervisor: async (variant) => (variant === 'lx' ? `${SUPERVISOR_BINARY}, the lx build (ld.so.1 and libraries from /native)` : SUPERVISOR_BINARY),
    images: {
      snapshot: (top) => `${storagePoolConfig(o.storage).imagesDataset}/${top}@final`,
      clone: (top, target) => cloneDataset(runner, `${storagePoolConfig(o.storage).imagesDataset}/${top}@final`, target.dataset ?? '', { mountpoint: target.path }),
    },
    // The agent's defaults (--container-log-max-size 10Mi, --container-log-max-files 5, kubelet's 10 s back-off).
    backoffMs: 10_000,
    logMaxBytes: 10 * 2 ** 20,
    logMaxFiles: 5,
    writeBundle: async (root, b, init) => runner.note(bundleNote(root, b, init, pod, images)),
  };
  const rt = illumosRuntime({ storage: o.storage, etherstub: o.etherstub, podCidr: o.podCidr, runner, workload, ...(o.directNic ? { directNic: o.directNic } : {}) });
  await rt.initialize();
  const start = runner.take();
  await rt.provision(spec);
  const provision = runner.take();
  await rt.deprovision(spec);
  const deletion = runner.take();
  const n = spec.network;
  return [
    `# reddwarf plan for pod ${spec.pod}: nothing was run.`,
    `# zone ${spec.zoneName} (brand ${spec.brand}), VNIC ${n.vnic} on ${link.kind} ${link.name}, address ${n.ip}/${n.prefixLen} via ${n.gateway}`,
    `# (the first free address of ${cidr.cidr}; the agent hands out the lowest free one)`,
    ...(brand === LX_BRAND ? imageLines(images) : [`# Zone brand ${brand} runs each container's command on the zone's own userland: images are names only, nothing is pulled.`]),
    '',
    '## agent start (once per host)',
    ...render(start),
    '',
    '## apply: provision',
    ...render(provision),
    '',
    '## delete: deprovision (persistent volumes are kept)',
    ...render(deletion),
    '',
  ].join('\n');
}

/** What the agent resolves a pod's containers against; the node's own values are named, not known. */
function planContext(pod: Pod, podIP: string): PodContext {
  const m = pod.metadata ?? { name: '' };
  return {
    name: m.name ?? '',
    namespace: m.namespace || 'default',
    uid: m.uid ?? '<pod uid>',
    nodeName: '<node>',
    hostname: m.name ?? '',
    podIP,
    hostIP: '<node ip>',
    ...(m.labels ? { labels: m.labels } : {}),
    ...(m.annotations ? { annotations: m.annotations } : {}),
    ...(pod.spec?.securityContext ? { securityContext: pod.spec.securityContext } : {}),
  };
}

/**
 * A container as the agent resolves it (src/agent/workload.ts), without its image's config: env
 * with HOSTNAME and `$(VAR)`/fieldRef expansion, argv from command and args, the
 * securityContext's user. An empty argv is left for the bundle note to explain.
 */
function planContainer(c: Container, pod: Pod, ctx: PodContext, images: Map<string, string>): RuntimeContainer {
  const env = resolveEnv(c, {}, ctx);
  const vars = new Map(env);
  const argv = [...(c.command ?? []), ...(c.args ?? [])].map((s) => expand(s, (n) => vars.get(n)));
  const uid = c.securityContext?.runAsUser ?? pod.spec?.securityContext?.runAsUser ?? 0;
  const gid = c.securityContext?.runAsGroup ?? pod.spec?.securityContext?.runAsGroup ?? 0;
  const out: RuntimeContainer = { name: c.name, argv, env, cwd: c.workingDir || '/', uid, gid };
  const top = c.image ? images.get(c.image) : undefined;
  if (c.image && top) out.image = { ref: c.image, digest: top, top };
  return out;
}

/** One placeholder per image reference: the plan pulls nothing, so no layer chain id is known. */
function planImages(pod: Pod): Map<string, string> {
  const placeholders = new Map<string, string>();
  for (const c of [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])]) {
    if (c.image && !placeholders.has(c.image)) placeholders.set(c.image, `<image${placeholders.size + 1}>`);
  }
  return placeholders;
}

function imageLines(images: Map<string, string>): string[] {
  if (images.size === 0) return [];
  return [
    '# Images are named, not pulled: the agent pulls each (imagePullPolicy, imagePullSecrets) before provisioning;',
    ...[...images].map(([ref, top]) => `#   ${top} stands for the top layer chain of ${ref} (its dataset under the images dataset)`),
    "#   argv, env, cwd and user below are the pod's own; the image's Entrypoint, Cmd, Env, WorkingDir and User add to them once pulled.",
  ];
}

/** The bundle the runtime would write into the zone root, readably. */
function bundleNote(root: string, b: Bundle, init: string, pod: Pod, images: Map<string, string>): string[] {
  const byName = new Map<string, Container>([...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])].map((c) => [c.name, c]));
  const out = [
    `write the zone supervisor's bundle into ${root}/.reddwarf/ (files, not commands):`,
    `  init      <- ${init} (src/runtime/supervisor/init.c, built with the node's C compiler; zone init by bootargs -i)`,
    '  pod.conf:',
    ...podConf(b).trimEnd().split('\n').map((l) => `    ${l}`),
  ];
  const one = (c: BundleContainer, kind: string): string[] => {
    const spec = byName.get(c.name);
    const image = spec?.image && images.has(spec.image) ? `${spec.image} (${images.get(spec.image)})` : undefined;
    let argv = c.argv.map(quote).join(' ');
    if (!spec?.command?.length && image) argv = spec?.args?.length ? `<Entrypoint of ${spec.image}> ${argv}` : `<Entrypoint and Cmd of ${spec?.image}>`;
    return [
      `  containers/${c.name}/  (${kind})`,
      `    argv  ${argv || "(none: without an image the container runs its command on the zone's userland; the agent refuses it: set command)"}`,
      `    env   ${c.env.map(([k, v]) => quote(`${k}=${v}`)).join(' ') || '(none)'}`,
      `    root  ${c.root}${c.root === '/' ? " (the zone's own userland)" : image ? ` (a clone of ${image})` : ''}`,
      `    cwd   ${c.cwd}`,
      `    user  ${c.uid}:${c.gid}`,
    ];
  };
  for (const c of b.initContainers) out.push(...one(c, 'init container'));
  for (const c of b.containers) out.push(...one(c, 'container'));
  out.push('  control/, logs/  (empty: requests to the supervisor; CRI logs logs/<container>/<instance>.log)');
  return out;
}
