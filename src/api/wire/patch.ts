// JSON merge patch (RFC 7386) and JSON patch (RFC 6902), applied to copies: inputs are never mutated.
import { ApiError, badRequest } from '../model/status.ts';
import { jsonEqual } from '../model/json-value.ts';

type Rec = Record<string, unknown>;
const isObject = (v: unknown): v is Rec => v !== null && typeof v === 'object' && !Array.isArray(v);

/** A deep copy of a JSON value (undefined stays undefined). */
function clone<T>(v: T): T {
  return v === undefined ? v : structuredClone(v);
}

/**
 * Sets an own member even when the key is "__proto__": JSON bodies may carry such keys, and a plain
 * assignment would change the object's prototype instead of adding data.
 */
function setMember(obj: Rec, key: string, value: unknown): void {
  Object.defineProperty(obj, key, { value, writable: true, enumerable: true, configurable: true });
}

/** Applies an RFC 7386 merge patch: objects merge recursively, null deletes, anything else replaces. */
export function mergePatch(target: unknown, patch: unknown): unknown {
  if (!isObject(patch)) return clone(patch);
  const out: Rec = {};
  if (isObject(target)) for (const [k, v] of Object.entries(target)) setMember(out, k, clone(v));
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else setMember(out, k, mergePatch(Object.hasOwn(out, k) ? out[k] : undefined, v));
  }
  return out;
}

/** A patch that parsed but cannot apply to this document: Kubernetes answers 422 Invalid with the patch library's text. */
const notApplicable = (message: string): ApiError => new ApiError(422, 'Invalid', message);

const OPS = ['add', 'remove', 'replace', 'move', 'copy', 'test'] as const;
type OpName = (typeof OPS)[number];

interface Op {
  op: OpName;
  path: string[];
  rawPath: string;
  from?: string[];
  rawFrom?: string;
  value?: unknown;
}

/** RFC 6901 pointer → reference tokens; "" is the whole document. */
function parsePointer(p: string, i: number, member: string): string[] {
  if (p === '') return [];
  if (!p.startsWith('/')) throw badRequest(`invalid JSON patch operation ${i}: "${member}" must be a JSON pointer starting with "/", got ${JSON.stringify(p)}`);
  return p.slice(1).split('/').map((t) => {
    if (/~(?![01])/.test(t)) throw badRequest(`invalid JSON patch operation ${i}: ${JSON.stringify(p)} has an invalid "~" escape (only ~0 and ~1 are allowed)`);
    // ~1 first, then ~0, so "~01" becomes "~1" (RFC 6901 §4).
    return t.replace(/~1/g, '/').replace(/~0/g, '~');
  });
}

/** Checks the shape of a JSON patch document; structural faults are 400 BadRequest. */
function decodeOps(ops: unknown): Op[] {
  if (!Array.isArray(ops)) throw badRequest('a JSON patch must be a JSON array of operations');
  return ops.map((raw: unknown, i): Op => {
    if (!isObject(raw)) throw badRequest(`invalid JSON patch operation ${i}: must be an object`);
    const op = raw.op;
    if (op === undefined) throw badRequest(`invalid JSON patch operation ${i}: missing "op"`);
    if (typeof op !== 'string' || !(OPS as readonly string[]).includes(op)) {
      throw badRequest(`invalid JSON patch operation ${i}: unsupported "op" ${JSON.stringify(op)} (supported: ${OPS.join(', ')})`);
    }
    if (typeof raw.path !== 'string') throw badRequest(`invalid JSON patch operation ${i} (${op}): missing "path"`);
    const out: Op = { op: op as OpName, path: parsePointer(raw.path, i, 'path'), rawPath: raw.path };
    if (op === 'move' || op === 'copy') {
      if (typeof raw.from !== 'string') throw badRequest(`invalid JSON patch operation ${i} (${op}): missing "from"`);
      out.from = parsePointer(raw.from, i, 'from');
      out.rawFrom = raw.from;
    }
    if (op === 'add' || op === 'replace' || op === 'test') {
      // `"value": null` is a value; only an absent member is missing.
      if (!Object.hasOwn(raw, 'value')) throw badRequest(`invalid JSON patch operation ${i} (${op}): missing "value"`);
      out.value = raw.value;
    }
    return out;
  });
}

const INDEX_RE = /^(0|[1-9]\d*)$/;

/** An array index token: digits without leading zeros, below `limit` (inclusive when adding). */
function arrayIndex(token: string, arr: unknown[], inclusive: boolean): number {
  const n = INDEX_RE.test(token) ? Number(token) : NaN;
  if (!(n < arr.length || (inclusive && n === arr.length))) throw notApplicable(`Unable to access invalid index: ${token}: invalid index referenced`);
  return n;
}

