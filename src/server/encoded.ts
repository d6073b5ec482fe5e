// Each object version's JSON bytes, kept so that a LIST is a concatenation and a GET a lookup,
// not a re-serialisation. Keyed by uid, checked against resourceVersion (which every write
// changes), so a changed object is never answered with its old bytes; bounded by size, oldest
// first out.
import type { KubeObject } from '../api/model/types.ts';
import { toTable, type TableOptions } from '../api/wire/table.ts';

const DEFAULT_MAX_BYTES = 64 * 1024 * 1024;
const COMMA = Buffer.from(',');
const CLOSE = Buffer.from(']}');
const CLOSE_OBJECT = Buffer.from('}');

export class EncodedObjects {
  private readonly entries = new Map<string, { rv: string; bytes: Buffer }>();
  private size = 0;

  constructor(private readonly maxBytes = DEFAULT_MAX_BYTES) {}

  /** The JSON of `obj` as stored (uid and resourceVersion name its version). */
  json(obj: KubeObject): Buffer {
    return this.cached(obj, '', () => obj);
  }

  /** The JSON of `obj`'s PartialObjectMetadata (Table rows with includeObject=Metadata). */
  metadata(obj: KubeObject): Buffer {
    return this.cached(obj, 'm:', () => ({ kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: obj.metadata }));
  }

  /** A Table (src/api/wire/table.ts) as JSON, each row's object from the cache. */
  table(resource: string, objects: readonly KubeObject[], opts: TableOptions): Buffer {
    const { rows, ...rest } = toTable(resource, objects, { ...opts, includeObject: 'None' });
    const head = JSON.stringify(rest);
    const parts: Buffer[] = [Buffer.from(`${head.slice(0, -1)},"rows":[`)];
    rows.forEach((row, i) => {
      const obj = objects[i] as KubeObject;
      const r = JSON.stringify(row);
      const sep = i > 0 ? ',' : '';
      if (opts.includeObject === 'None') parts.push(Buffer.from(sep + r));
      else parts.push(Buffer.from(`${sep}${r.slice(0, -1)},"object":`), opts.includeObject === 'Object' ? this.json(obj) : this.metadata(obj), CLOSE_OBJECT);
    });
    parts.push(CLOSE);
    return Buffer.concat(parts);
  }

  private cached(obj: KubeObject, kind: string, value: () => unknown): Buffer {
    const { uid, resourceVersion: rv } = obj.metadata;
    if (!uid || !rv) return Buffer.from(JSON.stringify(value()));
    const key = kind + uid;
    const hit = this.entries.get(key);
    if (hit?.rv === rv) return hit.bytes;
    const bytes = Buffer.from(JSON.stringify(value()));
    if (hit) {
      this.entries.delete(key);
      this.size -= hit.bytes.length;
    }
    if (bytes.length > this.maxBytes) return bytes;
    this.entries.set(key, { rv, bytes });
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
