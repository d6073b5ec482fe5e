// REST verbs on resources and their subresources: list/watch, create, get, replace, patch,
// delete, the pod subresources status, binding, eviction, finalize and log, and the node API's
// serving certificates (nodes/servingcertificate).
import { apiVersionOf, type ResourceDef } from '../api/model/resources.ts';
import { ApiError, badRequest, cause, invalid, methodNotAllowed, notFound, successStatus, unsupportedMediaType } from '../api/model/status.ts';
import type { KubeObject } from '../api/model/types.ts';
import { parseFieldSelector, parseLabelSelector, matchesLabels, matchesFields, fieldsOf, pinnedField } from '../api/model/selectors.ts';
import { mergePatch, jsonPatch } from '../api/wire/patch.ts';
import { strategicMergePatch } from '../api/wire/strategic.ts';
import { unknownFields } from '../api/wire/schema.ts';
import { applyConfig } from '../api/wire/apply.ts';
import { PROTOBUF_MEDIA_TYPE, protobufUnknownFields } from '../api/wire/protobuf/decode.ts';
import { parseIncludeObject, wantsTable } from '../api/wire/table.ts';
import type { ListResult, Store, Subresource } from '../store/store.ts';
import { selectionKey } from '../store/hub.ts';
import { rfc3339 } from '../store/time.ts';
import { zoneName } from '../api/model/zone-names.ts';
import { decodeObject, mediaType, parseDocument } from './body.ts';
import { checkObject, pinIdentity } from '../api/model/check.ts';
import { realClock, sleep, type Clock } from '../time/clock.ts';
import { json, type HttpReply, type HttpRequest, type Sink } from './http.ts';
import { boolParam, deleteOptions, dryRunParam, fieldValidationParam, intParam, revisionParam } from './query.ts';
import { runWatch, type Framing, type WatchLimits } from './watch.ts';
import { PodLogs } from './pod-log.ts';
import type { NodeAuthority } from './node-authority.ts';
import type { Node } from '../api/model/types.ts';
import { EncodedObjects } from './encoded.ts';
import { CurrentObjects } from './current.ts';

export interface ResourceCall {
  def: ResourceDef;
  namespace?: string;
  name?: string;
  subresource?: string;
  legacyWatch: boolean;
}

const APPLY_PATCH = 'application/apply-patch+yaml';
const PATCH_TYPES = ['application/json-patch+json', 'application/merge-patch+json', 'application/strategic-merge-patch+json', APPLY_PATCH];

/** How long a list with a future resourceVersion waits for the store to catch up. */
const FRESHNESS_WAIT_MS = 3000;

/** Serves one resource request; throws ApiError/StoreError for the caller to turn into a Status. */
export class Rest {
  private readonly logs: PodLogs;
  /** Each object version's JSON, for LIST and GET answers. */
  private readonly encoded = new EncodedObjects();
  private readonly current: CurrentObjects;

  constructor(
    private readonly store: Store,
    private readonly watchLimits: WatchLimits,
    /** The cluster CA and node API credentials (pods/log, nodes/servingcertificate); unset: neither is served. */
    private readonly authority?: NodeAuthority,
    private readonly clock: Clock = realClock,
  ) {
    this.logs = new PodLogs(store, authority, clock);
    this.current = new CurrentObjects(store, this.encoded);
  }

