// Protobuf request bodies (`application/vnd.kubernetes.protobuf`), decoded into the JSON object
// shape. kubectl ≥ 1.32 sends them for typed commands (create namespace, create service,
// drain --disable-eviction) and never falls back to JSON; replies stay JSON, which client-go reads.
//
// Wire format: the magic `k8s\0`, then runtime.Unknown {1 typeMeta{1 apiVersion, 2 kind}, 2 raw,
// 3 contentEncoding, 4 contentType}; `raw` is the kind's message, whose field tables
// (messages.ts) are generated from the Go struct tags of k8s.io/api. gogo-proto writes every
// non-pointer scalar, so empty strings, zeros, false and empty structs are dropped here (the JSON
// encoder's omitempty); Go pointer fields keep their zero values (`gracePeriodSeconds: 0`).
import { ApiError, badRequest } from '../../model/status.ts';
import { MESSAGES, type FieldDef } from './messages.ts';

export const PROTOBUF_MEDIA_TYPE = 'application/vnd.kubernetes.protobuf';

const MAGIC = [0x6b, 0x38, 0x73, 0x00];

/** `apiVersion/kind` → message key; DeleteOptions is registered in every group version. */
const KINDS: ReadonlyMap<string, string> = new Map([
  ['v1/Pod', 'core.Pod'],
  ['v1/Node', 'core.Node'],
  ['v1/Service', 'core.Service'],
  ['v1/Namespace', 'core.Namespace'],
  ['v1/Event', 'core.Event'],
  ['v1/Secret', 'core.Secret'],
  ['v1/Binding', 'core.Binding'],
  ['policy/v1/Eviction', 'policy.Eviction'],
  ['policy/v1beta1/Eviction', 'policy.Eviction'],
  ['DeleteOptions', 'meta.DeleteOptions'],
]);

const FLAG_REPEATED = 1;
const FLAG_POINTER = 2;
const FLAG_INLINE = 4;

type JsonMap = Record<string, unknown>;

export interface DecodedProtobuf {
  apiVersion: string;
  kind: string;
  object: JsonMap;
  /** Paths of fields the tables do not know (`spec.containers[0].#42`), for fieldValidation. */
  unknown: string[];
}

/** Field paths a decoded body carried that have no JSON name; read by fieldValidation. */
const unknownOf = new WeakMap<object, string[]>();

/** The unknown protobuf fields of an object decodeProtobuf returned (none for JSON bodies). */
export function protobufUnknownFields(obj: unknown): string[] {
  return obj !== null && typeof obj === 'object' ? (unknownOf.get(obj) ?? []) : [];
}

/** Decodes a `k8s\0`-enveloped body into a JSON-shaped object with apiVersion and kind set. */
export function decodeProtobuf(body: Uint8Array): DecodedProtobuf {
  if (body.length < 4 || MAGIC.some((b, i) => body[i] !== b)) throw badRequest('the protobuf body does not start with the k8s\\0 magic number');
  const env = new Reader(body.subarray(4), '');
  let apiVersion = '';
  let kind = '';
  let raw: Uint8Array = new Uint8Array();
  let encoding = '';
  while (!env.done()) {
    const [num, wire] = env.tag();
    if (num === 1 && wire === 2) {
      const tm = new Reader(env.bytes(), '');
      while (!tm.done()) {
        const [n, w] = tm.tag();
        if (n === 1 && w === 2) apiVersion = tm.string();
        else if (n === 2 && w === 2) kind = tm.string();
        else tm.skip(w);
      }
    } else if (num === 2 && wire === 2) raw = env.bytes();
    else if (num === 3 && wire === 2) encoding = env.string();
    else env.skip(wire);
  }
  if (encoding !== '') throw badRequest(`unsupported protobuf content encoding ${JSON.stringify(encoding)}`);
  const key = KINDS.get(`${apiVersion}/${kind}`) ?? (kind === 'DeleteOptions' ? KINDS.get(kind) : undefined);
  if (!key) {
    throw new ApiError(415, 'UnsupportedMediaType', `the protobuf body holds kind ${JSON.stringify(kind)} (apiVersion ${JSON.stringify(apiVersion)}), which this server cannot decode from protobuf; send it as application/json`, { kind });
  }
  const unknown: string[] = [];
  const object = decodeMessage(raw, key, '', unknown);
  object.apiVersion = apiVersion;
  object.kind = kind;
  unknownOf.set(object, unknown);
  return { apiVersion, kind, object, unknown };
}

