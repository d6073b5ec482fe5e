// Zone brands a pod may ask for with the `reddwarf.io/zone-brand` annotation, and which a node
// offers with its `reddwarf.io/zone-brands` label. Pure: admission (src/api/validation.ts) uses it too.

/** The pod annotation naming the brand it wants. */
export const ZONE_BRAND_ANNOTATION = 'reddwarf.io/zone-brand';
/** The node label listing the brands it runs. */
export const ZONE_BRANDS_LABEL = 'reddwarf.io/zone-brands';
/** The brand of a pod without the annotation. */
export const DEFAULT_BRAND = 'reddwarf';
/** Brands the runtime can build. */
export const KNOWN_BRANDS: readonly string[] = ['reddwarf', 'lx'];
/** Brands that are planned but cannot be built yet. */
export const PLANNED_BRANDS: readonly string[] = ['bhyve'];

/** Why a pod may not ask for `brand`, or undefined when it may. */
export function zoneBrandError(brand: string): string | undefined {
  if (KNOWN_BRANDS.includes(brand)) return undefined;
  if (PLANNED_BRANDS.includes(brand)) return `zone brand "${brand}" is not supported yet`;
  return `unknown zone brand "${brand}": supported brands are ${KNOWN_BRANDS.map((b) => `"${b}"`).join(', ')}`;
}

/** The brand a pod wants (annotation, default `reddwarf`). */
export function podBrand(annotations: Record<string, string> | undefined): string {
  return annotations?.[ZONE_BRAND_ANNOTATION] ?? DEFAULT_BRAND;
}

/**
 * The brands a node offers, or undefined when it does not say (then it takes every brand).
 * SPEC §1.5 joins them with ','; a Kubernetes label value cannot hold ',', so '_' separates too.
 */
export function nodeBrands(labels: Record<string, string> | undefined): ReadonlySet<string> | undefined {
  const value = labels?.[ZONE_BRANDS_LABEL];
  if (value === undefined) return undefined;
  return new Set(value.split(/[,_]/).map((b) => b.trim()).filter((b) => b !== ''));
}
