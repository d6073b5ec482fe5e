// Pod IP allocation from one IPv4 CIDR, kept in the `ipam` table of the LMDB environment so it
// survives restarts. Lowest free address first; the network is masked (SPEC §6.1, §11.19).
import type { Database, RootDatabase } from 'lmdb';

/** What a pod gets: its address and how to route. */
export interface IpAllocation {
  ip: string;
  prefixLen: number;
  gateway: string;
}

/** A parsed pod CIDR; addresses are unsigned 32-bit numbers. */
export interface Cidr {
  /** The masked form, e.g. `10.88.0.0/16` for `10.88.5.7/16`. */
  cidr: string;
  network: number;
  prefixLen: number;
  gateway: number;
  /** First address handed to a pod (network + 2). */
  first: number;
  broadcast: number;
}

/** The pod CIDR cannot be parsed; the message is upstream's. */
export class InvalidCidr extends Error {
  constructor(readonly input: string, message: string) {
    super(`Invalid configuration: ${message}`);
    this.name = 'InvalidCidr';
  }
}

/** Every address of the CIDR is taken. */
export class IpamPoolExhausted extends Error {
  constructor(readonly cidr: string) {
    super(`IPAM pool exhausted: no free addresses in ${cidr} (expand the pod CIDR or delete pods)`);
    this.name = 'IpamPoolExhausted';
  }
}

const OCTET = '(25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)';
const QUAD_RE = new RegExp(`^${OCTET}\\.${OCTET}\\.${OCTET}\\.${OCTET}$`);

/** Parses an IPv4 dotted quad strictly (no leading zeros, no spaces); undefined when invalid. */
export function parseIpv4(s: string): number | undefined {
  const m = QUAD_RE.exec(s);
  if (!m) return undefined;
  return ((Number(m[1]) << 24) | (Number(m[2]) << 16) | (Number(m[3]) << 8) | Number(m[4])) >>> 0;
}