const fieldIndex = new Map<string, Map<number, FieldDef>>();

function fieldsOf(key: string): Map<number, FieldDef> {
  let m = fieldIndex.get(key);
  if (!m) {
    const defs = MESSAGES[key];
    if (!defs) throw new Error(`protobuf: no message ${key}`);
    m = new Map(defs.map((f) => [f[0], f]));
    fieldIndex.set(key, m);
  }
  return m;
}

function decodeMessage(buf: Uint8Array, key: string, path: string, unknown: string[]): JsonMap {
  const fields = fieldsOf(key);
  const out: JsonMap = {};
  const r = new Reader(buf, path);
  while (!r.done()) {
    const [num, wire] = r.tag();
    const def = fields.get(num);
    if (!def) {
      unknown.push(join(path, `#${num}`));
      r.skip(wire);
      continue;
    }
    const [, name, kind, flags] = def;
    if (flags & FLAG_INLINE) {
      Object.assign(out, decodeMessage(r.bytes(), kind, path, unknown));
      continue;
    }
    const here = join(path, name);
    if (kind.startsWith('map:')) {
      const m = (out[name] ??= {}) as JsonMap;
      const entry = new Reader(r.bytes(), here);
      let k = '';
      let v: unknown;
      while (!entry.done()) {
        const [n, w] = entry.tag();
        if (n === 1 && w === 2) k = entry.string();
        else if (n === 2) v = scalar(entry, w, kind.slice(4), `${here}.value`, unknown);
        else entry.skip(w);
      }
      m[k] = v ?? '';
      continue;
    }
    if (flags & FLAG_REPEATED) {
      const list = (out[name] ??= []) as unknown[];
      // Numeric repeated fields may come packed.
      if (wire === 2 && (kind === 'int' || kind === 'bool')) {
        const packed = new Reader(r.bytes(), here);
        while (!packed.done()) list.push(kind === 'bool' ? packed.varint() !== 0 : packed.varint());
      } else {
        list.push(scalar(r, wire, kind, `${here}[${list.length}]`, unknown));
      }
      continue;
    }
    const v = scalar(r, wire, kind, here, unknown);
    if (flags & FLAG_POINTER ? v !== undefined : !isEmpty(v)) out[name] = v;
    else delete out[name];
  }
  return out;
}

/** One value of `kind` (a scalar, a well-known type or a message) at the reader's position. */
function scalar(r: Reader, wire: number, kind: string, path: string, unknown: string[]): unknown {
  switch (kind) {
    case 'string':
      r.expect(wire, 2, path);
      return r.string();
    case 'bytes':
      r.expect(wire, 2, path);
      return Buffer.from(r.bytes()).toString('base64');
    case 'int':
      r.expect(wire, 0, path);
      return r.varint();
    case 'bool':
      r.expect(wire, 0, path);
      return r.varint() !== 0;
    case 'double':
      r.expect(wire, 1, path);
      return r.double();
    case 'float':
      r.expect(wire, 5, path);
      return r.float();
  }
  r.expect(wire, 2, path);
  const inner = new Reader(r.bytes(), path);
  switch (kind) {
    case 'time':
    case 'microtime': {
      const f = numbers(inner);
      const seconds = f.get(1) ?? 0;
      const nanos = f.get(2) ?? 0;
      if (seconds === 0 && nanos === 0) return undefined;
      const iso = new Date(seconds * 1000).toISOString().slice(0, 19);
      return kind === 'time' ? `${iso}Z` : `${iso}.${String(Math.floor(nanos / 1000)).padStart(6, '0')}Z`;
    }
    case 'duration': {
      const ns = numbers(inner).get(1) ?? 0;
      return `${ns / 1e9}s`;
    }
    case 'quantity':
      return strings(inner).get(1) ?? '';
    case 'intorstr': {
      // IntOrString {1 type, 2 intVal, 3 strVal}: read both kinds of field in one pass.
      let type = 0;
      let intVal = 0;
      let strVal = '';
      while (!inner.done()) {
        const [n, w] = inner.tag();
        if (n === 1 && w === 0) type = inner.varint();
        else if (n === 2 && w === 0) intVal = inner.varint();
        else if (n === 3 && w === 2) strVal = inner.string();
        else inner.skip(w);
      }
      return type === 1 ? strVal : intVal;
    }
    case 'fieldsv1':
    case 'raw': {
      let raw: Uint8Array | undefined;
      while (!inner.done()) {
        const [n, w] = inner.tag();
        if (n === 1 && w === 2) raw = inner.bytes();
        else inner.skip(w);
      }
      if (!raw || raw.length === 0) return undefined;
      try {
        return JSON.parse(Buffer.from(raw).toString('utf8')) as unknown;
      } catch {
        throw badRequest(`${path}: raw field is not JSON`);
      }
    }
  }
  return decodeMessage(inner.rest(), kind, path, unknown);
}

