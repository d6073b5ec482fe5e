// Deep copies of API objects. Objects are JSON values (decoded from JSON, YAML, protobuf or the
// store), for which a plain recursive copy is several times cheaper than structuredClone — and
// the write path copies every object it is handed.

/** A deep copy of a JSON value; anything else (a Uint8Array, a Date) is copied by structuredClone. */
export function cloneJson<T>(v: T): T {
  if (v === null || typeof v !== 'object') return v;
  if (Array.isArray(v)) return v.map(cloneJson) as T;
  const proto = Object.getPrototypeOf(v) as unknown;
  if (proto !== Object.prototype && proto !== null) return structuredClone(v);
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(v)) {
    const c = cloneJson((v as Record<string, unknown>)[k]);
    // A decoded "__proto__" key is data: assigning it would set the copy's prototype instead.
    if (k === '__proto__') Object.defineProperty(out, k, { value: c, enumerable: true, writable: true, configurable: true });
    else out[k] = c;
  }
  return out as T;
}
