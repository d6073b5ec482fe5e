// Request bodies: media types, JSON (and YAML) decoding, and the apiVersion/kind/name checks
// kube-apiserver makes before an object reaches the store.
import { parse as parseYaml } from 'yaml';
import { badRequest, unsupportedMediaType } from '../api/model/status.ts';
import { decodeProtobuf, PROTOBUF_MEDIA_TYPE } from '../api/wire/protobuf/decode.ts';
import type { KubeObject } from '../api/model/types.ts';
import type { HttpRequest } from './http.ts';
import { checkObject } from '../api/model/check.ts';

/** The media type of a request body, without parameters, lower-cased. */
export function mediaType(req: HttpRequest): string {
  return (req.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
}

const OBJECT_TYPES = ['application/json', 'application/yaml', PROTOBUF_MEDIA_TYPE];

/** Parses a JSON, YAML or protobuf document (as the media type says) into a value. */
export function parseDocument(req: HttpRequest, type = mediaType(req)): unknown {
  if (type === PROTOBUF_MEDIA_TYPE) return decodeProtobuf(req.body).object;
  const text = req.body.toString('utf8');
  if (text.trim() === '') throw badRequest('the request body is empty; an object was expected');
  if (type === 'application/yaml' || type === 'application/apply-patch+yaml') {
    try {
      return parseYaml(text, { maxAliasCount: 100 });
    } catch (e) {
      throw badRequest(`error converting YAML to JSON: ${(e as Error).message.split('\n')[0]}`);
    }
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw badRequest(`the request body is not valid JSON: ${(e as Error).message}`);
  }
}

/** Decodes a create/replace body as an object of `kind` in `apiVersion`, defaulting apiVersion and kind. */
export function decodeObject(req: HttpRequest, kind: string, apiVersion = 'v1'): KubeObject {
  const type = mediaType(req);
  if (!OBJECT_TYPES.includes(type)) throw unsupportedMediaType(type, OBJECT_TYPES);
  return checkObject(parseDocument(req, type), kind, apiVersion);
}
