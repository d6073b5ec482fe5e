// Strategic merge patch (`application/strategic-merge-patch+json`) for the core/v1 kinds we
// serve, after apimachinery's pkg/util/strategicpatch as kube-apiserver applies it
// (StrategicMergeMapPatch: parallel deletion lists honoured, unmatched nulls dropped).
//
// Maps merge recursively and `null` deletes a key. Lists whose field carries
// `patchStrategy:"merge"` in k8s.io/api/core/v1 merge element-wise by their `patchMergeKey`
// (or as a set of primitives); every other list is replaced whole. Directives: `$patch`
// (replace|delete|merge), `$retainKeys`, `$setElementOrder/<list>`,
// `$deleteFromPrimitiveList/<list>`. Merged lists are ordered as apimachinery orders them:
// patch items in patch (or `$setElementOrder`) order, server-only items interleaved by their
// live position — so a new item with no ordering directive comes *before* the live ones.
//
// Deliberate differences from apimachinery, where its behaviour is an accident:
//  - `$patch: delete` on a map removes the key (apimachinery leaves `{}` behind);
//  - `$patch: replace` on a map the live object lacks sets it (apimachinery silently drops it);
//  - `$patch: merge` on a map is an ordinary merge (apimachinery rejects it);
//  - values taken from the patch as a whole (new keys, new list items, replaced lists) are
//    cleaned of nulls and directives (apimachinery leaves that to typed decoding);
//  - `$setElementOrder` on a list without merge strategy is ignored, and on empty lists it
//    is a no-op rather than "no elements in any of the given slices";
//  - errors apimachinery answers with 500 are 400 BadRequest here, except element-type
//    mismatches and lists of lists, which are 422 Invalid.
import { ApiError, badRequest } from '../model/status.ts';

type JsonMap = Record<string, unknown>;

/** Patch metadata of one field: how its list merges, and the schema of its (element) fields. */
interface FieldMeta {
  /** `patchStrategy:"merge"`: merge element-wise (by `key`, or as a primitive set). */
  readonly merge?: true;
  /** `patchMergeKey`. */
  readonly key?: string;
  /** Fields of the struct (or of each list element). */
  readonly fields?: Schema;
}
/** Fields with patch metadata below them; any field not named is a plain map or atomic list. */
type Schema = Readonly<Record<string, FieldMeta>>;

const struct = (fields: Schema): FieldMeta => ({ fields });
const mergeBy = (key: string, fields?: Schema): FieldMeta => (fields ? { merge: true, key, fields } : { merge: true, key });
/** A primitive list with `patchStrategy:"merge"` (a set). */
const SET: FieldMeta = { merge: true };

// From k8s.io/apimachinery/pkg/apis/meta/v1 and k8s.io/api/core/v1 types.go. Lists with no
// patch strategy there — tolerations, taints, readinessGates, envFrom, resizePolicy, command,
// args, containerStatuses, namespace spec.finalizers, externalIPs … — are atomic.
const OBJECT_META: Schema = { ownerReferences: mergeBy('uid'), finalizers: SET };

const CONTAINER: Schema = {
  ports: mergeBy('containerPort'),
  env: mergeBy('name'),
  volumeMounts: mergeBy('mountPath'),
  volumeDevices: mergeBy('devicePath'),
};

const POD_SPEC: Schema = {
  volumes: mergeBy('name'), // merge,retainKeys
  initContainers: mergeBy('name', CONTAINER),
  containers: mergeBy('name', CONTAINER),
  ephemeralContainers: mergeBy('name', CONTAINER),
  imagePullSecrets: mergeBy('name'),
  hostAliases: mergeBy('ip'),
  topologySpreadConstraints: mergeBy('topologyKey'),
  schedulingGates: mergeBy('name'),
  resourceClaims: mergeBy('name'), // merge,retainKeys
  evictionResponders: mergeBy('name'),
};

const POD_STATUS: Schema = {
  conditions: mergeBy('type'),
  hostIPs: mergeBy('ip'),
  podIPs: mergeBy('ip'),
  resourceClaimStatuses: mergeBy('name'), // merge,retainKeys
  nodeAllocatableResourceClaimStatuses: mergeBy('resourceClaimName', { mapping: mergeBy('name'), overhead: mergeBy('name') }),
};

