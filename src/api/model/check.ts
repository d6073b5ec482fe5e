// The apiVersion/kind/metadata checks kube-apiserver makes before an object reaches the store,
// shared by the API server (after decoding a body) and the in-process client.
import { badRequest } from './status.ts';
import type { KubeObject } from './types.ts';

/** Checks that a decoded value is an object of `kind` in `apiVersion` (`v1`, `node.k8s.io/v1`) and defaults its type fields. */
export function checkObject(value: unknown, kind: string, apiVersion = 'v1'): KubeObject {
  const version = apiVersion.slice(apiVersion.lastIndexOf('/') + 1);
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw badRequest(`${kind} in version "${version}" cannot be handled as a ${kind}: the body must be a JSON object`);
  }
  const obj = value as KubeObject;
  if (obj.apiVersion !== undefined && obj.apiVersion !== apiVersion) {
    throw badRequest(`the API version in the data (${String(obj.apiVersion)}) does not match the expected API version (${apiVersion})`);
  }
  if (obj.kind !== undefined && obj.kind !== kind) {
    throw badRequest(`${String(obj.kind)} in version "${version}" cannot be handled as a ${kind}: the kind in the data does not match the expected kind ${kind}`);
  }
  if (obj.metadata === undefined || obj.metadata === null) obj.metadata = {};
  if (typeof obj.metadata !== 'object' || Array.isArray(obj.metadata)) {
    throw badRequest(`${kind} in version "${version}" cannot be handled as a ${kind}: metadata must be an object`);
  }
  for (const field of ['name', 'namespace', 'generateName', 'resourceVersion', 'uid'] as const) {
    const v = obj.metadata[field];
    if (v !== undefined && typeof v !== 'string') throw badRequest(`${kind} in version "${version}" cannot be handled as a ${kind}: metadata.${field} must be a string`);
  }
  for (const field of ['labels', 'annotations'] as const) {
    const m = obj.metadata[field];
    if (m === undefined || m === null) continue;
    if (typeof m !== 'object' || Array.isArray(m) || Object.values(m).some((v) => typeof v !== 'string')) {
      throw badRequest(`${kind} in version "${version}" cannot be handled as a ${kind}: metadata.${field} must be a map of strings`);
    }
  }
  for (const part of ['spec', 'status'] as const) {
    const v = obj[part];
    if (v !== undefined && v !== null && (typeof v !== 'object' || Array.isArray(v))) {
      throw badRequest(`${kind} in version "${version}" cannot be handled as a ${kind}: ${part} must be an object`);
    }
  }
  obj.apiVersion = apiVersion;
  obj.kind = kind;
  return obj;
}

/** Pins name and namespace from the URL; a body that names another object is refused. */
export function pinIdentity(obj: KubeObject, name: string | undefined, namespace: string | undefined): void {
  const meta = obj.metadata;
  if (name !== undefined) {
    if (meta.name !== undefined && meta.name !== '' && meta.name !== name) {
      throw badRequest(`the name of the object (${meta.name}) does not match the name on the URL (${name})`);
    }
    meta.name = name;
  }
  if (namespace !== undefined) {
    if (meta.namespace !== undefined && meta.namespace !== '' && meta.namespace !== namespace) {
      throw badRequest('the namespace of the provided object does not match the namespace sent on the request');
    }
    meta.namespace = namespace;
  }
}
