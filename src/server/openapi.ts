// The OpenAPI v3 documents for /openapi/v3/api/v1 and /openapi/v3/apis/<group>/<version>, generated
// from GROUP_VERSIONS: enough for kubectl's QueryParamVerifierV3.
//
// kubectl (create/apply/replace/edit with --validate=strict) looks for each kind's PATCH operation
// carrying `x-kubernetes-group-version-kind` and a `fieldValidation` query parameter; finding them it
// leaves validation to the server and sends `?fieldValidation=Strict`.
//
// The component schemas deliberately carry NO `x-kubernetes-group-version-kind`: `kubectl apply` (and
// `kubectl diff`) compute their strategic merge patch from the first component schema whose GVK list
// matches the kind. Our schemas are shallow (spec/status are free-form objects), so that computation
// would fail ("unable to find api field") and print `warning: error calculating patch from openapi v3
// spec` on every apply; without the extension kubectl silently uses its compiled-in core/v1 types.
import { createHash } from 'node:crypto';
import { apiVersionOf, GROUP_VERSIONS, type GroupVersion, type ResourceDef } from '../api/model/resources.ts';

type Obj = Record<string, unknown>;

const CORE = 'io.k8s.api.core.v1.';
const META = 'io.k8s.apimachinery.pkg.apis.meta.v1.';
const ref = (name: string): Obj => ({ $ref: `#/components/schemas/${name}` });

/** The media types a PATCH accepts, as kube-apiserver lists them. */
export const PATCH_CONTENT_TYPES = [
  'application/json-patch+json',
  'application/merge-patch+json',
  'application/strategic-merge-patch+json',
  'application/apply-patch+yaml',
] as const;

/** The path of a group-version below /openapi/v3/: `api/v1`, `apis/node.k8s.io/v1`. */
export const openapiPath = (gv: { group: string; version: string }): string => (gv.group ? `apis/${gv.group}/${gv.version}` : `api/${gv.version}`);

/** `GET /openapi/v3`: where each group-version document lives, pinned by its hash. */
export function openapiRoot(hashes: ReadonlyMap<string, string>): { paths: Record<string, { serverRelativeURL: string }> } {
  const paths: Record<string, { serverRelativeURL: string }> = {};
  for (const [path, hash] of hashes) paths[path] = { serverRelativeURL: `/openapi/v3/${path}?hash=${hash}` };
  return { paths };
}

/** Schema names: `io.k8s.api.<first label of the group, core for "">.<version>.<Kind>`, as Kubernetes names them. */
const schemaPrefix = (gv: { group: string; version: string }): string => `io.k8s.api.${gv.group === '' ? 'core' : (gv.group.split('.')[0] as string)}.${gv.version}.`;

/** Operation ids and tags: `CoreV1`, `NodeV1` (kube-openapi's camel case of the same label). */
const opGroup = (gv: { group: string; version: string }): string => {
  const label = gv.group === '' ? 'core' : (gv.group.split('.')[0] as string);
  return `${label[0]?.toUpperCase() ?? ''}${label.slice(1)}${gv.version[0]?.toUpperCase() ?? ''}${gv.version.slice(1)}`;
};

/** A stable hash of a document (sha512 of its JSON, upper-case hex, like kube-apiserver's ETags). */
export function openapiHash(doc: unknown): string {
  return createHash('sha512').update(JSON.stringify(doc)).digest('hex').toUpperCase().slice(0, 128);
}

// ---------------------------------------------------------------------------------------------
// Parameters.

const q = (name: string, description: string, type: 'string' | 'boolean' | 'integer' = 'string'): Obj => ({
  name, in: 'query', description, schema: { type, uniqueItems: true },
});

