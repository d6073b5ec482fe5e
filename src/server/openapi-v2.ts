// The Swagger 2.0 document of /openapi/v2, converted from the OpenAPI v3 document (openapi.ts) and
// served as gnostic `openapi.v2.Document` protobuf or JSON.
//
// kubectl 1.27 and 1.28 `create -f`, `apply -f`, `replace -f` and `edit` (default --validate=strict)
// first download v2 as protobuf (client-go `OpenAPISchema()`; on 404 /swagger-2.0.0.pb-v1, then
// they fail) and parse every definition (kube-openapi `proto.NewOpenAPIData`: every `$ref` must
// resolve, a `$ref` may carry only a description and vendor extensions, an array needs one `items`
// schema). Only then do they look for the kind's PATCH operation with
// `x-kubernetes-group-version-kind` and a `fieldValidation` query parameter, in v3 and failing
// that in v2; found, they leave validation to the server and send `?fieldValidation=Strict`.
//
// As in v3 the definitions carry no `x-kubernetes-group-version-kind`: `apply` would compute its
// strategic merge patch from our shallow schemas and warn "error calculating patch from openapi
// spec" on every call, instead of silently using its compiled-in core/v1 types.
import { createHash } from 'node:crypto';
import { ApiError } from '../api/model/status.ts';
import { parseAccept } from '../api/wire/table.ts';
import { Writer } from '../api/wire/protobuf/encode.ts';
import type { HttpRequest, PlainReply } from './http.ts';

type Obj = Record<string, unknown>;

/** The protobuf media type, as the reply's Content-Type. */
export const OPENAPI_V2_PROTOBUF = 'application/com.github.proto-openapi.spec.v2.v1.0+protobuf';
/**
 * The deprecated spelling that client-go (kubectl 1.27, 1.28) still sends. Never a Content-Type:
 * Go's mime.ParseMediaType rejects the `@` and client-go turns that into a 500 error.
 */
export const OPENAPI_V2_PROTOBUF_AT = 'application/com.github.proto-openapi.spec.v2@v1.0+protobuf';

const isObj = (v: unknown): v is Obj => v !== null && typeof v === 'object' && !Array.isArray(v);
const objects = (v: unknown): Obj[] => (Array.isArray(v) ? v.filter(isObj) : []);

// ---------------------------------------------------------------------------------------------
// v3 → Swagger 2.0.

const V3_REF = '#/components/schemas/';

function schemaV2(s: Obj): Obj {
  const [only, ...more] = objects(s.allOf);
  // `allOf: [ref]` is how v3 attaches a description to a reference; v2 puts them side by side.
  if (only && more.length === 0 && typeof only.$ref === 'string') {
    const out: Obj = { $ref: refV2(only.$ref) };
    for (const [k, v] of Object.entries(s)) if (k === 'description' || k.startsWith('x-')) out[k] = v;
    return out;
  }
  // v2 has no oneOf; a delete answers with the kind first (Status second), so declare that.
  const [first] = objects(s.oneOf);
  if (first) return schemaV2(first);
  const out: Obj = {};
  for (const [k, v] of Object.entries(s)) {
    if (k === '$ref' && typeof v === 'string') out.$ref = refV2(v);
    else if (k === 'properties' && isObj(v)) out.properties = Object.fromEntries(Object.entries(v).map(([name, p]) => [name, schemaV2(p as Obj)]));
    else if ((k === 'items' || k === 'additionalProperties') && isObj(v)) out[k] = schemaV2(v);
    else if (k === 'allOf') out.allOf = objects(v).map(schemaV2);
    else out[k] = v;
  }
  return out;
}

function refV2(ref: string): string {
  if (!ref.startsWith(V3_REF)) throw new Error(`OpenAPI v2: cannot convert reference ${ref}`);
  return `#/definitions/${ref.slice(V3_REF.length)}`;
}

function parameterV2(p: Obj): Obj {
  const { schema, ...rest } = p;
  return { ...rest, ...(isObj(schema) ? schema : {}) };
}

function operationV2(op: Obj): Obj {
  const { requestBody, parameters, responses, ...rest } = op;
  const out: Obj = {};
  const produces = new Set<string>();
  const responsesV2: Obj = {};
  for (const [code, r] of Object.entries(isObj(responses) ? responses : {})) {
    const { content, ...resp } = r as Obj;
    const media = Object.entries(isObj(content) ? content : {});
    for (const [type] of media) produces.add(type);
    const schema = media.map(([, m]) => (m as Obj).schema).find(isObj);
    responsesV2[code] = schema ? { ...resp, schema: schemaV2(schema) } : resp;
  }
  const params = objects(parameters).map(parameterV2);
  if (isObj(requestBody)) {
    const media = Object.entries(isObj(requestBody.content) ? requestBody.content : {});
    const schema = media.map(([, m]) => (m as Obj).schema).find(isObj);
    out.consumes = media.map(([type]) => type);
    params.unshift({ name: 'body', in: 'body', required: requestBody.required === true, schema: schemaV2(schema ?? {}) });
  }
  if (produces.size) out.produces = [...produces];
  Object.assign(out, rest);
  if (params.length) out.parameters = params;
  out.responses = responsesV2;
  return out;
}

