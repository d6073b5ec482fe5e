// Host side of zone brands: which brands this host really has (a directory with a config.xml
// under /usr/lib/brand, as zoneadm itself reads them) and which illumos distribution it runs
// (/etc/release, else `uname -v`), so the agent advertises them on its Node. Paths and commands
// are injectable for tests.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PLANNED_BRANDS, POD_BRANDS } from '../api/model/brands.ts';

/** Where illumos keeps one directory per installed brand (each with its config.xml). */
export const BRAND_DIR = '/usr/lib/brand';
/** The release file every illumos distribution writes. */
export const RELEASE_FILE = '/etc/release';
/** The node annotation naming the distribution (`OmniOS`, `SmartOS`, …). */
export const OS_DISTRIBUTION_ANNOTATION = 'reddwarf.io/os-distribution';

/**
 * What the mock runtime advertises: an OmniOS host with the lx package installed — lx, every
 * pod's default (containers name OCI images), and sparse, OmniOS's lightest native brand — so both
 * the image path and the native path run without illumos.
 */
export const MOCK_BRANDS: readonly string[] = ['lx', 'sparse'];

export interface Distribution {
  /** `OmniOS`, `SmartOS`, `OpenIndiana`, `Helios`, `Tribblix`, `illumos` (unrecognised), or `mock`. */
  name: string;
  /** The first line of /etc/release, or `uname -v`: what Node.status.nodeInfo.osImage shows. */
  release: string;
}

/** Every brand installed on the host (planned ones such as bhyve included), sorted; [] when the directory is missing. */
export function detectBrands(dir: string = BRAND_DIR): string[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  return names.filter((n) => existsSync(join(dir, n, 'config.xml'))).sort();
}

/** The installed brands pods can use, in POD_BRANDS order (lx first, then natives by preference). */
export function podBrandsOf(installed: readonly string[]): string[] {
  return POD_BRANDS.filter((b) => installed.includes(b));
}

const DISTRIBUTIONS: readonly [RegExp, string][] = [
  [/omnios/i, 'OmniOS'],
  [/smartos|joyent_/i, 'SmartOS'],
  [/openindiana/i, 'OpenIndiana'],
  [/helios/i, 'Helios'],
  [/tribblix/i, 'Tribblix'],
];

/** The distribution named by a release line (`OmniOS v11 r151050y`) or `uname -v` (`omnios-r151050-…`, `joyent_2024…`). */
export function distributionOf(text: string): string {
  return DISTRIBUTIONS.find(([re]) => re.test(text))?.[1] ?? 'illumos';
}

const unameV = (): string | undefined => {
  try {
    return execFileSync('uname', ['-v'], { encoding: 'utf8', timeout: 5000 }).trim();
  } catch {
    return undefined;
  }
};

/** The host's distribution from /etc/release's first non-empty line, else `uname -v`. */
export function detectDistribution(o: { releaseFile?: string; uname?: () => string | undefined } = {}): Distribution {
  let release = '';
  try {
    release = readFileSync(o.releaseFile ?? RELEASE_FILE, 'utf8').split('\n').map((l) => l.trim()).find((l) => l !== '') ?? '';
  } catch {
    // No release file: fall back to the kernel version string.
  }
  if (release === '') release = (o.uname ?? unameV)() ?? '';
  return { name: release === '' ? 'illumos' : distributionOf(release), release: release || 'illumos' };
}

/** What a node advertises: the brands pods may use there and its distribution. */
export interface HostBrands {
  brands: string[];
  distribution: Distribution;
}

/** Thrown for a `--supported-brands` value that cannot be honoured; the CLI turns it into a usage error. */
export class BrandsError extends Error {
  constructor(message: string) {
    super(`--supported-brands: ${message}`);
    this.name = 'BrandsError';
  }
}

/** Parses an explicit `--supported-brands` list: pod brands only; bhyve/kvm are refused with a clear word. */
export function parseBrandList(v: string): string[] {
  const list = v.split(',').map((s) => s.trim()).filter(Boolean);
  if (list.length === 0) throw new BrandsError('needs at least one brand, or auto');
  for (const b of list) {
    if (PLANNED_BRANDS.includes(b)) throw new BrandsError(`the ${b} brand cannot hold pods yet`);
    if (!POD_BRANDS.includes(b)) throw new BrandsError(`unknown brand ${JSON.stringify(b)} (known: ${POD_BRANDS.join(', ')})`);
  }
  return [...new Set(list)];
}

export interface ResolveOptions {
  brandDir?: string;
  releaseFile?: string;
  uname?: () => string | undefined;
}

/**
 * The brands and distribution a node advertises for `--supported-brands` (`auto` or a list).
 * auto on illumos detects the installed brands (an error when none can hold pods); on the mock it
 * is MOCK_BRANDS. A list on illumos must name installed brands (unchecked when the brand directory
 * is missing altogether, as on the simulated host); on the mock any pod brand goes.
 */
export function resolveHostBrands(flag: string, runtime: 'mock' | 'illumos', o: ResolveOptions = {}): HostBrands {
  const distribution: Distribution = runtime === 'mock' ? { name: 'mock', release: `mock zones on ${process.platform}` } : detectDistribution(o);
  if (flag.trim() !== 'auto') {
    const brands = parseBrandList(flag);
    // A host without the brand directory at all cannot be checked: the operator's list stands.
    if (runtime === 'illumos' && existsSync(o.brandDir ?? BRAND_DIR)) {
      const installed = detectBrands(o.brandDir);
      const missing = brands.filter((b) => !installed.includes(b));
      if (missing.length > 0) throw new BrandsError(`${missing.join(', ')} not installed on this host (${o.brandDir ?? BRAND_DIR} has ${installed.join(', ') || 'no brands'})`);
    }
    return { brands, distribution };
  }
  if (runtime === 'mock') return { brands: [...MOCK_BRANDS], distribution };
  const installed = detectBrands(o.brandDir);
  const brands = podBrandsOf(installed);
  if (brands.length === 0) throw new BrandsError(`no brand that can hold pods is installed (${o.brandDir ?? BRAND_DIR} has ${installed.join(', ') || 'nothing'}; install e.g. the lx or sparse brand package)`);
  return { brands, distribution };
}
