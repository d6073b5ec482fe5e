// Each object version's JSON bytes, kept so that a LIST is a concatenation and a GET a lookup,
// not a re-serialisation. Keyed by uid, checked against resourceVersion (which every write
// changes), so a changed object is never answered with its old bytes; bounded by size, oldest
// first out.
import type { KubeObject } from '../api/types.ts';

const DEFAULT_MAX_BYTES = 64 * 1024 * 1024;
const COMMA = Buffer.from(',');
const CLOSE = Buffer.from(']}');

export class EncodedObjects {
  private readonly entries = new Map<string, { rv: string; bytes: Buffer }>();
  private size = 0;

  constructor(private readonly maxBytes = DEFAULT_MAX_BYTES) {}

  /** The JSON of `obj` as stored (uid and resourceVersion name its version). */
  json(obj: KubeObject): Buffer {
    const { uid, resourceVersion: rv } = obj.metadata;
    if (!uid || !rv) return Buffer.from(JSON.stringify(obj));
    const hit = this.entries.get(uid);
    if (hit?.rv === rv) return hit.bytes;
    const bytes = Buffer.from(JSON.stringify(obj));
    if (hit) {
      this.entries.delete(uid);
      this.size -= hit.bytes.length;
    }
    if (bytes.length > this.maxBytes) return bytes;
    this.entries.set(uid, { rv, bytes });
    this.size += bytes.length;
    for (const [k, v] of this.entries) {
      if (this.size <= this.maxBytes) break;
      this.entries.delete(k);
      this.size -= v.bytes.length;
    }
    return bytes;
  }

  /** `{...head, "items": [...]}` from the cached bytes of each item. */
  list(head: Record<string, unknown>, items: readonly KubeObject[]): Buffer {
    return listOf(head, items.map((o) => this.json(o)));
  }

  /** Bytes held (for tests and introspection). */
  get bytes(): number {
    return this.size;
  }
}

/** `{...head, "items": [...]}` from each item's JSON bytes, or from them already joined with commas. */
export function listOf(head: Record<string, unknown>, items: readonly Buffer[] | Buffer): Buffer {
  const start = JSON.stringify(head);
  const parts: Buffer[] = [Buffer.from(`${start.slice(0, -1)}${start.length > 2 ? ',' : ''}"items":[`)];
  if (Buffer.isBuffer(items)) parts.push(items);
  else {
    items.forEach((b, i) => {
      if (i > 0) parts.push(COMMA);
      parts.push(b);
    });
  }
  parts.push(CLOSE);
  return Buffer.concat(parts);
}