/** The Swagger 2.0 form of an OpenAPI v3 document built by openapi.ts. */
export function openapiV2(v3: Obj): Obj {
  const paths: Obj = {};
  for (const [path, item] of Object.entries(isObj(v3.paths) ? v3.paths : {})) {
    const out: Obj = {};
    for (const [k, v] of Object.entries(item as Obj)) out[k] = k === 'parameters' ? objects(v).map(parameterV2) : isObj(v) ? operationV2(v) : v;
    paths[path] = out;
  }
  const schemas = isObj(v3.components) && isObj(v3.components.schemas) ? v3.components.schemas : {};
  return {
    swagger: '2.0',
    info: v3.info,
    paths,
    definitions: Object.fromEntries(Object.entries(schemas).map(([name, s]) => [name, schemaV2(s as Obj)])),
  };
}

// ---------------------------------------------------------------------------------------------
// gnostic openapi.v2 protobuf (github.com/google/gnostic-models openapiv2/OpenAPIv2.proto).

type Encode = (w: Writer, v: unknown) => void;
/** [field number, kind, repeated]; `any` is an openapi.v2.Any holding the value as YAML text. */
type Field = readonly [number, 'string' | 'bool' | 'any' | Encode, boolean?];

/** A message from a JSON object by a field table; `x-` keys go to `ext` as NamedAny. */
function message(what: string, fields: Record<string, Field>, ext: number): Encode {
  return (w, v) => {
    for (const [key, value] of Object.entries(v as Obj)) {
      if (value === undefined) continue;
      if (key.startsWith('x-')) {
        w.message(ext, (n) => namedAny(n, key, value));
        continue;
      }
      const f = fields[key];
      if (!f) throw new Error(`OpenAPI v2 ${what}: no protobuf field for ${JSON.stringify(key)}`);
      const [num, kind, repeated] = f;
      for (const item of repeated ? (value as unknown[]) : [value]) {
        if (kind === 'string') w.string(num, String(item));
        else if (kind === 'bool') w.bool(num, item === true);
        else if (kind === 'any') w.message(num, (a) => anyValue(a, item));
        else w.message(num, (m) => kind(m, item));
      }
    }
  };
}

// JSON is YAML, and what kubectl's yaml.Unmarshal of these values expects.
const anyValue = (w: Writer, v: unknown): void => void w.string(2, JSON.stringify(v));
const namedAny = (w: Writer, name: string, v: unknown): void => void w.string(1, name).message(2, (a) => anyValue(a, v));

/** `{name: value}` as repeated Named* {1 name, 2 value} in field `num`; `x-` keys to `ext`. */
const named = (num: number, value: Encode, ext?: number): Encode => (w, v) => {
  for (const [name, item] of Object.entries(v as Obj)) {
    if (ext !== undefined && name.startsWith('x-')) w.message(ext, (n) => namedAny(n, name, item));
    else w.message(num, (n) => value(n.string(1, name), item));
  }
};
/** The value of a Named* entry: a message in field 2. */
const at2 = (enc: Encode): Encode => (w, v) => void w.message(2, (m) => enc(m, v));

const schema: Encode = (w, v) => SCHEMA(w, v);
const SCHEMA = message('schema', {
  $ref: [1, 'string'], format: [2, 'string'], title: [3, 'string'], description: [4, 'string'], default: [5, 'any'],
  uniqueItems: [16, 'bool'], required: [19, 'string', true], enum: [20, 'any', true],
  additionalProperties: [21, (w, v) => void (typeof v === 'boolean' ? w.bool(2, v) : w.message(1, (s) => schema(s, v)))],
  type: [22, (w, v) => void [v].flat().forEach((t) => w.string(1, String(t)))],
  items: [23, (w, v) => void [v].flat().forEach((s) => w.message(1, (m) => schema(m, s)))],
  allOf: [24, schema, true],
  properties: [25, named(1, at2(schema))],
  readOnly: [27, 'bool'],
}, 31);

