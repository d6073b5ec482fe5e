// Kubernetes resource quantities (apimachinery resource.Quantity): parsing to CPU millicores and
// memory bytes, exactly, and the illumos zone-cap and node-status formats of SPEC §1.7.

/**
 * Kubernetes' documented grammar (the OpenAPI pattern of Quantity), with integer exponents as
 * resource.ParseQuantity requires. `E` alone is the exa suffix; `E3` is an exponent.
 */
const QUANTITY_RE = /^([+-]?)(\d+(?:\.\d*)?|\.\d+)(?:(Ki|Mi|Gi|Ti|Pi|Ei)|([numkMGTPE])|[eE]([+-]?\d+))?$/;

const BINARY_EXP: Record<string, number> = { Ki: 10, Mi: 20, Gi: 30, Ti: 40, Pi: 50, Ei: 60 };
const DECIMAL_EXP: Record<string, number> = { n: -9, u: -6, m: -3, k: 3, M: 6, G: 9, T: 12, P: 15, E: 18 };

// Beyond these powers of ten the answer is saturated or ±1 without building huge BigInts
// ("1e999999999" is a valid quantity and must not allocate a billion digits).
const MAX_DIGITS = 40;
/** int64's range, where Kubernetes' own int64 accessors stop. */
const INT64_MAX = 2n ** 63n - 1n;

/** A parsed quantity as an exact rational: sign × digits × 10^exp10 × 2^exp2. */
export interface Quantity {
  negative: boolean;
  digits: bigint;
  exp10: number;
  exp2: number;
}

/** Parses a quantity string (or a JSON number) as Kubernetes does; undefined when invalid. */
export function parseQuantity(q: unknown): Quantity | undefined {
  let text: string;
  if (typeof q === 'number') {
    if (!Number.isFinite(q)) return undefined;
    text = String(q);
  } else if (typeof q === 'string') {
    text = q;
  } else {
    return undefined;
  }
  const m = QUANTITY_RE.exec(text);
  if (!m) return undefined;
  const [int = '', frac = ''] = (m[2] as string).split('.');
  let exp10 = -frac.length;
  let exp2 = 0;
  if (m[3] !== undefined) exp2 = BINARY_EXP[m[3]] as number;
  else if (m[4] !== undefined) exp10 += DECIMAL_EXP[m[4]] as number;
  else if (m[5] !== undefined) {
    const e = Number(m[5]);
    // A huge exponent only needs to be known as "huge": clamp it so arithmetic stays small.
    exp10 += Math.max(-1000, Math.min(1000, e));
  }
  return { negative: m[1] === '-', digits: BigInt(`${int}${frac}` || '0'), exp10, exp2 };
}

/**
 * The quantity × 10^scale as an integer, rounded away from zero as Kubernetes' Value() and
 * MilliValue() do, saturated to int64.
 */
export function scaledValue(q: Quantity, scale: number): number {
  if (q.digits === 0n) return 0;
  const exp10 = q.exp10 + scale;
  const magnitude = q.digits.toString().length + exp10 + Math.ceil(q.exp2 * Math.LOG10E * Math.LN2);
  let abs: bigint;
  if (magnitude > MAX_DIGITS) abs = INT64_MAX;
  else if (magnitude < -MAX_DIGITS) abs = 1n;
  else {
    const num = q.digits * 10n ** BigInt(Math.max(exp10, 0)) * 2n ** BigInt(q.exp2);
    const den = 10n ** BigInt(Math.max(-exp10, 0));
    abs = (num + den - 1n) / den;
    if (abs > INT64_MAX) abs = INT64_MAX;
  }
  const n = Number(abs);
  return q.negative ? -n : n;
}

/** CPU in millicores ("100m" → 100, "0.5" → 500, "2" → 2000, "1e3" → 1000000); undefined when invalid. */
export function parseCpu(q: unknown): number | undefined {
  const parsed = parseQuantity(q);
  return parsed && scaledValue(parsed, 3);
}

/** Memory in bytes ("1Gi", "1G", "1e3", "128974848"), fractions rounded up; undefined when invalid. */
export function parseMemory(q: unknown): number | undefined {
  const parsed = parseQuantity(q);
  return parsed && scaledValue(parsed, 0);
}

/** A plain count ("110" pods), rounded up like memory; undefined when invalid. */
export const parseCount = parseMemory;

/**
 * A zone CPU cap (zonecfg `capped-cpu ncpus`): millicores ÷ 1000 with two decimals, rounding the
 * exact binary double and breaking exact ties to even, as the Rust reference prints it.
 */
export function formatCpuCap(millicores: number): string {
  // Only x.125, x.375, x.625 and x.875 are exact ties in binary; toFixed rounds those up, Rust to even.
  if (Number.isInteger(millicores) && Math.abs(millicores) % 250 === 125) {
    const abs = Math.abs(millicores);
    const down = Math.floor(abs / 10);
    const hundredths = down % 2 === 0 ? down : down + 1;
    const text = `${Math.floor(hundredths / 100)}.${String(hundredths % 100).padStart(2, '0')}`;
    return millicores < 0 ? `-${text}` : text;
  }
  return (millicores / 1000).toFixed(2);
}

/** A zone memory cap in illumos units: `1G`, `512M`, `256K`, else plain bytes (0 and negatives too). */
export function formatMemoryCap(bytes: number): string {
  return withSuffix(bytes, ['G', 'M', 'K']);
}

/** A node's memory as Kubernetes writes it in status: `16Gi`, `7680Mi`, `512Ki`, else plain bytes. */
export function formatMemoryQuantity(bytes: number): string {
  return withSuffix(bytes, ['Gi', 'Mi', 'Ki']);
}

function withSuffix(bytes: number, [g, m, k]: [string, string, string]): string {
  if (bytes > 0 && Number.isSafeInteger(bytes)) {
    if (bytes % 2 ** 30 === 0) return `${bytes / 2 ** 30}${g}`;
    if (bytes % 2 ** 20 === 0) return `${bytes / 2 ** 20}${m}`;
    if (bytes % 2 ** 10 === 0) return `${bytes / 2 ** 10}${k}`;
  }
  return String(bytes);
}