function numbers(r: Reader): Map<number, number> {
  const m = new Map<number, number>();
  while (!r.done()) {
    const [n, w] = r.tag();
    if (w === 0) m.set(n, r.varint());
    else r.skip(w);
  }
  return m;
}

function strings(r: Reader): Map<number, string> {
  const m = new Map<number, string>();
  while (!r.done()) {
    const [n, w] = r.tag();
    if (w === 2) m.set(n, r.string());
    else r.skip(w);
  }
  return m;
}

function isEmpty(v: unknown): boolean {
  if (v === undefined || v === '' || v === 0 || v === false) return true;
  return v !== null && typeof v === 'object' && !Array.isArray(v) && Object.keys(v).length === 0;
}

function join(path: string, key: string): string {
  return path === '' ? key : `${path}.${key}`;
}

const utf8 = new TextDecoder('utf-8', { fatal: false });

/** A protobuf wire reader over one message; malformed input is a 400. */
class Reader {
  private pos = 0;
  constructor(
    private readonly buf: Uint8Array,
    private readonly path: string,
  ) {}

  done(): boolean {
    return this.pos >= this.buf.length;
  }

  rest(): Uint8Array {
    const out = this.buf.subarray(this.pos);
    this.pos = this.buf.length;
    return out;
  }

  tag(): [number, number] {
    const t = this.varint();
    const num = Math.floor(t / 8);
    if (num < 1) throw this.malformed('field number 0');
    return [num, t & 7];
  }

  /** A varint as a JS number; 64-bit negative values (ten bytes) come back negative. */
  varint(): number {
    let result = 0;
    let shift = 0;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.buf.length) throw this.malformed('truncated varint');
      const b = this.buf[this.pos++] as number;
      if (i < 7) {
        result += (b & 0x7f) * 2 ** shift;
      } else {
        // Beyond 49 bits: redo it in BigInt for exact two's complement.
        return this.bigVarint(this.pos - i - 1);
      }
      shift += 7;
      if (b < 0x80) return result;
    }
    throw this.malformed('varint too long');
  }

  private bigVarint(start: number): number {
    this.pos = start;
    let result = 0n;
    let shift = 0n;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.buf.length) throw this.malformed('truncated varint');
      const b = this.buf[this.pos++] as number;
      result |= BigInt(b & 0x7f) << shift;
      shift += 7n;
      if (b < 0x80) return Number(BigInt.asIntN(64, result));
    }
    throw this.malformed('varint too long');
  }

  bytes(): Uint8Array {
    const len = this.varint();
    if (len < 0 || this.pos + len > this.buf.length) throw this.malformed('length past the end of the message');
    const out = this.buf.subarray(this.pos, this.pos + len);
    this.pos += len;
    return out;
  }

  string(): string {
    return utf8.decode(this.bytes());
  }

  double(): number {
    if (this.pos + 8 > this.buf.length) throw this.malformed('truncated double');
    const v = new DataView(this.buf.buffer, this.buf.byteOffset + this.pos, 8).getFloat64(0, true);
    this.pos += 8;
    return v;
  }

  float(): number {
    if (this.pos + 4 > this.buf.length) throw this.malformed('truncated float');
    const v = new DataView(this.buf.buffer, this.buf.byteOffset + this.pos, 4).getFloat32(0, true);
    this.pos += 4;
    return v;
  }

  skip(wire: number): void {
    switch (wire) {
      case 0:
        this.varint();
        return;
      case 1:
        this.advance(8);
        return;
      case 2:
        this.bytes();
        return;
      case 5:
        this.advance(4);
        return;
    }
    throw this.malformed(`unsupported wire type ${wire}`);
  }

  expect(wire: number, want: number, path: string): void {
    if (wire !== want) throw badRequest(`protobuf body: field ${path || '(root)'} has wire type ${wire}, expected ${want}`);
  }

  private advance(n: number): void {
    if (this.pos + n > this.buf.length) throw this.malformed('truncated fixed-width field');
    this.pos += n;
  }

  private malformed(why: string): ApiError {
    return badRequest(`the protobuf body is malformed at ${this.path || 'the top level'}: ${why}`);
  }
}
