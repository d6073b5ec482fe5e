// Seeded fuzzing helpers shared by the fuzz tests: the FUZZ_SEED / FUZZ_CASES convention, a
// reproducible PRNG and a generator of awkward strings, names and values.

/** FUZZ_SEED, else a fresh seed (print it in the test name so a failure can be replayed). */
export const fuzzSeed = (): number => Number(process.env.FUZZ_SEED ?? Date.now() % 2 ** 31);
/** FUZZ_CASES, else `fallback`. */
export const fuzzCases = (fallback: number): number => Number(process.env.FUZZ_CASES ?? fallback);

/** mulberry32: small, fast, reproducible. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export class Gen {
  constructor(readonly r: () => number) {}
  int(n: number): number {
    return Math.floor(this.r() * n);
  }
  pick<T>(xs: readonly T[]): T {
    return xs[this.int(xs.length)] as T;
  }
  chance(p: number): boolean {
    return this.r() < p;
  }
  str(max = 12): string {
    const alphabets = ['abcdefghijklmnopqrstuvwxyz0123456789-.', '%/?#&=,!~:;"\'\\ \t\n{}[]()<>*', 'äöü日本\u0000\u202e\uffff'];
    const a = this.pick(alphabets);
    let s = '';
    for (let i = this.int(max + 1); i > 0; i--) s += a[this.int(a.length)];
    return s;
  }
  name(): string {
    return this.pick(['p1', 'p2', 'n1', 'default', 'kube-system', '', 'A', 'x'.repeat(300), 'a..b', '-x', this.str(8), 'fuzz-' + this.int(5)]);
  }
  value(depth = 0): unknown {
    switch (this.int(depth > 2 ? 5 : 8)) {
      case 0: return this.int(1e6) - 5e5;
      case 1: return this.str();
      case 2: return this.chance(0.5);
      case 3: return null;
      case 4: return this.pick([1e308, -0, 0.5, 2 ** 53 + 1, '100m', '1Gi', 'NaN']);
      case 5: return Array.from({ length: this.int(4) }, () => this.value(depth + 1));
      default: {
        const o: Record<string, unknown> = {};
        for (let i = this.int(4); i > 0; i--) o[this.pick(['metadata', 'spec', 'status', 'name', 'labels', 'containers', 'nodeName', 'phase', this.str(6)])] = this.value(depth + 1);
        return o;
      }
    }
  }
  object(kind: string, ns?: string): Record<string, unknown> {
    const o: Record<string, unknown> = { apiVersion: this.pick(['v1', 'v2', '', 'apps/v1']), kind: this.chance(0.8) ? kind : this.str(5) };
    const md: Record<string, unknown> = { name: this.name() };
    if (ns !== undefined && this.chance(0.7)) md.namespace = this.chance(0.8) ? ns : this.name();
    if (this.chance(0.3)) md.labels = { [this.pick(['app', 'a/b', this.str(5)])]: this.pick(['x', '', this.str(5)]) };
    if (this.chance(0.2)) md.resourceVersion = this.pick(['1', '0', 'abc', String(this.int(1000))]);
    if (this.chance(0.1)) md.finalizers = [this.str(8)];
    if (this.chance(0.1)) md.deletionTimestamp = '2020-01-01T00:00:00Z';
    o.metadata = this.chance(0.9) ? md : this.value();
    if (this.chance(0.8)) o.spec = this.chance(0.6) ? { containers: [{ name: 'c', image: 'nginx', resources: { requests: { cpu: this.pick(['100m', '1', 'x', '-1']), memory: this.pick(['1Gi', '1e3', '']) } } }], nodeName: this.chance(0.3) ? this.name() : undefined } : this.value();
    if (this.chance(0.3)) o.status = this.value();
    return o;
  }
}

export const withTimeout = <T>(p: Promise<T>, ms: number, what: string): Promise<T> =>
  new Promise<T>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`${what} did not answer within ${ms} ms`)), ms);
    p.then((v) => {
      clearTimeout(t);
      resolve(v);
    }, (e: unknown) => {
      clearTimeout(t);
      reject(e instanceof Error ? e : new Error(String(e)));
    });
  });