  async serve(req: HttpRequest, call: ResourceCall): Promise<HttpReply> {
    const method = req.method === 'HEAD' ? 'GET' : req.method;
    const { def, name, subresource } = call;
    if (name === undefined) {
      if (method === 'GET') return this.list(req, call);
      if (method === 'POST' && (call.namespace !== undefined || !def.namespaced)) return this.create(req, call);
      throw methodNotAllowed(req.method);
    }
    if (call.legacyWatch) return this.list(req, call);
    if (subresource === undefined) {
      switch (method) {
        case 'GET': return this.get(req, call, name);
        case 'PUT': return this.replace(req, call, name, 'main');
        case 'PATCH': return this.patch(req, call, name, 'main');
        case 'DELETE': return this.delete(req, call, name);
      }
      throw methodNotAllowed(req.method);
    }
    if (!def.subresources.includes(subresource)) throw unservedSubresource(call) ?? notFoundPath();
    switch (`${subresource} ${method}`) {
      case 'status GET': return this.get(req, call, name);
      case 'status PUT': return this.replace(req, call, name, 'status');
      case 'status PATCH': return this.patch(req, call, name, 'status');
      case 'binding POST': return this.bind(req, call, name);
      case 'eviction POST': return this.evict(req, call, name);
      case 'finalize POST': return this.finalize(req, call, name);
      case 'log GET': return this.logs.serve(req, call.namespace ?? '', name);
      case 'servingcertificate POST': return this.signServing(req, name);
    }
    throw methodNotAllowed(req.method);
  }

  /** The watch parameters of a request, for chunked/SSE streams and WebSocket upgrades alike. */
  watchStarter(req: HttpRequest, call: ResourceCall, framing: Framing): (sink: Sink) => void {
    const q = req.query;
    const matches = selectorFilter(q, call.def.resource) ?? (() => true);
    const spec = {
      def: call.def,
      namespace: call.namespace,
      matches,
      nodeName: call.def.resource === 'pods' ? pinnedField(q.get('fieldSelector'), 'pods', 'spec.nodeName') : undefined,
      selector: selectionKey('', q.get('labelSelector') ?? '', q.get('fieldSelector') ?? ''),
      resourceVersion: revisionParam(q),
      sendInitialEvents: boolParam(q, 'sendInitialEvents'),
      bookmarks: boolParam(q, 'allowWatchBookmarks') === true,
      timeoutSeconds: intParam(q, 'timeoutSeconds'),
      table: wantsTable(req.headers.accept ?? '') ? parseIncludeObject(q.get('includeObject')) : undefined,
      framing,
    };
    if (q.get('resourceVersionMatch') && spec.sendInitialEvents === undefined) {
      throw invalid('ListOptions', '', [cause.forbidden('resourceVersionMatch', 'resourceVersionMatch is forbidden for watch unless sendInitialEvents is provided')], 'meta.k8s.io');
    }
    return (sink) => runWatch(this.store, spec, sink, this.watchLimits, this.clock);
  }

