// Server-side apply (`application/apply-patch+yaml`): a reasonable subset of
// sigs.k8s.io/structured-merge-diff as kube-apiserver runs it.
//
// Ownership is tracked per leaf field in `metadata.managedFields` (fieldsV1 notation: `f:<field>`,
// list items of keyed lists as `k:{"name":"c"}` with a `.` entry for the item itself, members of
// primitive sets as `v:<json>`). An apply by manager M:
//  - conflicts (409, reason Conflict, causes FieldManagerConflict) when it sets a field another
//    manager owns to a different value, unless forced — forcing takes the field away from them;
//  - removes the fields M applied before and omits now, unless another manager also owns them;
//  - merges the configuration into the live object: maps recursively, keyed lists item by item
//    (merge keys as in strategic.ts), primitive sets as unions, everything else replaced;
//  - records M's set as one `operation: Apply` entry.
// Not modelled: ownership taken by non-apply writes (Update entries are kept but not recomputed),
// versions other than v1, and list types other than the merge keys below.
import { ApiError } from '../model/status.ts';
import type { KubeObject, ManagedFieldsEntry } from '../model/types.ts';

type JsonMap = Record<string, unknown>;
/** A fieldsV1 set: `{"f:spec": {"f:containers": {"k:{\"name\":\"c\"}": {".": {}, "f:image": {}}}}}`. */
export type FieldTree = { [key: string]: FieldTree };

interface ListMeta {
  /** Keyed list: items identified by these fields. */
  readonly key?: string;
  /** Primitive set (`v:` entries). */
  readonly set?: true;
  readonly fields?: Schema;
}
type Schema = Readonly<Record<string, ListMeta>>;

// The merge keys of core/v1 (the patchMergeKey tags strategic.ts uses as well).
const keyed = (key: string, fields?: Schema): ListMeta => (fields ? { key, fields } : { key });
const SET: ListMeta = { set: true };
const nested = (fields: Schema): ListMeta => ({ fields });

const META: Schema = { ownerReferences: keyed('uid'), finalizers: SET };
const CONTAINER: Schema = { ports: keyed('containerPort'), env: keyed('name'), volumeMounts: keyed('mountPath'), volumeDevices: keyed('devicePath') };
const KINDS: ReadonlyMap<string, Schema> = new Map<string, Schema>([
  ['Pod', {
    metadata: nested(META),
    spec: nested({
      volumes: keyed('name'), initContainers: keyed('name', CONTAINER), containers: keyed('name', CONTAINER),
      ephemeralContainers: keyed('name', CONTAINER), imagePullSecrets: keyed('name'), hostAliases: keyed('ip'),
      schedulingGates: keyed('name'), resourceClaims: keyed('name'), readinessGates: keyed('conditionType'),
    }),
  }],
  ['Node', { metadata: nested(META), spec: nested({ podCIDRs: SET }) }],
  ['Service', { metadata: nested(META), spec: nested({ ports: keyed('port') }) }],
  ['Namespace', { metadata: nested(META) }],
  ['Event', { metadata: nested(META) }],
]);

/** Fields no manager owns: identity and server-maintained metadata, and status on the main resource. */
const SKIP_TOP = new Set(['apiVersion', 'kind', 'status']);
const SKIP_META = new Set(['name', 'namespace', 'uid', 'resourceVersion', 'generation', 'creationTimestamp', 'deletionTimestamp', 'deletionGracePeriodSeconds', 'managedFields', 'selfLink', 'generateName']);

export interface ApplyOptions {
  manager: string;
  force: boolean;
  /** RFC 3339 time for the managedFields entry. */
  now: string;
}

/**
 * Applies `config` (an object of `kind`, identity already pinned) by `opts.manager` to `current`
 * (undefined: the object does not exist yet) and returns the next object with managedFields.
 */