const P = {
  allowWatchBookmarks: q('allowWatchBookmarks', 'allowWatchBookmarks requests watch events with type "BOOKMARK". Servers that do not implement bookmarks may ignore this flag and bookmarks are sent at the server\'s discretion.', 'boolean'),
  continue: q('continue', 'The continue option should be set when retrieving more results from the server. Since this value is server defined, clients may only use the continue value from a previous query result with identical query parameters (except for the value of continue).'),
  dryRun: q('dryRun', 'When present, indicates that modifications should not be persisted. Valid values are: - All: all dry run stages will be processed'),
  fieldManager: q('fieldManager', 'fieldManager is a name associated with the actor or entity that is making these changes. It is required for apply requests (application/apply-patch) but optional for non-apply patch types.'),
  fieldSelector: q('fieldSelector', 'A selector to restrict the list of returned objects by their fields. Defaults to everything.'),
  fieldValidation: q('fieldValidation', 'fieldValidation instructs the server on how to handle objects in the request containing unknown or duplicate fields. Valid values are: - Ignore - Warn - Strict. Strict is the kubectl default when the server advertises this parameter.'),
  force: q('force', 'Force is going to "force" Apply requests. It means user will re-acquire conflicting fields owned by other people. Force flag must be unset for non-apply patch requests.', 'boolean'),
  gracePeriodSeconds: q('gracePeriodSeconds', 'The duration in seconds before the object should be deleted. Value must be non-negative integer. The value zero indicates delete immediately.', 'integer'),
  labelSelector: q('labelSelector', 'A selector to restrict the list of returned objects by their labels. Defaults to everything.'),
  limit: q('limit', 'limit is a maximum number of responses to return for a list call. If more items exist, the server will set the `continue` field on the list metadata to a value that can be used with the same initial query to retrieve the next set of results.', 'integer'),
  orphanDependents: q('orphanDependents', 'Deprecated: please use the PropagationPolicy, this field will be deprecated in 1.7.', 'boolean'),
  propagationPolicy: q('propagationPolicy', "Whether and how garbage collection will be performed. Acceptable values are: 'Orphan', 'Background', 'Foreground'."),
  resourceVersion: q('resourceVersion', 'resourceVersion sets a constraint on what resource versions a request may be served from. Defaults to unset'),
  resourceVersionMatch: q('resourceVersionMatch', 'resourceVersionMatch determines how resourceVersion is applied to list calls. Defaults to unset'),
  sendInitialEvents: q('sendInitialEvents', 'When sendInitialEvents is set, the watch stream begins with synthetic events for the current state, followed by a bookmark annotated "k8s.io/initial-events-end".', 'boolean'),
  timeoutSeconds: q('timeoutSeconds', 'Timeout for the list/watch call. This limits the duration of the call, regardless of any activity or inactivity.', 'integer'),
  watch: q('watch', 'Watch for changes to the described resources and return them as a stream of add, update, and remove notifications.', 'boolean'),
  pretty: q('pretty', "If 'true', then the output is pretty printed."),
};

const LIST_PARAMS = [P.allowWatchBookmarks, P.continue, P.fieldSelector, P.labelSelector, P.limit, P.resourceVersion, P.resourceVersionMatch, P.sendInitialEvents, P.timeoutSeconds, P.watch];
const WRITE_PARAMS = [P.dryRun, P.fieldManager, P.fieldValidation];
const PATCH_PARAMS = [P.dryRun, P.fieldManager, P.fieldValidation, P.force];
const DELETE_PARAMS = [P.dryRun, P.gracePeriodSeconds, P.orphanDependents, P.propagationPolicy];
const DELETECOLLECTION_PARAMS = [P.continue, P.dryRun, P.fieldSelector, P.gracePeriodSeconds, P.labelSelector, P.limit, P.orphanDependents, P.propagationPolicy, P.resourceVersion, P.resourceVersionMatch, P.sendInitialEvents, P.timeoutSeconds];

const pathParam = (name: string, description: string): Obj => ({ name, in: 'path', description, required: true, schema: { type: 'string', uniqueItems: true } });
const NAMESPACE = pathParam('namespace', 'object name and auth scope, such as for teams and projects');

// ---------------------------------------------------------------------------------------------
// Operations.

interface Gvk { group: string; version: string; kind: string }

const json = (schema: Obj): Obj => ({ 'application/json': { schema } });
const UNAUTHORIZED = { description: 'Unauthorized' };