const KINDS: ReadonlyMap<string, Schema> = new Map<string, Schema>([
  ['Pod', { metadata: struct(OBJECT_META), spec: struct(POD_SPEC), status: struct(POD_STATUS) }],
  ['Node', {
    metadata: struct(OBJECT_META),
    spec: struct({ podCIDRs: SET }),
    status: struct({ conditions: mergeBy('type'), addresses: mergeBy('type') }),
  }],
  ['Namespace', { metadata: struct(OBJECT_META), status: struct({ conditions: mergeBy('type') }) }],
  ['Service', {
    metadata: struct(OBJECT_META),
    spec: struct({ ports: mergeBy('port') }),
    status: struct({ conditions: mergeBy('type') }),
  }],
  ['Event', { metadata: struct(OBJECT_META) }],
]);

const DIRECTIVE = '$patch';
const RETAIN_KEYS = '$retainKeys';
const SET_ORDER = '$setElementOrder';
const DELETE_FROM = '$deleteFromPrimitiveList';

/**
 * Applies a strategic merge patch to `original` with the patch metadata of `kind` (`Pod`,
 * `Node`, …). Kinds without metadata get JSON merge patch (RFC 7386) semantics, directives
 * still honoured. Neither input is modified. Throws ApiError 400 for malformed patches and 422
 * for lists that cannot be merged.
 */
export function strategicMergePatch(kind: string, original: unknown, patch: unknown): unknown {
  if (!isMap(patch)) throw badRequest(`json: cannot unmarshal ${jsonKind(patch)} into Go value of type map[string]interface {}`);
  const base: JsonMap = isMap(original) ? structuredClone(original) : {};
  return mergeMap(base, patch, KINDS.get(kind), kind || 'object') ?? {};
}

// ---- maps ---------------------------------------------------------------------------------

/** Merges `patch` into `original` (which it mutates); undefined means "delete this map". */
function mergeMap(original: JsonMap, patch: JsonMap, schema: Schema | undefined, path: string): JsonMap | undefined {
  if (has(patch, DIRECTIVE)) {
    const d = patch[DIRECTIVE];
    if (d === 'replace') return freshMap(patch);
    if (d === 'delete') return undefined;
    if (d !== 'merge') throw badPatchType(d, patch);
  }
  applyRetainKeys(original, patch);

  const ordered = new Set<string>();
  for (const k of Object.keys(patch)) {
    if (k.startsWith(SET_ORDER)) setElementOrder(original, patch, k, schema, path, ordered);
  }

  const deletions: string[] = [];
  for (const k of Object.keys(patch)) {
    if (k === DIRECTIVE || k === RETAIN_KEYS || k.startsWith(SET_ORDER) || ordered.has(k)) continue;
    if (k.startsWith(DELETE_FROM)) {
      deletions.push(k);
      continue;
    }
    const v = patch[k];
    if (v === null) {
      delete original[k];
      continue;
    }
    const o = has(original, k) ? original[k] : undefined;
    const meta = lookup(schema, k);
    if (isMap(o) && isMap(v)) put(original, k, mergeMap(o, v, meta?.fields, `${path}.${k}`));
    else if (Array.isArray(o) && Array.isArray(v)) put(original, k, mergeList(o, v, meta, `${path}.${k}`));
    else put(original, k, fresh(v)); // new key, or a different type: the patch value wins
  }
  for (const k of deletions) deleteFromPrimitiveList(original, k, patch[k]);
  return original;
}

/** `$retainKeys`: every key the patch sets must be listed; live keys not listed are cleared. */
function applyRetainKeys(original: JsonMap, patch: JsonMap): void {
  if (!has(patch, RETAIN_KEYS)) return;
  const list = patch[RETAIN_KEYS];
  if (!Array.isArray(list)) throw badRequest('invalid patch format of retainKeys');
  const keep = new Set<unknown>(list);
  for (const [k, v] of Object.entries(patch)) {
    if (k === RETAIN_KEYS || k === DIRECTIVE || v === null || k.startsWith(DELETE_FROM) || k.startsWith(SET_ORDER)) continue;
    if (!keep.has(k)) throw badRequest('invalid patch format of retainKeys');
  }
  for (const k of Object.keys(original)) if (!keep.has(k)) delete original[k];
}

