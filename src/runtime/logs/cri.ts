// The CRI log line format (`<RFC3339Nano> stdout|stderr F|P <text>`), its timestamps, and the
// writer that applies kubelet's output options (timestamps prefix, sinceTime, limitBytes).

/** One parsed CRI record. */
export interface CriRecord {
  /** The timestamp as written (RFC 3339, any fraction, any offset). */
  time: string;
  /** Nanoseconds since the epoch, for comparisons. */
  ns: bigint;
  stream: 'stdout' | 'stderr';
  /** P: a fragment of a longer line, continued by the next record. */
  partial: boolean;
  /** The text, without the record's own newline. */
  text: Buffer;
}

const TS_RE = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:\d{2})$/;

/** Nanoseconds since the epoch of an RFC 3339 timestamp, or undefined if it is not one. */
export function parseTimestamp(s: string): bigint | undefined {
  const m = TS_RE.exec(s);
  if (!m) return undefined;
  const ms = Date.parse(`${m[1]}${m[3] === 'Z' ? 'Z' : m[3]}`);
  if (Number.isNaN(ms)) return undefined;
  const frac = BigInt((m[2] ?? '').padEnd(9, '0') || '0');
  return BigInt(ms) * 1_000_000n + frac;
}

/**
 * A timestamp as Go's `time.RFC3339Nano` prints it after parsing (what kubelet prefixes with
 * `--timestamps`): trailing zeros of the fraction trimmed, a zero offset written `Z`.
 */
export function formatTimestamp(s: string): string {
  const m = TS_RE.exec(s);
  if (!m) return s;
  const frac = (m[2] ?? '').replace(/0+$/, '');
  const zone = m[3] === '+00:00' || m[3] === '-00:00' ? 'Z' : (m[3] as string);
  return `${m[1]}${frac ? `.${frac}` : ''}${zone}`;
}

/** An RFC3339Nano UTC timestamp for `ms` (what writers of CRI lines put first). */
export function criTimestamp(ms: number, extraNs = 0): string {
  const iso = new Date(ms).toISOString();
  const nanos = String((ms % 1000) * 1_000_000 + extraNs).padStart(9, '0');
  return `${iso.slice(0, 19)}.${nanos}Z`;
}

/** One CRI line (with its newline) for `text`, which must hold no newline. */
export function criLine(ms: number, stream: 'stdout' | 'stderr', text: string, partial = false): string {
  return `${criTimestamp(ms)} ${stream} ${partial ? 'P' : 'F'} ${text}\n`;
}

/** Parses one line (without its newline); undefined for a line that is not CRI (skipped, as kubelet does). */
export function parseCriLine(line: Buffer): CriRecord | undefined {
  const s1 = line.indexOf(0x20);
  if (s1 < 0) return undefined;
  const s2 = line.indexOf(0x20, s1 + 1);
  if (s2 < 0) return undefined;
  const time = line.subarray(0, s1).toString('latin1');
  const stream = line.subarray(s1 + 1, s2).toString('latin1');
  if (stream !== 'stdout' && stream !== 'stderr') return undefined;
  const ns = parseTimestamp(time);
  if (ns === undefined) return undefined;
  // The tag field may carry more flags after the P/F (`F:x`); only the first matters.
  const s3 = line.indexOf(0x20, s2 + 1);
  const tag = line.subarray(s2 + 1, s3 < 0 ? line.length : s3).toString('latin1');
  const partial = tag.split(':')[0] === 'P';
  if (!partial && tag.split(':')[0] !== 'F') return undefined;
  return { time, ns, stream, partial, text: s3 < 0 ? Buffer.alloc(0) : line.subarray(s3 + 1) };
}

/** What the reader sends a chunk to; a returned promise is awaited (backpressure). */
export type LogOut = (chunk: Buffer) => void | Promise<void>;

/** The limit of --limit-bytes was reached: the stream ends. */
export class LimitReached extends Error {
  constructor() {
    super('limitBytes reached');
  }
}

/**
 * kubelet's LogWriter: turns records into output. P fragments join into one line (a timestamp
 * prefix only at the start of a line), records before `sinceNs` are skipped, and the output is
 * cut at `limitBytes` (then LimitReached is thrown).
 */
export class CriWriter {
  private remaining: number;
  private lineStart = true;

  constructor(
    private readonly out: LogOut,
    private readonly o: { timestamps?: boolean; sinceNs?: bigint; limitBytes?: number } = {},
  ) {
    this.remaining = o.limitBytes ?? Number.POSITIVE_INFINITY;
  }

  async write(r: CriRecord): Promise<void> {
    if (this.o.sinceNs !== undefined && r.ns < this.o.sinceNs) return;
    const parts: Buffer[] = [];
    if (this.o.timestamps && this.lineStart) parts.push(Buffer.from(`${formatTimestamp(r.time)} `));
    parts.push(r.text);
    if (!r.partial) parts.push(NL);
    this.lineStart = !r.partial;
    let chunk = parts.length === 1 ? (parts[0] as Buffer) : Buffer.concat(parts);
    if (chunk.length > this.remaining) chunk = chunk.subarray(0, this.remaining);
    this.remaining -= chunk.length;
    if (chunk.length > 0) await this.out(chunk);
    if (this.remaining <= 0) throw new LimitReached();
  }
}

const NL = Buffer.from('\n');