/** Formats an unsigned 32-bit address as a dotted quad. */
export function formatIpv4(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

/** Parses `a.b.c.d/n` as SPEC §6.1 does, but masks the network (upstream used the address as given). */
export function parseCidr(s: string): Cidr {
  const parts = s.split('/');
  if (parts.length !== 2) throw new InvalidCidr(s, `Invalid CIDR format: '${s}' (use format like '10.88.0.0/16')`);
  const [addr = '', len = ''] = parts;
  const address = parseIpv4(addr);
  if (address === undefined) throw new InvalidCidr(s, `Invalid network address: '${addr}'`);
  // Rust's u8 parse: optional `+`, leading zeros allowed, nothing above 255.
  const digits = /^\+?(\d+)$/.exec(len)?.[1]?.replace(/^0+(?=\d)/, '');
  if (digits === undefined || digits.length > 3 || Number(digits) > 255) throw new InvalidCidr(s, `Invalid prefix length: '${len}'`);
  const prefixLen = Number(digits);
  if (prefixLen > 32) throw new InvalidCidr(s, `Prefix length ${prefixLen} is out of range`);
  const mask = prefixLen === 0 ? 0 : (0xffffffff << (32 - prefixLen)) >>> 0;
  const network = (address & mask) >>> 0;
  const broadcast = (network | ~mask) >>> 0;
  return { cidr: `${formatIpv4(network)}/${prefixLen}`, network, prefixLen, gateway: network + 1, first: network + 2, broadcast };
}

// Keys: `ip:<8 hex>` → pod key (hex keeps LMDB's byte order numeric) and `pod:<ns>/<name>` → ip,
// the reverse index that makes allocate/release lookups direct instead of upstream's scan.
const ipKey = (n: number): string => `ip:${n.toString(16).padStart(8, '0')}`;
const podKeyOf = (pod: string): string => `pod:${pod}`;
const IP_START = 'ip:';
const IP_END = 'ip;';

/** The pod IP allocator of one node. */
export class Ipam {
  /**
   * Every address below this one is taken (as far as this instance has seen): the search for a
   * free one starts here, so an allocation does not walk every address held (O(pods) each).
   */
  private lowWater: number;

  private constructor(
    private readonly db: Database<string, string>,
    private readonly range: Cidr,
  ) {
    this.lowWater = range.first;
  }

  /** Opens (or creates) the `ipam` table in `root` for `cidr`; throws InvalidCidr. */
  static open(root: RootDatabase, cidr: string): Ipam {
    const range = parseCidr(cidr);
    return new Ipam(root.openDB<string, string>('ipam', { encoding: 'string' }), range);
  }

  /** The masked CIDR, e.g. `10.88.0.0/16`. */
  get cidr(): string {
    return this.range.cidr;
  }

  /** The pod's address: the one it holds, else the lowest free one; throws IpamPoolExhausted. */
  async allocate(podKey: string): Promise<IpAllocation> {
    let ip: number | undefined;
    // Read and write in one transaction callback: lmdb-js runs callbacks one after another in the
    // write transaction, so concurrent callers never see the same address as free. Never throw in
    // here: the transaction may be shared with other writers (the store's).
    await this.db.transaction(() => {
      const held = this.db.get(podKeyOf(podKey));
      const heldIp = held === undefined ? undefined : parseIpv4(held);
      if (heldIp !== undefined && this.usable(heldIp)) {
        ip = heldIp;
        return;
      }
      // Held under another CIDR (the flag changed between runs): give it up for one in this range.
      if (heldIp !== undefined) this.db.remove(ipKey(heldIp));
      const free = this.lowestFree();
      if (free === undefined) {
        if (held !== undefined) this.db.remove(podKeyOf(podKey));
        return;
      }
      this.db.put(ipKey(free), podKey);
      this.db.put(podKeyOf(podKey), formatIpv4(free));
      this.lowWater = free + 1;
      ip = free;
    });
    if (ip === undefined) throw new IpamPoolExhausted(this.range.cidr);
    return this.allocation(ip);
  }

  /** Frees the pod's address and returns it; undefined when it held none (not an error). */
  async release(podKey: string): Promise<string | undefined> {
    let released: string | undefined;
    await this.db.transaction(() => {
      released = this.db.get(podKeyOf(podKey));
      if (released === undefined) return;
      const n = parseIpv4(released);
      if (n !== undefined && this.db.get(ipKey(n)) === podKey) {
        this.db.remove(ipKey(n));
        this.lowWater = Math.min(this.lowWater, n);
      }
      this.db.remove(podKeyOf(podKey));
    });
    return released;
  }

  /** The pod's current allocation in this CIDR, without allocating. */
  lookup(podKey: string): IpAllocation | undefined {
    const held = this.db.get(podKeyOf(podKey));
    const n = held === undefined ? undefined : parseIpv4(held);
    return n !== undefined && this.usable(n) ? this.allocation(n) : undefined;
  }

  /** Every allocation, by ascending address. */
  list(): { ip: string; pod: string }[] {
    const out: { ip: string; pod: string }[] = [];
    for (const { key, value } of this.db.getRange({ start: IP_START, end: IP_END })) {
      out.push({ ip: formatIpv4(parseInt(key.slice(IP_START.length), 16)), pod: value });
    }
    return out;
  }

  private usable(n: number): boolean {
    return n >= this.range.first && n < this.range.broadcast;
  }

  /** The lowest usable address without an entry: walks the allocated ones from the low-water mark to the first gap. */
  private lowestFree(): number | undefined {
    const { first, broadcast } = this.range;
    if (first >= broadcast) return undefined;
    let candidate = Math.max(first, this.lowWater);
    for (const key of this.db.getKeys({ start: ipKey(candidate), end: ipKey(broadcast) })) {
      const n = parseInt(key.slice(IP_START.length), 16);
      if (n > candidate) break;
      if (n === candidate) candidate++;
    }
    return candidate < broadcast ? candidate : undefined;
  }

  private allocation(n: number): IpAllocation {
    return { ip: formatIpv4(n), prefixLen: this.range.prefixLen, gateway: formatIpv4(this.range.gateway) };
  }
}