/** `$deleteFromPrimitiveList/<list>`: drops those values from the live list (any strategy). */
function deleteFromPrimitiveList(original: JsonMap, directiveKey: string, values: unknown): void {
  const k = extractKey(directiveKey, DELETE_FROM, 'invalid patch format of primitive list');
  if (values === null || !has(original, k)) return;
  const o = original[k];
  if (!Array.isArray(o) || !Array.isArray(values)) return;
  if (o.length === 0 && values.length === 0) return;
  if (elementKind([o, values]) === 'map') throw badRequest('invalid patch format of primitive list');
  const drop = new Set<unknown>(values);
  original[k] = o.filter((x) => !drop.has(x));
}

/**
 * `$setElementOrder/<list>`: merges the list (if the patch has it) and orders the result —
 * listed items in the directive's order, server-only items interleaved by live position.
 */
function setElementOrder(original: JsonMap, patch: JsonMap, directiveKey: string, schema: Schema | undefined, path: string, ordered: Set<string>): void {
  const order = patch[directiveKey];
  if (!Array.isArray(order)) throw badArgType('list', order);
  const k = extractKey(directiveKey, SET_ORDER, 'invalid patch format of setElementOrder list');
  const meta = lookup(schema, k);
  if (!meta?.merge) return; // only merging lists have an order to keep

  let live: unknown[] | undefined;
  let patchList: unknown[] | undefined;
  if (has(original, k) && original[k] != null) {
    const o = original[k];
    if (!Array.isArray(o)) throw badArgType('list', o);
    live = o;
  }
  if (has(patch, k)) {
    const p = patch[k];
    if (p === null) return; // the list is deleted; nothing to order
    if (!Array.isArray(p)) throw badArgType('list', p);
    patchList = p;
  }
  validatePatchWithSetOrderList(patchList ?? [], order, meta.key);

  let merged: unknown[];
  let serverOrder: unknown[] = live ?? [];
  if (live && patchList) ({ list: merged, live: serverOrder } = mergeSlice(live, patchList, meta, `${path}.${k}`));
  else if (live) merged = live;
  else if (patchList) merged = freshList(patchList);
  else return;
  ordered.add(k);

  const kind = elementKind([live ?? [], patchList ?? []]);
  original[k] = kind === undefined ? merged : normalizeOrder(merged, order, serverOrder, meta.key, kind);
}

/** The patch list's items must appear in `$setElementOrder` and in the same relative order. */
function validatePatchWithSetOrderList(patchList: unknown[], order: unknown[], key: string | undefined): void {
  if (order.length === 0 || patchList.length === 0) return;
  const items = key === undefined ? patchList : patchList.filter((e) => {
    if (!isMap(e)) throw badArgType('map', e);
    return e[DIRECTIVE] !== 'delete';
  });
  let pi = 0;
  let oi = 0;
  while (pi < items.length && oi < order.length) {
    const item = items[pi];
    if (isMap(item) && has(item, DIRECTIVE)) {
      pi++;
      continue;
    }
    if (sameMergeKey(item, order[oi], key)) pi++;
    oi++;
  }
  if (pi < items.length) {
    throw badRequest(`The order in patch list:\n${goFmt(patchList)}\n doesn't match ${SET_ORDER} list:\n${goFmt(order)}\n`);
  }
}

function sameMergeKey(left: unknown, right: unknown, key: string | undefined): boolean {
  if (key === undefined) return left === right;
  if (!isMap(left)) throw badArgType('map', left);
  if (!isMap(right)) throw badArgType('map', right);
  if (!has(left, key)) throw noMergeKey(left, key);
  if (!has(right, key)) throw noMergeKey(right, key);
  return left[key] === right[key];
}