export function applyConfig(kind: string, current: KubeObject | undefined, config: KubeObject, opts: ApplyOptions): KubeObject {
  if (config.metadata.managedFields !== undefined && config.metadata.managedFields !== null) {
    throw new ApiError(400, 'BadRequest', 'metadata.managedFields must be nil');
  }
  const schema = KINDS.get(kind);
  const applied = fieldSet(config, schema);
  const live: KubeObject = current ?? { apiVersion: config.apiVersion, kind: config.kind, metadata: {} };
  const entries: ManagedFieldsEntry[] = (live.metadata.managedFields ?? []).filter((e) => e && typeof e === 'object');
  const mine = entries.find((e) => e.manager === opts.manager && e.operation === 'Apply' && !e.subresource);
  const others = entries.filter((e) => e !== mine);

  // Conflicts: fields this apply sets that another manager owns with a different live value.
  const conflicts: { manager: string; path: string[] }[] = [];
  for (const path of leaves(applied)) {
    for (const e of others) {
      if (!has(e.fieldsV1 as FieldTree | undefined, path)) continue;
      if (path[path.length - 1] === '.') continue;
      if (!sameValue(valueAt(config, path), valueAt(live, path))) conflicts.push({ manager: e.manager ?? '', path });
    }
  }
  if (conflicts.length > 0 && !opts.force) throw conflictError(conflicts);

  const next = structuredClone(live) as KubeObject;
  // Fields this manager applied before and omits now go, unless someone else owns them too.
  const before = mine?.fieldsV1 as FieldTree | undefined;
  if (before) {
    const gone = leaves(before).filter((p) => !has(applied, p) && !others.some((e) => ownsUnder(e.fieldsV1 as FieldTree | undefined, p)));
    // A list item that goes takes its fields with it (removing them first would lose its key).
    const items = gone.filter((p) => p[p.length - 1] === '.').map((p) => p.slice(0, -1));
    const under = (p: string[], item: string[]): boolean => p.length > item.length && item.every((k, i) => p[i] === k);
    const doomed = gone.filter((p) => p[p.length - 1] !== '.' && !items.some((item) => under(p, item)));
    // Deepest first, so nested items go before the items holding them.
    for (const p of [...doomed, ...items].sort((a, b) => b.length - a.length)) removeAt(next, p);
  }
  mergeInto(next as unknown as JsonMap, config as unknown as JsonMap, schema, true);

  // Forced fields change hands; managers left with nothing drop out.
  const kept: ManagedFieldsEntry[] = [];
  for (const e of others) {
    let tree = e.fieldsV1 as FieldTree | undefined;
    for (const c of conflicts) if (c.manager === (e.manager ?? '') && tree) tree = without(tree, c.path);
    if (tree && Object.keys(tree).length > 0) kept.push({ ...e, fieldsV1: tree });
  }
  const entry: ManagedFieldsEntry = { manager: opts.manager, operation: 'Apply', apiVersion: 'v1', time: opts.now, fieldsType: 'FieldsV1', fieldsV1: applied };
  const managed = Object.keys(applied).length > 0 ? [...kept, entry] : kept;
  if (managed.length > 0) next.metadata.managedFields = managed;
  else delete next.metadata.managedFields;
  return next;
}

// ---- field sets ----------------------------------------------------------------------------------

/** The fieldsV1 set of every leaf field `obj` sets. */
export function fieldSet(obj: KubeObject, schema: Schema | undefined): FieldTree {
  const tree: FieldTree = {};
  for (const [k, v] of Object.entries(obj)) {
    if (SKIP_TOP.has(k) || v === undefined || v === null) continue;
    if (k === 'metadata') {
      const m: FieldTree = {};
      for (const [mk, mv] of Object.entries(v as JsonMap)) {
        if (SKIP_META.has(mk) || mv === undefined || mv === null) continue;
        m[`f:${mk}`] = valueSet(mv, schema?.metadata?.fields?.[mk]);
      }
      if (Object.keys(m).length > 0) tree['f:metadata'] = m;
      continue;
    }
    tree[`f:${k}`] = valueSet(v, schema?.[k]);
  }
  return tree;
}

function valueSet(v: unknown, meta: ListMeta | undefined): FieldTree {
  if (Array.isArray(v)) {
    if (meta?.key) {
      const out: FieldTree = {};
      for (const item of v) {
        if (!isMap(item)) continue;
        const sub = mapSet(item, meta.fields);
        sub['.'] = {};
        out[itemKey(meta.key, item)] = sub;
      }
      return out;
    }
    if (meta?.set) return Object.fromEntries(v.map((x) => [`v:${JSON.stringify(x)}`, {}]));
    return {};
  }
  if (isMap(v) && Object.keys(v).length > 0) return mapSet(v, meta?.fields);
  return {};
}

function mapSet(v: JsonMap, fields: Schema | undefined): FieldTree {
  const out: FieldTree = {};
  for (const [k, x] of Object.entries(v)) if (x !== undefined && x !== null) out[`f:${k}`] = valueSet(x, fields?.[k]);
  return out;
}

function itemKey(key: string, item: JsonMap): string {
  return `k:${JSON.stringify({ [key]: item[key] })}`;
}

/** Every owned path: leaves, and `.` entries of list items. */
function leaves(tree: FieldTree, prefix: string[] = [], out: string[][] = []): string[][] {
  for (const [k, sub] of Object.entries(tree)) {
    const p = [...prefix, k];
    if (k === '.' || Object.keys(sub).length === 0) out.push(p);
    else leaves(sub, p, out);
  }
  return out;
}

function has(tree: FieldTree | undefined, path: string[]): boolean {
  let t = tree;
  for (const k of path) {
    if (!t || !Object.hasOwn(t, k)) return false;
    t = t[k];
  }
  return true;
}

/** Whether the tree owns `path` or anything below the item/map it names. */
function ownsUnder(tree: FieldTree | undefined, path: string[]): boolean {
  return has(tree, path[path.length - 1] === '.' ? path.slice(0, -1) : path);
}