function op(id: string, description: string, action: string, gvk: Gvk, parameters: Obj[], responses: Obj, requestBody?: Obj): Obj {
  const tag = `${gvk.group === '' ? 'core' : (gvk.group.split('.')[0] as string)}_${gvk.version}`;
  const o: Obj = { tags: [tag], description, operationId: id };
  if (parameters.length) o.parameters = parameters.map((p) => ({ ...p }));
  if (requestBody) o.requestBody = requestBody;
  o.responses = responses;
  o['x-kubernetes-action'] = action;
  o['x-kubernetes-group-version-kind'] = { ...gvk };
  return o;
}

const ok = (schema: Obj, ...codes: string[]): Obj => {
  const r: Obj = {};
  for (const c of codes) r[c] = { description: c === '201' ? 'Created' : c === '202' ? 'Accepted' : 'OK', content: json(schema) };
  r['401'] = UNAUTHORIZED;
  return r;
};

const bodyOf = (schema: Obj): Obj => ({ content: json(schema), required: true });
const PATCH_BODY: Obj = {
  content: Object.fromEntries(PATCH_CONTENT_TYPES.map((t) => [t, { schema: ref(`${META}Patch`) }])),
  required: true,
};
const DELETE_BODY: Obj = { content: json(ref(`${META}DeleteOptions`)) };

const SUB_KIND: Record<string, string> = { binding: 'Binding', eviction: 'Eviction' };