/** The value at `tokens`, or undefined when any step is missing. */
function lookup(doc: unknown, tokens: string[]): { found: boolean; value: unknown } {
  let cur = doc;
  for (const t of tokens) {
    if (Array.isArray(cur)) {
      if (!INDEX_RE.test(t) || Number(t) >= cur.length) return { found: false, value: undefined };
      cur = cur[Number(t)];
    } else if (isObject(cur) && Object.hasOwn(cur, t)) {
      cur = cur[t];
    } else {
      return { found: false, value: undefined };
    }
  }
  return { found: true, value: cur };
}

/** The container that holds the last token of `tokens`. */
function parentOf(doc: unknown, tokens: string[], what: string): Rec | unknown[] {
  const p = lookup(doc, tokens.slice(0, -1));
  if (!p.found || !(Array.isArray(p.value) || isObject(p.value))) throw notApplicable(`${what}: missing value`);
  return p.value;
}

function addAt(doc: unknown, tokens: string[], value: unknown, raw: string): unknown {
  if (tokens.length === 0) return value;
  const parent = parentOf(doc, tokens, `add operation does not apply: doc is missing path: ${JSON.stringify(raw)}`);
  const last = tokens[tokens.length - 1] as string;
  if (Array.isArray(parent)) {
    if (last === '-') parent.push(value);
    else parent.splice(arrayIndex(last, parent, true), 0, value);
  } else {
    setMember(parent, last, value);
  }
  return doc;
}

function removeAt(doc: unknown, tokens: string[], raw: string, opName: string): unknown {
  if (tokens.length === 0) throw notApplicable(`${opName} operation does not apply: cannot remove the whole document`);
  const parent = parentOf(doc, tokens, `${opName} operation does not apply: doc is missing path: ${JSON.stringify(raw)}`);
  const last = tokens[tokens.length - 1] as string;
  if (Array.isArray(parent)) {
    parent.splice(arrayIndex(last, parent, false), 1);
  } else {
    if (!Object.hasOwn(parent, last)) throw notApplicable(`Unable to remove nonexistent key: ${last}: missing value`);
    delete parent[last];
  }
  return doc;
}

function valueAt(doc: unknown, tokens: string[], message: string): unknown {
  const r = lookup(doc, tokens);
  if (!r.found) throw notApplicable(message);
  return r.value;
}

/** Applies an RFC 6902 JSON patch; malformed patches are 400 BadRequest, failures to apply 422 Invalid. */
export function jsonPatch(doc: unknown, ops: unknown): unknown {
  const decoded = decodeOps(ops);
  // One copy up front; every op works on it, so a failing op leaves the caller's document untouched.
  let out = clone(doc);
  for (const o of decoded) {
    switch (o.op) {
      case 'add':
        out = addAt(out, o.path, clone(o.value), o.rawPath);
        break;
      case 'remove':
        out = removeAt(out, o.path, o.rawPath, 'remove');
        break;
      case 'replace':
        valueAt(out, o.path, `replace operation does not apply: doc is missing key: ${o.rawPath}: missing value`);
        if (o.path.length === 0) out = clone(o.value);
        else {
          // Replace is remove-then-add at the same place; for arrays that keeps the index.
          const parent = parentOf(out, o.path, `replace operation does not apply: doc is missing key: ${o.rawPath}: missing value`);
          const last = o.path[o.path.length - 1] as string;
          if (Array.isArray(parent)) parent[arrayIndex(last, parent, false)] = clone(o.value);
          else setMember(parent, last, clone(o.value));
        }
        break;
      case 'move': {
        const from = o.from as string[];
        const value = valueAt(out, from, `move operation does not apply: doc is missing from path: ${JSON.stringify(o.rawFrom)}: missing value`);
        if (o.rawFrom === o.rawPath) break;
        // RFC 6902 §4.4: a location cannot be moved into one of its own children.
        if (o.rawPath.startsWith(`${o.rawFrom}/`)) {
          throw notApplicable(`move operation does not apply: "from" ${JSON.stringify(o.rawFrom)} is a proper prefix of "path" ${JSON.stringify(o.rawPath)}`);
        }
        out = removeAt(out, from, o.rawFrom as string, 'move');
        out = addAt(out, o.path, value, o.rawPath);
        break;
      }
      case 'copy': {
        const value = valueAt(out, o.from as string[], `copy operation does not apply: doc is missing from path: ${JSON.stringify(o.rawFrom)}: missing value`);
        out = addAt(out, o.path, clone(value), o.rawPath);
        break;
      }
      case 'test': {
        const r = lookup(out, o.path);
        if (!r.found || !jsonEqual(r.value, o.value)) throw notApplicable(`testing value ${o.rawPath} failed: test failed`);
        break;
      }
    }
  }
  return out;
}