// ---- lists --------------------------------------------------------------------------------

/** Merges a patch list into a live list per the field's strategy; returns the new list. */
function mergeList(live: unknown[], patch: unknown[], meta: FieldMeta | undefined, path: string): unknown[] {
  return mergeSlice(live, patch, meta, path).list;
}

interface MergedList {
  /** The merged list, ordered. */
  readonly list: unknown[];
  /**
   * What Go's slice of the live list reads after apimachinery's in-place edits (deletions shift
   * its backing array, the first append after one fills the freed slot). The `$setElementOrder`
   * pass orders server-only items by it, so reproducing it reproduces apimachinery's order. The
   * backing array is taken to be exactly as long as the live list (cap == len), as it is after
   * the DeepCopy/conversion the apiserver does before patching.
   */
  readonly live: unknown[];
}

function mergeSlice(live: unknown[], patch: unknown[], meta: FieldMeta | undefined, path: string): MergedList {
  if (!meta?.merge) return { list: freshList(patch), live }; // atomic
  if (live.length === 0 && patch.length === 0) return { list: live, live };
  const kind = elementKind([live, patch]);

  if (kind !== 'map') {
    // A set of primitives: the union, then ordered like any merged list. With nothing to add,
    // Go deduplicates the live slice itself (moving later values into duplicates' slots).
    if (patch.length === 0) {
      const backing = [...live];
      const n = dedupeScalars(backing);
      return { list: normalizeOrder(backing.slice(0, n), patch, backing, meta.key, 'primitive'), live: backing };
    }
    const both = [...live, ...patch];
    const n = dedupeScalars(both);
    return { list: normalizeOrder(both.slice(0, n), patch, live, meta.key, 'primitive'), live };
  }

  const key = meta.key;
  if (key === undefined) throw badRequest(`cannot merge lists without merge key for ${path}`);
  const backing = [...live];
  let len = backing.length;
  let items: JsonMap[] = [];
  let replace = false;
  for (const e of patch as JsonMap[]) {
    if (!has(e, DIRECTIVE)) {
      items.push(e);
      continue;
    }
    switch (e[DIRECTIVE]) {
      case 'delete': {
        if (!has(e, key)) throw noMergeKey(e, key);
        // Every match goes; each removal shifts the rest of the backing array left.
        for (let i = firstMatch(backing, len, key, e[key]); i >= 0; i = firstMatch(backing, len, key, e[key])) {
          backing.copyWithin(i, i + 1, len);
          len--;
        }
        break;
      }
      case 'replace':
        replace = true; // the list becomes the patch's other items
        break;
      case 'merge':
        throw badRequest('merging lists cannot yet be specified in the patch');
      default:
        throw badPatchType(e[DIRECTIVE], e);
    }
  }
  let server = backing.slice(0, len);
  let aliased = true; // whether `merged` still writes into the live backing array
  if (replace) {
    server = freshList(items);
    items = [];
    aliased = false;
  }

  const merged = [...server];
  for (const e of items) {
    if (!has(e, key)) throw noMergeKey(e, key);
    const i = firstMatch(merged, merged.length, key, e[key]);
    if (i >= 0) {
      merged[i] = mergeMap(merged[i] as JsonMap, e, meta.fields, path) ?? {};
      if (aliased) backing[i] = merged[i];
    } else {
      merged.push(freshMap(e) ?? {});
      if (aliased && merged.length <= backing.length) backing[merged.length - 1] = merged[merged.length - 1];
      else aliased = false; // append outgrew the array: Go reallocates
    }
  }
  return { list: normalizeOrder(merged, items, server, key, 'map'), live: backing };
}

/** Index of the first of `list[0..len)` whose merge key is `value`; -1 if none. */
function firstMatch(list: unknown[], len: number, key: string, value: unknown): number {
  for (let i = 0; i < len; i++) if (matchesKey(list[i], i, key, value)) return i;
  return -1;
}

/**
 * apimachinery's deduplicateScalars, in place: a duplicate's slot takes the last value, so
 * order can change. Returns the new length; the array's tail keeps what Go's would.
 */