function paths(def: ResourceDef): Record<string, Obj> {
  const { kind, resource, namespaced } = def;
  const gvk: Gvk = { group: def.group, version: def.version, kind };
  const scope = namespaced ? 'Namespaced' : '';
  const prefix = schemaPrefix(def);
  const G = opGroup(def);
  const kindSchema = ref(prefix + kind);
  const verbs = new Set(def.verbs);
  const root = def.group === '' ? `/api/${def.version}` : `/apis/${def.group}/${def.version}`;
  const base = namespaced ? `${root}/namespaces/{namespace}/${resource}` : `${root}/${resource}`;
  const nsParams = namespaced ? [NAMESPACE] : [];
  const nameParam = pathParam('name', `name of the ${kind}`);
  const out: Record<string, Obj> = {};

  const collection: Obj = {};
  if (verbs.has('list')) collection.get = op(`list${G}${scope}${kind}`, `list or watch objects of kind ${kind}`, 'list', gvk, LIST_PARAMS, ok(ref(prefix + def.listKind), '200'));
  if (verbs.has('create')) collection.post = op(`create${G}${scope}${kind}`, `create a ${kind}`, 'post', gvk, WRITE_PARAMS, ok(kindSchema, '200', '201', '202'), bodyOf(kindSchema));
  if (verbs.has('deletecollection')) collection.delete = op(`delete${G}Collection${scope}${kind}`, `delete collection of ${kind}`, 'deletecollection', gvk, DELETECOLLECTION_PARAMS, ok(ref(`${META}Status`), '200'), DELETE_BODY);
  if (Object.keys(collection).length) out[base] = { ...collection, parameters: [...nsParams, P.pretty] };

  const item: Obj = {};
  if (verbs.has('get')) item.get = op(`read${G}${scope}${kind}`, `read the specified ${kind}`, 'get', gvk, [], ok(kindSchema, '200'));
  if (verbs.has('update')) item.put = op(`replace${G}${scope}${kind}`, `replace the specified ${kind}`, 'put', gvk, WRITE_PARAMS, ok(kindSchema, '200', '201'), bodyOf(kindSchema));
  if (verbs.has('delete')) item.delete = op(`delete${G}${scope}${kind}`, `delete a ${kind}`, 'delete', gvk, DELETE_PARAMS, ok({ oneOf: [kindSchema, ref(`${META}Status`)] }, '200', '202'), DELETE_BODY);
  if (verbs.has('patch')) item.patch = op(`patch${G}${scope}${kind}`, `partially update the specified ${kind}`, 'patch', gvk, PATCH_PARAMS, ok(kindSchema, '200', '201'), PATCH_BODY);
  if (Object.keys(item).length) out[`${base}/{name}`] = { ...item, parameters: [nameParam, ...nsParams, P.pretty] };

  if (namespaced && verbs.has('list')) {
    out[`${root}/${resource}`] = {
      get: op(`list${G}${kind}ForAllNamespaces`, `list or watch objects of kind ${kind}`, 'list', gvk, LIST_PARAMS, ok(ref(prefix + def.listKind), '200')),
      parameters: [P.pretty],
    };
  }

  for (const sub of def.subresources) {
    const subPath = `${base}/{name}/${sub}`;
    const params = [pathParam('name', `name of the ${SUB_KIND[sub] ?? kind}`), ...nsParams, P.pretty];
    if (sub === 'status') {
      out[subPath] = {
        get: op(`read${G}${scope}${kind}Status`, `read status of the specified ${kind}`, 'get', gvk, [], ok(kindSchema, '200')),
        put: op(`replace${G}${scope}${kind}Status`, `replace status of the specified ${kind}`, 'put', gvk, WRITE_PARAMS, ok(kindSchema, '200', '201'), bodyOf(kindSchema)),
        patch: op(`patch${G}${scope}${kind}Status`, `partially update status of the specified ${kind}`, 'patch', gvk, PATCH_PARAMS, ok(kindSchema, '200', '201'), PATCH_BODY),
        parameters: params,
      };
    } else if (sub === 'binding') {
      const b = ref(`${CORE}Binding`);
      out[subPath] = {
        post: op(`createCoreV1${scope}${kind}Binding`, `create binding of a ${kind}`, 'post', { group: '', version: 'v1', kind: 'Binding' }, WRITE_PARAMS, ok(b, '200', '201', '202'), bodyOf(b)),
        parameters: params,
      };
    } else if (sub === 'eviction') {
      const e = ref('io.k8s.api.policy.v1.Eviction');
      out[subPath] = {
        post: op(`createCoreV1${scope}${kind}Eviction`, `create eviction of a ${kind}`, 'post', { group: 'policy', version: 'v1', kind: 'Eviction' }, WRITE_PARAMS, ok(e, '200', '201', '202'), bodyOf(e)),
        parameters: params,
      };
    }
    // Other subresources (pods/finalize: reddwarf's node-agent hook) are not advertised.
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Schemas.

const s = (type: string, description?: string): Obj => (description ? { type, description } : { type });
const API_VERSION = s('string', 'APIVersion defines the versioned schema of this representation of an object.');
const KIND = s('string', 'Kind is a string value representing the REST resource this object represents.');
const META_REF = { allOf: [ref(`${META}ObjectMeta`)], default: {}, description: "Standard object's metadata." };

const BYTES_MAP = { type: 'object', additionalProperties: { type: 'string', format: 'byte' } };
const STRING_MAP = { type: 'object', additionalProperties: { type: 'string', default: '' } };
const OPEN = (description: string): Obj => ({ ...s('object', description), 'x-kubernetes-preserve-unknown-fields': true });

// Kinds whose fields sit at the top level rather than under spec/status (or, for Lease, a spec
// with its fields spelled out and no status).
const TOP_LEVEL: Record<string, Obj> = {
  // Events keep their fields at the top level (involvedObject, reason, message, …).
  Event: { involvedObject: OPEN('The object that this event is about.') },
  Secret: {
    data: { ...BYTES_MAP, description: 'Data contains the secret data. Each key must consist of alphanumeric characters, \'-\', \'_\' or \'.\'. The serialized form of the secret data is a base64 encoded string.' },
    immutable: s('boolean', 'Immutable, if set to true, ensures that data stored in the Secret cannot be updated (only object metadata can be modified).'),
    stringData: { ...STRING_MAP, description: 'stringData allows specifying non-binary secret data in string form. It is provided as a write-only input field for convenience. All keys and values are merged into the data field on write, overwriting any existing values.' },
    type: s('string', 'Used to facilitate programmatic handling of secret data.'),
  },
  RuntimeClass: {
    handler: s('string', 'handler specifies the underlying runtime and configuration that the CRI implementation will use to handle pods of this class. In reddwarf it is the zone brand (lx, sparse, pkgsrc, …).'),
    overhead: OPEN('overhead represents the resource overhead associated with running a pod for a given RuntimeClass.'),
    scheduling: OPEN('scheduling holds the scheduling constraints to ensure that pods running with this RuntimeClass are scheduled to nodes that support it.'),
  },
  Lease: {
    spec: {
      ...s('object', 'spec contains the specification of the Lease.'),
      properties: {
        acquireTime: { ...s('string', 'acquireTime is a time when the current lease was acquired.'), format: 'date-time' },
        holderIdentity: s('string', 'holderIdentity contains the identity of the holder of a current lease.'),
        leaseDurationSeconds: { ...s('integer', 'leaseDurationSeconds is a duration that candidates for a lease need to wait to force acquire it. This is measured against the time of last observed renewTime.'), format: 'int32' },
        leaseTransitions: { ...s('integer', 'leaseTransitions is the number of transitions of a lease between holders.'), format: 'int32' },
        preferredHolder: s('string', 'PreferredHolder signals to a lease holder that the lease has a more optimal holder and should be given up.'),
        renewTime: { ...s('string', 'renewTime is a time when the current holder of a lease has last updated the lease.'), format: 'date-time' },
        strategy: s('string', 'Strategy indicates the strategy for picking the leader for coordinated leader election.'),
      },
    },
  },
};

function kindSchema(def: ResourceDef): Obj {
  const properties: Obj = { apiVersion: API_VERSION, kind: KIND, metadata: META_REF };
  const top = TOP_LEVEL[def.kind];
  if (top) {
    Object.assign(properties, top);
  } else {
    properties.spec = { ...s('object', `Specification of the desired behavior of the ${def.kind}.`), 'x-kubernetes-preserve-unknown-fields': true };
    properties.status = { ...s('object', `Most recently observed status of the ${def.kind}. Populated by the system. Read-only.`), 'x-kubernetes-preserve-unknown-fields': true };
  }
  const required = def.kind === 'RuntimeClass' ? { required: ['handler'] } : {};
  return { description: `${def.kind} (${def.group || 'core'}/${def.version}).`, type: 'object', ...required, properties, 'x-kubernetes-preserve-unknown-fields': true };
}

function listSchema(def: ResourceDef): Obj {
  return {
    description: `${def.listKind} is a list of ${def.kind} objects.`,
    type: 'object',
    required: ['items'],
    properties: {
      apiVersion: API_VERSION,
      items: { type: 'array', items: { allOf: [ref(schemaPrefix(def) + def.kind)], default: {} } },
      kind: KIND,
      metadata: { allOf: [ref(`${META}ListMeta`)], default: {}, description: "Standard list metadata." },
    },
  };
}

function schemas(defs: readonly ResourceDef[]): Record<string, Obj> {
  const out: Record<string, Obj> = {};
  const add = (name: string, schema: Obj): void => {
    out[name] = schema;
  };
  for (const def of defs) {
    add(schemaPrefix(def) + def.kind, kindSchema(def));
    add(schemaPrefix(def) + def.listKind, listSchema(def));
  }
  if (defs.some((d) => d.subresources.includes('binding'))) {
    add(`${CORE}Binding`, {
      description: 'Binding ties one object to another; for example, a pod is bound to a node by a scheduler.',
      type: 'object',
      required: ['target'],
      properties: { apiVersion: API_VERSION, kind: KIND, metadata: META_REF, target: { type: 'object', description: 'The target object that you want to bind to the standard object.', 'x-kubernetes-preserve-unknown-fields': true } },
    });
  }
  if (defs.some((d) => d.subresources.includes('eviction'))) {
    add('io.k8s.api.policy.v1.Eviction', {
      description: 'Eviction evicts a pod from its node subject to certain policies and safety constraints.',
      type: 'object',
      properties: { apiVersion: API_VERSION, deleteOptions: { allOf: [ref(`${META}DeleteOptions`)], description: 'DeleteOptions may be provided' }, kind: KIND, metadata: META_REF },
    });
  }
  add(`${META}DeleteOptions`, {
    description: 'DeleteOptions may be provided when deleting an API object.',
    type: 'object',
    properties: {
      apiVersion: API_VERSION,
      dryRun: { type: 'array', items: { type: 'string', default: '' } },
      gracePeriodSeconds: { type: 'integer', format: 'int64' },
      kind: KIND,
      orphanDependents: { type: 'boolean' },
      preconditions: { type: 'object', properties: { resourceVersion: { type: 'string' }, uid: { type: 'string' } } },
      propagationPolicy: { type: 'string' },
    },
  });
  add(`${META}ListMeta`, {
    description: 'ListMeta describes metadata that synthetic resources must have, including lists and various status objects.',
    type: 'object',
    properties: { continue: { type: 'string' }, remainingItemCount: { type: 'integer', format: 'int64' }, resourceVersion: { type: 'string' }, selfLink: { type: 'string' } },
  });
  add(`${META}ObjectMeta`, {
    description: 'ObjectMeta is metadata that all persisted resources must have, which includes all objects users must create.',
    type: 'object',
    properties: {
      annotations: { type: 'object', additionalProperties: { type: 'string', default: '' } },
      creationTimestamp: { type: 'string', format: 'date-time' },
      deletionGracePeriodSeconds: { type: 'integer', format: 'int64' },
      deletionTimestamp: { type: 'string', format: 'date-time' },
      finalizers: { type: 'array', items: { type: 'string', default: '' }, 'x-kubernetes-list-type': 'set', 'x-kubernetes-patch-strategy': 'merge' },
      generateName: { type: 'string' },
      generation: { type: 'integer', format: 'int64' },
      labels: { type: 'object', additionalProperties: { type: 'string', default: '' } },
      managedFields: { type: 'array', items: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } },
      name: { type: 'string' },
      namespace: { type: 'string' },
      ownerReferences: { type: 'array', items: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true }, 'x-kubernetes-patch-merge-key': 'uid', 'x-kubernetes-patch-strategy': 'merge' },
      resourceVersion: { type: 'string' },
      uid: { type: 'string' },
    },
  });
  add(`${META}Patch`, { description: 'Patch is provided to give a concrete name and type to the Kubernetes PATCH request body.', type: 'object' });
  add(`${META}Status`, {
    description: 'Status is a return value for calls that don\'t return other objects.',
    type: 'object',
    properties: {
      apiVersion: API_VERSION,
      code: { type: 'integer', format: 'int32' },
      details: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true },
      kind: KIND,
      message: { type: 'string' },
      metadata: { allOf: [ref(`${META}ListMeta`)], default: {} },
      reason: { type: 'string' },
      status: { type: 'string' },
    },
  });
  return out;
}

function documentOf(defs: readonly ResourceDef[]): Obj {
  const allPaths: Record<string, Obj> = {};
  for (const def of defs) Object.assign(allPaths, paths(def));
  return {
    openapi: '3.0.0',
    info: { title: 'Kubernetes', version: 'unversioned' },
    paths: allPaths,
    components: { schemas: schemas(defs) },
  };
}

/** The OpenAPI 3.0 document of one group-version: paths and operations for each of its resources. */
export function openapiGroupVersion(gv: GroupVersion): Obj {
  return documentOf(gv.resources);
}

/** The OpenAPI 3.0 document of /api/v1. */
export function openapiV1(): Obj {
  return openapiGroupVersion(GROUP_VERSIONS.find((gv) => apiVersionOf(gv) === 'v1') as GroupVersion);
}

/** One document with every served group-version (the source of the Swagger 2.0 /openapi/v2). */
export function openapiAll(): Obj {
  return documentOf(GROUP_VERSIONS.flatMap((gv) => gv.resources));
}
