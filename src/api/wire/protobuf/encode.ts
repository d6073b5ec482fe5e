// A minimal protobuf wire writer (proto3 rules: empty strings, false and zero are not written).
// Nested messages are built in their own Writer and copied in behind their length, which is
// simple and fast enough for the documents we encode once per server (OpenAPI v2).

const utf8 = new TextEncoder();

/** Builds one message; `finish()` returns its bytes. */
export class Writer {
  private buf = new Uint8Array(256);
  private len = 0;

  /** A varint field (non-negative int32/int64/uint64/enum values). */
  varint(field: number, value: number): this {
    if (value === 0) return this;
    this.tag(field, 0);
    this.rawVarint(value);
    return this;
  }

  bool(field: number, value: boolean): this {
    return this.varint(field, value ? 1 : 0);
  }

  string(field: number, value: string): this {
    return value === '' ? this : this.bytes(field, utf8.encode(value));
  }

  /** A length-delimited field; unlike strings it is written even when empty. */
  bytes(field: number, value: Uint8Array): this {
    this.tag(field, 2);
    this.rawVarint(value.length);
    this.append(value);
    return this;
  }

  /** An embedded message, always written (message fields have presence). */
  message(field: number, build: (w: Writer) => void): this {
    const inner = new Writer();
    build(inner);
    return this.bytes(field, inner.finish());
  }

  finish(): Uint8Array {
    return this.buf.slice(0, this.len);
  }

  private tag(field: number, wire: number): void {
    this.rawVarint(field * 8 + wire);
  }

  private rawVarint(value: number): void {
    // Negative int64s (ten bytes) are not needed by anything we encode.
    if (!Number.isSafeInteger(value) || value < 0) throw new RangeError(`protobuf: cannot write ${value} as a varint`);
    this.reserve(10);
    let v = value;
    while (v >= 0x80) {
      this.buf[this.len++] = (v % 0x80) | 0x80;
      v = Math.floor(v / 0x80);
    }
    this.buf[this.len++] = v;
  }

  private append(bytes: Uint8Array): void {
    this.reserve(bytes.length);
    this.buf.set(bytes, this.len);
    this.len += bytes.length;
  }

  private reserve(n: number): void {
    if (this.len + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.len + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.len));
    this.buf = next;
  }
}