function without(tree: FieldTree, path: string[]): FieldTree {
  const copy = structuredClone(tree);
  const stack: FieldTree[] = [copy];
  let t = copy;
  for (const k of path.slice(0, -1)) {
    const next = t[k];
    if (!next) return copy;
    t = next;
    stack.push(t);
  }
  delete t[path[path.length - 1] as string];
  // Prune parents left empty.
  for (let i = path.length - 2; i >= 0; i--) {
    const parent = stack[i] as FieldTree;
    const child = parent[path[i] as string];
    if (child && Object.keys(child).length === 0) delete parent[path[i] as string];
    else break;
  }
  return copy;
}

// ---- values at paths -----------------------------------------------------------------------------

function valueAt(obj: unknown, path: string[]): unknown {
  let v: unknown = obj;
  for (const k of path) {
    if (k === '.') return v;
    if (k.startsWith('f:')) v = isMap(v) ? v[k.slice(2)] : undefined;
    else if (k.startsWith('k:')) v = Array.isArray(v) ? v.find((item) => matchesKey(item, k)) : undefined;
    else if (k.startsWith('v:')) v = Array.isArray(v) ? v.find((x) => `v:${JSON.stringify(x)}` === k) : undefined;
    else return undefined;
    if (v === undefined) return undefined;
  }
  return v;
}

function matchesKey(item: unknown, k: string): boolean {
  if (!isMap(item)) return false;
  const want = JSON.parse(k.slice(2)) as JsonMap;
  return Object.entries(want).every(([f, x]) => sameValue(item[f], x));
}

/** Deletes the field, list item or set member at `path`. */
function removeAt(obj: KubeObject, path: string[]): void {
  const parent = valueAt(obj, path.slice(0, -1));
  const last = path[path.length - 1] as string;
  if (last.startsWith('f:')) {
    if (isMap(parent)) delete parent[last.slice(2)];
  } else if (Array.isArray(parent)) {
    const i = last.startsWith('k:') ? parent.findIndex((item) => matchesKey(item, last)) : parent.findIndex((x) => `v:${JSON.stringify(x)}` === last);
    if (i >= 0) parent.splice(i, 1);
  }
}

// ---- merging -------------------------------------------------------------------------------------

function mergeInto(live: JsonMap, config: JsonMap, schema: Schema | undefined, top: boolean): void {
  for (const [k, v] of Object.entries(config)) {
    if (top && k === 'status') continue;
    if (v === null || v === undefined) continue;
    const meta = top && k === 'metadata' ? { fields: schema?.metadata?.fields } : schema?.[k];
    live[k] = mergeValue(live[k], v, meta);
  }
}

function mergeValue(live: unknown, config: unknown, meta: ListMeta | undefined): unknown {
  if (isMap(config)) {
    const out: JsonMap = isMap(live) ? live : {};
    mergeInto(out, config, meta?.fields, false);
    return out;
  }
  if (Array.isArray(config) && Array.isArray(live)) {
    if (meta?.key) {
      const out = [...live];
      for (const item of config) {
        if (!isMap(item)) continue;
        const k = itemKey(meta.key, item);
        const i = out.findIndex((x) => matchesKey(x, k));
        if (i >= 0) out[i] = mergeValue(out[i], item, { fields: meta.fields });
        else out.push(structuredClone(item));
      }
      return out;
    }
    if (meta?.set) return [...live, ...config.filter((x) => !live.some((y) => sameValue(x, y)))];
  }
  return structuredClone(config);
}

// ---- helpers -------------------------------------------------------------------------------------

function conflictError(conflicts: { manager: string; path: string[] }[]): ApiError {
  const causes = conflicts.map((c) => ({ reason: 'FieldManagerConflict', message: `conflict with ${JSON.stringify(c.manager)} using v1`, field: pathString(c.path) }));
  const byManager = new Map<string, string[]>();
  for (const c of causes) byManager.set(c.message, [...(byManager.get(c.message) ?? []), c.field]);
  const n = conflicts.length;
  let message = `Apply failed with ${n} conflict${n === 1 ? '' : 's'}: `;
  if (n === 1) {
    message += `${causes[0]?.message}: ${causes[0]?.field}`;
  } else {
    message += [...byManager].map(([m, fields]) => `${m.replace(/^conflict with/, fields.length > 1 ? 'conflicts with' : 'conflict with')}:\n${fields.map((f) => `- ${f}`).join('\n')}`).join('\n');
  }
  return new ApiError(409, 'Conflict', message, { causes });
}

/** `.spec.containers[name="c"].image`, as structured-merge-diff prints paths. */
export function pathString(path: string[]): string {
  let out = '';
  for (const k of path) {
    if (k === '.') continue;
    if (k.startsWith('f:')) out += `.${k.slice(2)}`;
    else if (k.startsWith('k:')) out += `[${Object.entries(JSON.parse(k.slice(2)) as JsonMap).map(([f, v]) => `${f}=${JSON.stringify(v)}`).join(',')}]`;
    else if (k.startsWith('v:')) out += `[=${k.slice(2)}]`;
  }
  return out;
}

function sameValue(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  return JSON.stringify(a) === JSON.stringify(b);
}

function isMap(v: unknown): v is JsonMap {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}
