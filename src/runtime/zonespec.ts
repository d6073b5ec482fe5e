// Pod → ZoneSpec (SPEC §5.4): brand, processes, caps, names and network. The IP is allocated by
// the caller, so building a spec never holds an address (upstream allocated one here, §6.1).
import type { Container, Pod, ResourceList } from '../api/model/types.ts';
import { parseCpu, parseMemory } from '../api/model/quantity.ts';
import { POD_BRANDS, podBrandOn, ZONE_BRAND_ANNOTATION } from '../api/model/brands.ts';
import { InvalidZoneSpec } from './errors.ts';
import type { IpAllocation } from './ipam.ts';
import { isValidLinkName, isValidZoneName, vnicName, zoneName } from '../api/model/zone-names.ts';
import type { RuntimeContainer, ZoneBrand, ZoneSpec } from './runtime.ts';

/** The pod annotation naming the Linux image an `lx` zone is installed from. */
export const LX_IMAGE_ANNOTATION = 'reddwarf.io/lx-image';

export interface ZoneSpecOptions {
  /** Parent directory of zonepaths, e.g. `/rpool/zones`. */
  zonepathPrefix: string;
  /** The etherstub (or physical link) the pod's VNIC sits on. */
  link: string;
  /** The pod's address, from Ipam.allocate. */
  ip: IpAllocation;
  /** The brands this node offers: a pod that asks for none gets lx, else the first native one (podBrandOn). */
  brands: readonly string[];
  /**
   * An lx pod must name the image to install from (illumos); the mock installs nothing. The image
   * store (issue 12, Images) replaces the annotation with the containers' OCI images.
   */
  lxNeedsImage?: boolean;
  /**
   * The containers as resolved against their images (src/agent/workload.ts); without them each
   * runs its command and args on the zone's own userland, as root in `/`.
   */
  resolved?: { initContainers: RuntimeContainer[]; containers: RuntimeContainer[] };
}

/** A pod that cannot become a zone; names the pod. */
export class PodSpecError extends Error {
  constructor(readonly pod: string, problem: string) {
    super(`pod ${pod}: ${problem}`);
    this.name = 'PodSpecError';
  }
}

/** Builds the ZoneSpec of `pod`; throws PodSpecError for an unknown brand or an lx pod without an image. */
export function zoneSpecFor(pod: Pod, opts: ZoneSpecOptions): ZoneSpec {
  const name = pod.metadata?.name;
  const namespace = pod.metadata?.namespace || 'default';
  if (!name) throw new PodSpecError(`${namespace}/`, 'Pod has no name');
  const key = `${namespace}/${name}`;
  if (!pod.spec) throw new PodSpecError(key, 'Pod has no spec');
  const annotations = pod.metadata.annotations ?? {};
  const wanted = podBrandOn(pod, opts.brands);
  // Upstream turned an unknown brand into a zone of its own brand without a word (SPEC §11.21).
  const brand = POD_BRANDS.find((b) => b === wanted) as ZoneBrand | undefined;
  if (!brand) throw new PodSpecError(key, `unknown zone brand "${wanted}" (annotation ${ZONE_BRAND_ANNOTATION} or spec.runtimeClassName): supported brands are ${POD_BRANDS.join(', ')}`);
  const imagePath = annotations[LX_IMAGE_ANNOTATION];
  // Refused here, before anything exists on the host (upstream failed only at install, §5.6).
  const hasImage = [...(opts.resolved?.initContainers ?? []), ...(opts.resolved?.containers ?? [])].some((c) => c.image);
  if (brand === 'lx' && !imagePath && !hasImage && opts.lxNeedsImage) throw new PodSpecError(key, `brand lx installs from a container image or the annotation ${LX_IMAGE_ANNOTATION} (path of a Linux image): the pod has neither`);
  const zone = zoneName(namespace, name);
  const containers = pod.spec.containers ?? [];
  const cpu = sumResources(containers, (r) => parseCpu(r.cpu));
  const memory = sumResources(containers, (r) => parseMemory(r.memory));
  const spec: ZoneSpec = {
    pod: key,
    uid: pod.metadata.uid ?? '',
    zoneName: zone,
    brand,
    zonepath: `${opts.zonepathPrefix.replace(/\/+$/, '')}/${zone}`,
    network: { vnic: vnicName(namespace, name), link: opts.link, ...opts.ip },
    restartPolicy: pod.spec.restartPolicy ?? 'Always',
    initContainers: opts.resolved?.initContainers ?? (pod.spec.initContainers ?? []).map(withoutImage),
    containers: opts.resolved?.containers ?? containers.map(withoutImage),
  };
  if (brand === 'lx' && imagePath) spec.imagePath = imagePath;
  if (cpu > 0) spec.cpuCapMillis = cpu;
  if (memory > 0) spec.memoryCapBytes = memory;
  return spec;
}

/**
 * Why `spec` cannot be provisioned (checked by runtimes before they create anything), or undefined.
 * `lxNeedsImage` false: the mock, which installs nothing, takes lx zones without an image.
 */
export function zoneSpecProblem(spec: ZoneSpec, lxNeedsImage = true): string | undefined {
  if (!isValidZoneName(spec.zoneName)) return `'${spec.zoneName}' is not a valid zone name`;
  if (!isValidLinkName(spec.network.vnic)) return `'${spec.network.vnic}' is not a valid datalink name`;
  if (spec.brand === 'lx' && !spec.imagePath && lxNeedsImage && ![...spec.initContainers, ...spec.containers].some((c) => c.image)) return 'LX brand zone requires an image path';
  return undefined;
}

/** Throws InvalidZoneSpec when `spec` cannot be provisioned. */
export function assertZoneSpec(spec: ZoneSpec, lxNeedsImage = true): void {
  const problem = zoneSpecProblem(spec, lxNeedsImage);
  if (problem) throw new InvalidZoneSpec(spec.zoneName, problem);
}

/** A container on the zone's own userland: its command and args, literal env values, root in `/`. */
function withoutImage(c: Container): RuntimeContainer {
  return {
    name: c.name,
    argv: [...(c.command ?? []), ...(c.args ?? [])],
    env: (c.env ?? []).flatMap((e): [string, string][] => (typeof e.value === 'string' ? [[e.name, e.value]] : [])),
    cwd: c.workingDir || '/',
    uid: 0,
    gid: 0,
  };
}

/**
 * Per container the limits map when it exists (even without this resource), else the requests;
 * unparsable and negative values count 0, and the sum stays a safe integer (upstream wrapped, §11.22).
 */
function sumResources(containers: Container[], value: (r: ResourceList) => number | undefined): number {
  let sum = 0;
  for (const c of containers) {
    const list = c.resources?.limits ?? c.resources?.requests;
    const v = list ? (value(list) ?? 0) : 0;
    sum = Math.min(Number.MAX_SAFE_INTEGER, sum + Math.max(0, v));
  }
  return sum;
}
