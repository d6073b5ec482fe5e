// Maps a request path onto what it addresses: a fixed endpoint, or a resource collection, item or
// subresource under /api/v1 (also under the legacy /api/v1/watch/ prefix).
import { resourceDef, type ResourceDef } from '../api/resources.ts';

export type Route =
  | { type: 'fixed'; name: 'healthz' | 'livez' | 'readyz' | 'version' | 'api' | 'apis' | 'apiv1' | 'openapi-v2' | 'openapi-v3' | 'openapi-v3-v1' | 'inspect' }
  | { type: 'resource'; def: ResourceDef; namespace?: string; name?: string; subresource?: string; legacyWatch: boolean };

const FIXED: Record<string, Route & { type: 'fixed' }> = {
  '/healthz': { type: 'fixed', name: 'healthz' },
  '/livez': { type: 'fixed', name: 'livez' },
  '/readyz': { type: 'fixed', name: 'readyz' },
  '/version': { type: 'fixed', name: 'version' },
  '/api': { type: 'fixed', name: 'api' },
  '/apis': { type: 'fixed', name: 'apis' },
  '/api/v1': { type: 'fixed', name: 'apiv1' },
  '/openapi/v2': { type: 'fixed', name: 'openapi-v2' },
  '/openapi/v3': { type: 'fixed', name: 'openapi-v3' },
  '/openapi/v3/api/v1': { type: 'fixed', name: 'openapi-v3-v1' },
  '/inspect': { type: 'fixed', name: 'inspect' },
};

/** The route of a path, or undefined for a path we do not serve (404). */
export function route(path: string): Route | undefined {
  const trimmed = path.length > 1 && path.endsWith('/') ? path.slice(0, -1) : path;
  const fixed = FIXED[trimmed];
  if (fixed) return fixed;
  if (!trimmed.startsWith('/api/v1/')) return undefined;
  let parts: string[];
  try {
    parts = trimmed.slice('/api/v1/'.length).split('/').map(decodeURIComponent);
  } catch {
    return undefined;
  }
  let legacyWatch = false;
  if (parts[0] === 'watch') {
    legacyWatch = true;
    parts = parts.slice(1);
  }
  if (parts.some((p) => p === '')) return undefined;
  // /namespaces/{ns}/{resource}[/{name}[/{sub}]] addresses namespaced resources …
  if (parts[0] === 'namespaces' && parts.length >= 3) {
    const def = resourceDef(parts[2] as string);
    if (def?.namespaced && parts.length <= 5) {
      return { type: 'resource', def, namespace: parts[1], name: parts[3], subresource: parts[4], legacyWatch };
    }
    // … unless the third part is a namespace's own subresource (/namespaces/{name}/status).
    if (parts.length !== 3) return undefined;
  }
  const def = resourceDef(parts[0] as string);
  if (!def || parts.length > 3) return undefined;
  // /api/v1/pods lists namespaced resources across namespaces; it has no items below it.
  if (def.namespaced && parts.length > 1) return undefined;
  return { type: 'resource', def, name: parts[1], subresource: parts[2], legacyWatch };
}