function dedupeScalars(s: unknown[]): number {
  let last = s.length - 1;
  for (let i = 0; i < last; i++) {
    for (let j = i + 1; j <= last; j++) {
      if (s[i] === s[j]) {
        s[j] = s[last];
        last--;
        j--;
      }
    }
  }
  return last + 1;
}

function matchesKey(item: unknown, index: number, key: string, value: unknown): boolean {
  if (!isMap(item)) throw badRequest(`value for key ${index} is not a map`);
  return has(item, key) && item[key] === value;
}

type ElementKind = 'map' | 'primitive';

/**
 * apimachinery's ordering of a merged list: the items named by `patchOrder` sorted by it, the
 * rest sorted by `serverOrder`, then the two interleaved — a server-only item goes before a
 * patch item only when both are live and it is live earlier.
 */
function normalizeOrder(merged: unknown[], patchOrder: unknown[], serverOrder: unknown[], key: string | undefined, kind: ElementKind): unknown[] {
  const patchItems: unknown[] = [];
  const serverOnly: unknown[] = [];
  if (key === undefined) {
    const named = new Set(patchOrder);
    for (const v of merged) (named.has(v) ? patchItems : serverOnly).push(v);
  } else {
    for (const v of merged) {
      if (!isMap(v)) throw badArgType('map', v);
      if (!has(v, key)) throw noMergeKey(v, key);
      const value = v[key];
      (patchOrder.some((p, i) => matchesKey(p, i, key, value)) ? patchItems : serverOnly).push(v);
    }
  }
  const left = sortBy(serverOnly, serverOrder, key, kind);
  const right = sortBy(patchItems, patchOrder, key, kind);
  const pos = (x: unknown): number => indexIn(serverOrder, x, key, kind);
  const out: unknown[] = [];
  let i = 0;
  let j = 0;
  while (i < left.length || j < right.length) {
    if (j >= right.length) out.push(left[i++]);
    else if (i >= left.length) out.push(right[j++]);
    else {
      const li = pos(left[i]);
      const ri = pos(right[j]);
      if (li >= 0 && ri >= 0 && li < ri) out.push(left[i++]);
      else out.push(right[j++]);
    }
  }
  return out;
}

/** A stable sort of `items` by their position in `order` (items not in it keep their place). */
function sortBy(items: unknown[], order: unknown[], key: string | undefined, kind: ElementKind): unknown[] {
  if (kind === 'map' && key !== undefined) {
    for (const list of [items, order]) {
      for (const v of list) {
        if (!isMap(v)) throw badArgType('map', v);
        if (!has(v, key)) throw noMergeKey(v, key);
      }
    }
  }
  return items
    .map((item, n) => ({ item, n, at: indexIn(order, item, key, kind) }))
    .sort((a, b) => (a.at >= 0 && b.at >= 0 ? a.at - b.at : 0) || a.n - b.n)
    .map((e) => e.item);
}

function indexIn(list: unknown[], item: unknown, key: string | undefined, kind: ElementKind): number {
  const val = (x: unknown): unknown => (kind === 'map' && key !== undefined ? (isMap(x) ? x[key] : undefined) : x);
  const want = val(item);
  return list.findIndex((x) => val(x) === want);
}

/** The common element type of the lists (422 when they differ, or hold lists). */
function elementKind(lists: unknown[][]): ElementKind | undefined {
  let first: string | undefined;
  for (const list of lists) {
    for (const v of list) {
      const t = goType(v);
      if (first === undefined) {
        if (Array.isArray(v)) throw new ApiError(422, 'Invalid', 'lists of lists are not supported');
        first = t;
      } else if (t !== first) {
        throw new ApiError(422, 'Invalid', `list element types are not identical: ${goFmt(lists)}`);
      }
    }
  }
  if (first === undefined) return undefined;
  return first === MAP_TYPE ? 'map' : 'primitive';
}

// ---- values taken whole from the patch ----------------------------------------------------

/** A patch value with no live counterpart: nulls and directives removed (undefined: drop it). */
function fresh(v: unknown): unknown {
  if (Array.isArray(v)) return freshList(v);
  if (isMap(v)) return freshMap(v);
  return v;
}