// Query and path parameters share a layout up to `name`; query has allowEmptyValue at 5 and so
// every later field one number higher.
const nonBody = (shift: number): Encode => message('parameter', {
  required: [1, 'bool'], in: [2, 'string'], description: [3, 'string'], name: [4, 'string'],
  type: [5 + shift, 'string'], format: [6 + shift, 'string'], default: [9 + shift, 'any'], uniqueItems: [19 + shift, 'bool'],
}, 22 + shift);
const QUERY = nonBody(1);
const PATH = nonBody(0);
const BODY = message('body parameter', { description: [1, 'string'], name: [2, 'string'], in: [3, 'string'], required: [4, 'bool'], schema: [5, schema] }, 6);

/** ParametersItem {1 Parameter {1 BodyParameter | 2 NonBodyParameter {3 query | 4 path}}}. */
const parametersItem: Encode = (w, v) => {
  const p = v as Obj;
  w.message(1, (param) => {
    if (p.in === 'body') param.message(1, (b) => BODY(b, p));
    else if (p.in === 'query') param.message(2, (nb) => nb.message(3, (q) => QUERY(q, p)));
    else if (p.in === 'path') param.message(2, (nb) => nb.message(4, (q) => PATH(q, p)));
    else throw new Error(`OpenAPI v2: cannot encode a parameter in ${String(p.in)}`);
  });
};

const RESPONSE = message('response', { description: [1, 'string'], schema: [2, (w, v) => void w.message(1, (s) => schema(s, v))] }, 5);
const OPERATION = message('operation', {
  tags: [1, 'string', true], summary: [2, 'string'], description: [3, 'string'], operationId: [5, 'string'],
  produces: [6, 'string', true], consumes: [7, 'string', true], parameters: [8, parametersItem, true],
  // Responses {1 NamedResponseValue {1 name, 2 ResponseValue {1 Response}}, 2 vendor extensions}.
  responses: [9, named(1, at2((w, v) => void w.message(1, (r) => RESPONSE(r, v))), 2)],
  schemes: [10, 'string', true], deprecated: [11, 'bool'],
}, 13);
const PATH_ITEM = message('path item', {
  get: [2, OPERATION], put: [3, OPERATION], post: [4, OPERATION], delete: [5, OPERATION], patch: [8, OPERATION],
  parameters: [9, parametersItem, true],
}, 10);
const DOCUMENT = message('document', {
  swagger: [1, 'string'],
  info: [2, message('info', { title: [1, 'string'], version: [2, 'string'], description: [3, 'string'] }, 7)],
  paths: [8, named(2, at2(PATH_ITEM), 1)],
  definitions: [9, named(1, at2(schema))],
}, 16);

/** A Swagger 2.0 document (openapiV2) as gnostic `openapi.v2.Document` protobuf bytes. */
export function encodeOpenapiV2(doc: Obj): Uint8Array {
  const w = new Writer();
  DOCUMENT(w, doc);
  return w.finish();
}

// ---------------------------------------------------------------------------------------------
// Serving.

interface Representation {
  body: string | Uint8Array;
  etag: string;
}

const etagOf = (body: string | Uint8Array): string => `"${createHash('sha512').update(body).digest('hex').toUpperCase()}"`;

/**
 * The `GET /openapi/v2` handler for the document converted from `v3`: protobuf or JSON by Accept
 * (JSON for an empty Accept or a wildcard, 406 when it allows neither), built on first use and
 * kept, with an ETag per representation honoured in If-None-Match.
 */
export function openapiV2Handler(v3: Obj): (req: HttpRequest) => PlainReply {
  let built: { json: Representation; protobuf: Representation } | undefined;
  const build = () => {
    const doc = openapiV2(v3);
    const json = JSON.stringify(doc);
    const protobuf = encodeOpenapiV2(doc);
    return { json: { body: json, etag: etagOf(json) }, protobuf: { body: protobuf, etag: etagOf(protobuf) } };
  };
  return (req) => {
    const accept = req.headers.accept ?? '';
    const type = accept.trim() === '' ? 'application/json' : parseAccept(accept).map((m) => m.type).find((t) => SERVED.has(t));
    if (!type) throw new ApiError(406, 'NotAcceptable', `only the following media types are accepted: application/json, ${OPENAPI_V2_PROTOBUF}`);
    built ??= build();
    const isProtobuf = type === OPENAPI_V2_PROTOBUF || type === OPENAPI_V2_PROTOBUF_AT;
    const rep = isProtobuf ? built.protobuf : built.json;
    const headers = { 'content-type': isProtobuf ? OPENAPI_V2_PROTOBUF : 'application/json', etag: rep.etag, vary: 'Accept', 'cache-control': 'no-cache, private' };
    if (req.headers['if-none-match'] === rep.etag) return { status: 304, headers, body: '' };
    return { status: 200, headers, body: rep.body };
  };
}

const SERVED = new Set([OPENAPI_V2_PROTOBUF, OPENAPI_V2_PROTOBUF_AT, 'application/json', 'application/*', '*/*']);
