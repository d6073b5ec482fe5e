// Zone brands: which exist, which a pod asks for (`spec.runtimeClassName`, whose RuntimeClass
// handler admission writes into the `reddwarf.io/zone-brand` annotation, or that annotation
// itself), which a node offers (its `reddwarf.io/zone-brands` label), and the brand a pod gets on a
// node when it asks for none. Pure: admission, the scheduler and the node agent all use it.
// Brand facts: /work/shared/ILLUMOS-WORKLOADS.md §4 (OmniOS, SmartOS, OpenIndiana).

/** The pod annotation naming the brand it wants. */
export const ZONE_BRAND_ANNOTATION = 'reddwarf.io/zone-brand';
/** The node label listing the brands it runs. */
export const ZONE_BRANDS_LABEL = 'reddwarf.io/zone-brands';
/** The Linux-emulating brand: containers name OCI images, so it is every pod's first choice. */
export const LX_BRAND = 'lx';
/**
 * Native brands shipped by illumos distributions, in the order a node picks its default among
 * them: sparse (OmniOS: shares /usr with the global zone, the lightest), lipkg, pkgsrc (OmniOS),
 * ipkg, nlipkg (OpenIndiana; ipkg also OmniOS), joyent, joyent-minimal (SmartOS).
 */
export const NATIVE_BRANDS: readonly string[] = ['sparse', 'lipkg', 'pkgsrc', 'ipkg', 'nlipkg', 'joyent', 'joyent-minimal'];
/** Brands a pod may run in. */
export const POD_BRANDS: readonly string[] = [LX_BRAND, ...NATIVE_BRANDS];
/** Brands that exist but cannot hold pods yet (hardware VMs). */
export const PLANNED_BRANDS: readonly string[] = ['bhyve', 'kvm'];

/** Why a pod may not ask for `brand`, or undefined when it may. */
export function zoneBrandError(brand: string): string | undefined {
  if (POD_BRANDS.includes(brand)) return undefined;
  if (PLANNED_BRANDS.includes(brand)) return `zone brand "${brand}" is not supported yet`;
  return `unknown zone brand "${brand}": supported brands are ${POD_BRANDS.map((b) => `"${b}"`).join(', ')}`;
}

/** The part of a pod the brand choice reads. */
export interface BrandedPod {
  metadata?: { annotations?: Record<string, string> };
  spec?: { runtimeClassName?: string | null; [extra: string]: unknown };
}

/**
 * The brand a pod asks for, or undefined when it takes its node's default: the annotation (which
 * admission sets from the RuntimeClass handler), else the RuntimeClass name (our RuntimeClasses are
 * named after their handler).
 */
export function requestedBrand(pod: BrandedPod): string | undefined {
  const annotated = pod.metadata?.annotations?.[ZONE_BRAND_ANNOTATION];
  if (annotated) return annotated;
  const rc = pod.spec?.runtimeClassName;
  return typeof rc === 'string' && rc !== '' ? rc : undefined;
}

/** A node's default brand: lx when it has it, else its first native brand (NATIVE_BRANDS order), else any it lists. */
export function defaultBrandOn(brands: Iterable<string>): string | undefined {
  const set = new Set(brands);
  if (set.has(LX_BRAND)) return LX_BRAND;
  return NATIVE_BRANDS.find((b) => set.has(b)) ?? [...set][0];
}

/**
 * The brand `pod` runs in on a node offering `nodeBrands`: what it asks for, else the node's
 * default. The agent calls this; the scheduler has already checked the node offers the brand.
 * @example podBrandOn({ metadata: {} }, ['sparse', 'lx']) // 'lx'
 * @example podBrandOn({ metadata: {} }, ['lipkg', 'sparse']) // 'sparse'
 * @example podBrandOn({ spec: { runtimeClassName: 'pkgsrc' } }, ['lx', 'pkgsrc']) // 'pkgsrc'
 */
export function podBrandOn(pod: BrandedPod, nodeBrands: Iterable<string>): string {
  return requestedBrand(pod) ?? defaultBrandOn(nodeBrands) ?? LX_BRAND;
}

/**
 * The brands a node offers, or undefined when it does not say (then it takes every brand).
 * A Kubernetes label value cannot hold ',', so the agent joins them with '_' (',' read too).
 */
export function nodeBrands(labels: Record<string, string> | undefined): ReadonlySet<string> | undefined {
  const value = labels?.[ZONE_BRANDS_LABEL];
  if (value === undefined) return undefined;
  return new Set(value.split(/[,_]/).map((b) => b.trim()).filter((b) => b !== ''));
}

/** The label value listing `brands`. */
export const brandsLabelValue = (brands: readonly string[]): string => brands.join('_');