function freshMap(m: JsonMap): JsonMap | undefined {
  if (has(m, DIRECTIVE)) {
    const d = m[DIRECTIVE];
    if (d === 'delete') return undefined;
    if (d !== 'replace' && d !== 'merge') throw badPatchType(d, m);
  }
  const out: JsonMap = {};
  for (const [k, v] of Object.entries(m)) {
    if (v === null || isDirectiveKey(k)) continue;
    put(out, k, fresh(v));
  }
  return out;
}

/** List elements that are directives (`{"$patch": …}`) have nothing to add to a new list. */
function freshList(l: unknown[]): unknown[] {
  const out: unknown[] = [];
  for (const e of l) {
    if (isMap(e) && has(e, DIRECTIVE)) {
      const d = e[DIRECTIVE];
      if (d === 'delete' || d === 'replace' || d === 'merge') continue;
      throw badPatchType(d, e);
    }
    out.push(fresh(e));
  }
  return out;
}

const isDirectiveKey = (k: string): boolean =>
  k === DIRECTIVE || k === RETAIN_KEYS || k.startsWith(SET_ORDER) || k.startsWith(DELETE_FROM);

// ---- helpers ------------------------------------------------------------------------------

function isMap(v: unknown): v is JsonMap {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

const has = (m: JsonMap, k: string): boolean => Object.hasOwn(m, k);

const lookup = (schema: Schema | undefined, k: string): FieldMeta | undefined =>
  schema && Object.hasOwn(schema, k) ? schema[k] : undefined;

/** Sets (or, for undefined, deletes) a key; `__proto__` stays an ordinary own key. */
function put(m: JsonMap, k: string, v: unknown): void {
  if (v === undefined) delete m[k];
  else if (k === '__proto__') Object.defineProperty(m, k, { value: v, writable: true, enumerable: true, configurable: true });
  else m[k] = v;
}

/** `$setElementOrder/containers` → `containers`. */
function extractKey(directiveKey: string, prefix: string, error: string): string {
  const slash = directiveKey.indexOf('/');
  if (slash < 0 || directiveKey.slice(0, slash) !== prefix) throw badRequest(error);
  return directiveKey.slice(slash + 1);
}

const MAP_TYPE = 'map[string]interface {}';

/** The Go type encoding/json would decode `v` to (as Kubernetes' json package does). */
function goType(v: unknown): string {
  if (v === null || v === undefined) return '<nil>';
  if (Array.isArray(v)) return '[]interface {}';
  switch (typeof v) {
    case 'object': return MAP_TYPE;
    case 'string': return 'string';
    case 'boolean': return 'bool';
    case 'number': return Number.isInteger(v) ? 'int64' : 'float64';
    default: return typeof v;
  }
}

function jsonKind(v: unknown): string {
  if (Array.isArray(v)) return 'array';
  if (v === null) return 'null';
  return typeof v === 'number' ? 'number' : typeof v === 'boolean' ? 'bool' : typeof v;
}

/** Go's `%v` of a decoded JSON value, for messages worded like apimachinery's. */
function goFmt(v: unknown): string {
  if (v === null || v === undefined) return '<nil>';
  if (Array.isArray(v)) return `[${v.map(goFmt).join(' ')}]`;
  if (isMap(v)) return `map[${Object.keys(v).sort().map((k) => `${k}:${goFmt(v[k])}`).join(' ')}]`;
  return String(v);
}

const noMergeKey = (m: JsonMap, key: string): ApiError =>
  badRequest(`map: ${goFmt(m)} does not contain declared merge key: ${key}`);

const badPatchType = (t: unknown, m: JsonMap): ApiError =>
  badRequest(`unknown patch type: ${goFmt(t)} in map: ${goFmt(m)}`);

const badArgType = (expected: 'map' | 'list', actual: unknown): ApiError =>
  badRequest(`expected a ${expected === 'map' ? MAP_TYPE : '[]interface {}'}, but received a ${goType(actual)}`);