  private async list(req: HttpRequest, call: ResourceCall): Promise<HttpReply> {
    const q = req.query;
    const { def } = call;
    const watching = call.legacyWatch || q.get('watch') === 'true' || q.get('watch') === '1' || boolParam(q, 'watch') === true;
    if (watching) {
      const sse = (req.headers.accept ?? '').includes('text/event-stream');
      const start = this.watchStarter(req, call, sse ? 'sse' : 'ndjson');
      const headers: Record<string, string> = sse
        ? { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' }
        : { 'content-type': 'application/json', 'cache-control': 'no-cache, private' };
      // HEAD gets the headers a watch would have, not an endless body.
      if (req.method === 'HEAD') return { status: 200, headers, body: '' };
      return { status: 200, headers, stream: start };
    }
    const filter = selectorFilter(q, def.resource);
    const limit = intParam(q, 'limit');
    const cont = q.get('continue') ?? undefined;
    const rv = revisionParam(q);
    const match = q.get('resourceVersionMatch');
    if (match) {
      if (rv === undefined) throw invalid('ListOptions', '', [cause.forbidden('resourceVersionMatch', 'resourceVersionMatch is forbidden unless resourceVersion is provided')], 'meta.k8s.io');
      if (match !== 'Exact' && match !== 'NotOlderThan') throw invalid('ListOptions', '', [cause.notSupported('resourceVersionMatch', match, ['Exact', 'NotOlderThan'])], 'meta.k8s.io');
      if (cont) throw invalid('ListOptions', '', [cause.forbidden('resourceVersionMatch', 'resourceVersionMatch is forbidden when continue is provided')], 'meta.k8s.io');
      if (match === 'Exact' && rv === 0) throw invalid('ListOptions', '', [cause.forbidden('resourceVersionMatch', 'resourceVersionMatch "exact" is forbidden for resourceVersion "0"')], 'meta.k8s.io');
    }
    if (rv !== undefined && rv > 0) await this.waitForRevision(rv);
    const table = wantsTable(req.headers.accept ?? '');
    const includeObject = table ? parseIncludeObject(q.get('includeObject')) : undefined;
    // The common list (everything, or a namespace): from the current objects, no store read.
    const whole = !filter && !(limit !== undefined && limit > 0) && !cont;
    if (whole && !table) {
      const doc = this.current.document(def.resource, call.namespace, apiVersionOf(def), def.listKind);
      if (doc) return { status: 200, headers: { 'content-type': 'application/json' }, body: doc };
    }
    const result: ListResult = (whole ? this.current.objects(def.resource, call.namespace) : undefined) ?? this.store.list(def.resource, { namespace: call.namespace, limit, continue: cont || undefined, filter });
    const metadata: { resourceVersion: string; continue?: string; remainingItemCount?: number } = { resourceVersion: String(result.revision) };
    if (result.continue) metadata.continue = result.continue;
    if (result.remainingItemCount !== undefined) metadata.remainingItemCount = result.remainingItemCount;
    if (includeObject) {
      return { status: 200, headers: { 'content-type': 'application/json' }, body: this.encoded.table(def.resource, result.items, { includeObject, now: this.clock.now(), ...metadata }) };
    }
    return { status: 200, headers: { 'content-type': 'application/json' }, body: this.encoded.list({ apiVersion: apiVersionOf(def), kind: def.listKind, metadata }, result.items) };
  }

  private async create(req: HttpRequest, call: ResourceCall): Promise<HttpReply> {
    const { def } = call;
    const obj = decodeObject(req, def.kind, apiVersionOf(def));
    const warnings = checkFields(req, def, obj);
    pinIdentity(obj, undefined, def.namespaced ? call.namespace : undefined);
    const created = await this.store.create(def.resource, obj, { dryRun: dryRunParam(req.query) });
    return this.written(req, 201, created, warnings);
  }

  /**
   * A write's answer: the object's JSON, built once and kept in the encoded-objects cache, where
   * the LISTs and GETs that follow (and the list of current objects) take it from. A dry run's
   * object carries the stored version's resourceVersion but not its content: never cached.
   */
  private written(req: HttpRequest, status: number, obj: KubeObject, headers: Record<string, string>): HttpReply {
    if (dryRunParam(req.query)) return json(status, obj, headers);
    return { status, headers: { 'content-type': 'application/json', ...headers }, body: this.encoded.json(obj) };
  }

  private get(req: HttpRequest, call: ResourceCall, name: string): HttpReply {
    const obj = this.mustGet(call, name);
    if (wantsTable(req.headers.accept ?? '')) {
      return { status: 200, headers: { 'content-type': 'application/json' }, body: this.encoded.table(call.def.resource, [obj], { includeObject: parseIncludeObject(req.query.get('includeObject')), now: this.clock.now(), resourceVersion: obj.metadata.resourceVersion ?? '' }) };
    }
    return { status: 200, headers: { 'content-type': 'application/json' }, body: this.encoded.json(obj) };
  }

  private async replace(req: HttpRequest, call: ResourceCall, name: string, sub: Subresource): Promise<HttpReply> {
    const { def } = call;
    const obj = decodeObject(req, def.kind, apiVersionOf(def));
    const warnings = checkFields(req, def, obj);
    pinIdentity(obj, name, def.namespaced ? call.namespace : undefined);
    const { object } = await this.store.update(def.resource, call.namespace ?? '', name, (current) => {
      // A body without managedFields keeps the recorded ones (as kube-apiserver does).
      if (obj.metadata.managedFields === undefined && current?.metadata.managedFields) obj.metadata.managedFields = current.metadata.managedFields;
      return obj;
    }, { subresource: sub, dryRun: dryRunParam(req.query) });
    return this.written(req, 200, object, warnings);
  }

  /** Server-side apply: create-or-update with field ownership (src/api/wire/apply.ts). */
  private async apply(req: HttpRequest, call: ResourceCall, name: string, sub: Subresource): Promise<HttpReply> {
    const { def } = call;
    const manager = req.query.get('fieldManager') ?? '';
    if (manager === '') {
      throw new ApiError(422, 'Invalid', 'fieldManager: Required value: is required for apply patch', { name, kind: def.kind, causes: [{ reason: 'FieldValueRequired', field: 'fieldManager', message: 'Required value: is required for apply patch' }] });
    }
    const force = boolParam(req.query, 'force') === true;
    const config = checkObject(parseDocument(req, APPLY_PATCH), def.kind, apiVersionOf(def));
    const warnings = checkFields(req, def, config);
    pinIdentity(config, name, def.namespaced ? call.namespace : undefined);
    const now = rfc3339(this.clock.now());
    const { object, created } = await this.store.update(def.resource, call.namespace ?? '', name, (current) => applyConfig(def.kind, current, config, { manager, force, now }), {
      subresource: sub,
      createIfMissing: sub === 'main',
      dryRun: dryRunParam(req.query),
    });
    return this.written(req, created ? 201 : 200, object, warnings);
  }

  private async patch(req: HttpRequest, call: ResourceCall, name: string, sub: Subresource): Promise<HttpReply> {
    const { def } = call;
    const type = mediaType(req);
    if (type === APPLY_PATCH) return this.apply(req, call, name, sub);
    if (!PATCH_TYPES.includes(type)) throw unsupportedMediaType(type, PATCH_TYPES);
    if (req.query.get('force') !== null) throw badRequest('force: Forbidden: may not be specified for non-apply patch');
    const patch = parseDocument(req, type);
    const mode = fieldValidationParam(req.query);
    let warnings: Record<string, string> = {};
    if (type !== 'application/json-patch+json') {
      if (patch === null || typeof patch !== 'object' || Array.isArray(patch)) throw badRequest('the patch must be a JSON object');
      warnings = fieldWarnings(def, stripDirectives(patch), mode);
    }
    const { object } = await this.store.update(def.resource, call.namespace ?? '', name, (current) => {
      let next: unknown;
      if (type === 'application/merge-patch+json') next = mergePatch(current, patch);
      else if (type === 'application/strategic-merge-patch+json') next = strategicMergePatch(def.kind, current, patch);
      else next = jsonPatch(current, patch);
      const obj = checkObject(next, def.kind, apiVersionOf(def));
      if (type === 'application/json-patch+json') warnings = fieldWarnings(def, obj, mode);
      // A patch addresses the object of the URL; it cannot move or rename it.
      pinIdentity(obj, name, def.namespaced ? call.namespace : undefined);
      return obj;
    }, { subresource: sub, dryRun: dryRunParam(req.query) });
    return this.written(req, 200, object, warnings);
  }

  private async delete(req: HttpRequest, call: ResourceCall, name: string): Promise<HttpReply> {
    const { def } = call;
    const body = req.body.length > 0 ? bodyOptions(req) : undefined;
    const opts = deleteOptions(req.query, body);
    const dryRun = dryRunParam(req.query) || (opts.dryRun?.includes('All') ?? false);
    const result = await this.store.delete(def.resource, call.namespace ?? '', name, { ...opts, dryRun });
    // Kinds with ReturnDeletedObject answer with the object; the others with a Status.
    if (def.returnsDeleted) return json(200, result.object);
    return json(200, successStatus({ name, ...(def.group ? { group: def.group } : {}), kind: def.resource, uid: result.object.metadata.uid }));
  }

  /** pods/binding: assigns a node, once, to a pod that is not being deleted. */
  private async bind(req: HttpRequest, call: ResourceCall, name: string): Promise<HttpReply> {
    const binding = parseDocument(req) as { metadata?: { name?: string; uid?: string; resourceVersion?: string; annotations?: Record<string, string> }; target?: { kind?: string; name?: string } } | null;
    if (binding === null || typeof binding !== 'object' || Array.isArray(binding)) throw badRequest('the body must be a Binding object');
    const target = binding.target;
    const causes = [];
    if (!target || typeof target.name !== 'string' || target.name === '') causes.push(cause.required('target.name'));
    if (target?.kind !== undefined && target.kind !== '' && target.kind !== 'Node') causes.push(cause.notSupported('target.kind', target.kind, ['Node']));
    if (causes.length > 0) throw invalid('Binding', name, causes);
    const nodeName = target?.name as string;
    const meta = binding.metadata ?? {};
    const request = { nodeName, uid: meta.uid, resourceVersion: meta.resourceVersion, annotations: meta.annotations };
    await this.store.bind(call.def.resource, call.namespace ?? '', name, request, { dryRun: dryRunParam(req.query) });
    return json(201, successStatus(undefined, 201));
  }

  /** pods/eviction: a graceful delete asked for politely (kubectl drain). */
  private async evict(req: HttpRequest, call: ResourceCall, name: string): Promise<HttpReply> {
    const eviction = req.body.length > 0 ? parseDocument(req) : {};
    if (eviction === null || typeof eviction !== 'object' || Array.isArray(eviction)) throw badRequest('the body must be an Eviction object');
    const e = eviction as { kind?: unknown; metadata?: { name?: unknown }; deleteOptions?: unknown };
    if (e.kind !== undefined && e.kind !== 'Eviction') throw badRequest(`expected an Eviction, got kind ${JSON.stringify(e.kind)}`);
    if (e.metadata?.name !== undefined && e.metadata.name !== name) throw badRequest(`name in URL does not match name in Eviction object`);
    const opts = deleteOptions(new URLSearchParams(), e.deleteOptions ?? undefined);
    await this.store.delete(call.def.resource, call.namespace ?? '', name, { ...opts, dryRun: dryRunParam(req.query) });
    return json(201, successStatus(undefined, 201));
  }

  /** pods/finalize: the node agent's word that the zone is gone; removes the object. */
  private async finalize(req: HttpRequest, call: ResourceCall, name: string): Promise<HttpReply> {
    if (!call.def.finalizable) throw notFoundPath();
    const body = req.body.length > 0 ? parseDocument(req) : undefined;
    const uid = (body as { metadata?: { uid?: unknown }; preconditions?: { uid?: unknown } } | undefined)?.preconditions?.uid;
    const removed = await this.store.finalize(call.def.resource, call.namespace ?? '', name, typeof uid === 'string' ? { uid } : {});
    return json(200, { ...successStatus({ name, kind: call.def.resource, uid: removed.metadata.uid }), message: `${call.def.kind} ${name} deleted` });
  }

  /**
   * nodes/servingcertificate: signs a node API serving certificate for the node's key (body
   * `{"csr": "<PEM PKCS#10>"}`), answering `{"certificate": PEM, "ca": PEM}`. Only the node itself
   * (or an admin) may ask (authorize.ts); the names in it are the Node object's, not the request's.
   */
  private async signServing(req: HttpRequest, name: string): Promise<HttpReply> {
    if (!this.authority) throw new ApiError(503, 'ServiceUnavailable', 'this API server has no cluster CA to sign node certificates');
    const body = parseDocument(req) as { csr?: unknown } | null;
    if (body === null || typeof body !== 'object' || typeof body.csr !== 'string') throw badRequest('the body must be {"csr": "<PEM certificate request>"}');
    const node = this.store.get('nodes', '', name) as Node | undefined;
    if (!node) throw notFound('nodes', name);
    try {
      return json(201, await this.authority.signServing(node, body.csr));
    } catch (e) {
      throw badRequest(`cannot sign the certificate request: ${(e as Error).message}`);
    }
  }

  private mustGet(call: ResourceCall, name: string): KubeObject {
    const obj = this.store.get(call.def.resource, call.def.namespaced ? (call.namespace ?? '') : '', name);
    if (!obj) throw notFound(call.def.resource, name, call.def.group);
    return obj;
  }

  private async waitForRevision(rv: number): Promise<void> {
    const deadline = this.clock.now() + FRESHNESS_WAIT_MS;
    while (this.store.revision() < rv) {
      if (this.clock.now() > deadline) {
        throw new ApiError(504, 'Timeout', `Too large resource version: ${rv}, current: ${this.store.revision()}`, { causes: [{ reason: 'ResourceVersionTooLarge', message: 'Too large resource version' }], retryAfterSeconds: 1 });
      }
      await sleep(this.clock, 20);
    }
  }
}

/** The combined label and field selector of a list or watch request. */
function selectorFilter(q: URLSearchParams, resource: string): ((obj: KubeObject) => boolean) | undefined {
  const label = q.get('labelSelector');
  const field = q.get('fieldSelector');
  const ls = label ? parseLabelSelector(label) : undefined;
  const fs = field ? parseFieldSelector(field, resource) : undefined;
  if (!ls && !fs) return undefined;
  return (obj) => (!ls || matchesLabels(ls, obj.metadata.labels)) && (!fs || matchesFields(fs, fieldsOf(resource, obj)));
}

/** DELETE bodies: JSON DeleteOptions (kubectl sends them without kind), or protobuf (typed clients). */
function bodyOptions(req: HttpRequest): unknown {
  const type = mediaType(req);
  if (type !== '' && type !== 'application/json' && type !== 'application/yaml' && type !== PROTOBUF_MEDIA_TYPE) throw unsupportedMediaType(type, ['application/json', 'application/yaml', PROTOBUF_MEDIA_TYPE]);
  return parseDocument(req, type === '' ? 'application/json' : type);
}

/** Server-side field validation of a whole object body; Warn answers in Warning headers. */
function checkFields(req: HttpRequest, def: ResourceDef, obj: KubeObject): Record<string, string> {
  return fieldWarnings(def, obj, fieldValidationParam(req.query));
}

function fieldWarnings(def: ResourceDef, obj: unknown, mode: 'Strict' | 'Warn' | 'Ignore'): Record<string, string> {
  if (mode === 'Ignore') return {};
  const kind = def.kind;
  const unknown = unknownFields(kind, obj);
  const pb = protobufUnknownFields(obj);
  if (pb.length > 0) unknown.push(...pb);
  if (unknown.length === 0) return {};
  if (mode === 'Strict') {
    throw badRequest(`${kind} in version "${def.version}" cannot be handled as a ${kind}: strict decoding error: ${unknown.map((f) => `unknown field "${f}"`).join(', ')}`);
  }
  return { warning: unknown.map((f) => `299 - ${JSON.stringify(`unknown field "${f}"`)}`).join(', ') };
}

/** A patch without strategic-merge directives ($patch, $setElementOrder/…), for field checks. */
function stripDirectives(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(stripDirectives);
  if (v === null || typeof v !== 'object') return v;
  const out: Record<string, unknown> = {};
  for (const [k, val] of Object.entries(v)) if (!k.startsWith('$')) out[k] = stripDirectives(val);
  return out;
}

function notFoundPath(): ApiError {
  return new ApiError(404, 'NotFound', 'the server could not find the requested resource');
}

const UNSERVED_POD_SUBRESOURCES = new Set(['exec', 'attach', 'portforward', 'proxy', 'ephemeralcontainers', 'resize']);

/**
 * kubectl exec/attach/port-forward would otherwise print a bare "could not find the
 * requested resource": say what is missing and where to go instead.
 */
export function unservedSubresource(call: { def: ResourceDef; namespace?: string; name?: string; subresource?: string }): ApiError | undefined {
  if (call.def.resource !== 'pods' || call.subresource === undefined || !UNSERVED_POD_SUBRESOURCES.has(call.subresource)) return undefined;
  const zone = zoneName(call.namespace ?? 'default', call.name ?? '');
  return new ApiError(404, 'NotFound', `pods/${call.subresource} is not served by reddwarf yet; on the pod's node, zone ${zone} is reachable with zlogin ${zone}`);
}
