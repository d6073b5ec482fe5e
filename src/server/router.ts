// Maps a request path onto what it addresses: a fixed endpoint, a discovery or OpenAPI document
// of a group-version, or a resource collection, item or subresource under /api/v1 or
// /apis/<group>/<version> (also under the legacy …/watch/ prefix).
import { groupResourceDef, groupVersion, groupVersions, type GroupVersion, type ResourceDef } from '../api/model/resources.ts';

export type Route =
  | { type: 'fixed'; name: 'healthz' | 'livez' | 'readyz' | 'version' | 'api' | 'apis' | 'openapi-v2' | 'openapi-v3' | 'inspect' }
  /** `/api/v1` (APIResourceList of core), `/apis/<group>` (APIGroup), `/apis/<group>/<version>` (APIResourceList). */
  | { type: 'discovery'; group: string; version?: string }
  /** `/openapi/v3/api/v1` or `/openapi/v3/apis/<group>/<version>`. */
  | { type: 'openapi-v3-gv'; gv: GroupVersion }
  | { type: 'resource'; def: ResourceDef; namespace?: string; name?: string; subresource?: string; legacyWatch: boolean };

const FIXED: Record<string, Route & { type: 'fixed' }> = {
  '/healthz': { type: 'fixed', name: 'healthz' },
  '/livez': { type: 'fixed', name: 'livez' },
  '/readyz': { type: 'fixed', name: 'readyz' },
  '/version': { type: 'fixed', name: 'version' },
  '/api': { type: 'fixed', name: 'api' },
  '/apis': { type: 'fixed', name: 'apis' },
  '/openapi/v2': { type: 'fixed', name: 'openapi-v2' },
  '/openapi/v3': { type: 'fixed', name: 'openapi-v3' },
  '/inspect': { type: 'fixed', name: 'inspect' },
};

function split(rest: string): string[] | undefined {
  try {
    return rest.split('/').map(decodeURIComponent);
  } catch {
    return undefined;
  }
}

/** The route of a path, or undefined for a path we do not serve (404). */
export function route(path: string): Route | undefined {
  const trimmed = path.length > 1 && path.endsWith('/') ? path.slice(0, -1) : path;
  const fixed = FIXED[trimmed];
  if (fixed) return fixed;
  if (trimmed === '/api/v1') return { type: 'discovery', group: '', version: 'v1' };
  if (trimmed === '/openapi/v3/api/v1') return { type: 'openapi-v3-gv', gv: groupVersion('', 'v1') as GroupVersion };
  if (trimmed.startsWith('/openapi/v3/apis/')) {
    const parts = split(trimmed.slice('/openapi/v3/apis/'.length));
    const gv = parts?.length === 2 ? groupVersion(parts[0] as string, parts[1] as string) : undefined;
    return gv && gv.group !== '' ? { type: 'openapi-v3-gv', gv } : undefined;
  }
  if (trimmed.startsWith('/api/v1/')) {
    const parts = split(trimmed.slice('/api/v1/'.length));
    return parts && resourceRoute('', 'v1', parts);
  }
  if (!trimmed.startsWith('/apis/')) return undefined;
  const parts = split(trimmed.slice('/apis/'.length));
  if (!parts || parts.length === 0 || parts[0] === '') return undefined;
  const [group, version] = parts as [string, string | undefined];
  if (version === undefined) return groupVersions(group).length > 0 ? { type: 'discovery', group } : undefined;
  if (!groupVersion(group, version) || group === '') return undefined;
  if (parts.length === 2) return { type: 'discovery', group, version };
  return resourceRoute(group, version, parts.slice(2));
}

/** The resource addressed by the path parts below a group-version's root. */
function resourceRoute(group: string, version: string, parts: string[]): Route | undefined {
  let legacyWatch = false;
  if (parts[0] === 'watch') {
    legacyWatch = true;
    parts = parts.slice(1);
  }
  if (parts.length === 0 || parts.some((p) => p === '')) return undefined;
  // /namespaces/{ns}/{resource}[/{name}[/{sub}]] addresses namespaced resources …
  if (parts[0] === 'namespaces' && parts.length >= 3) {
    const def = groupResourceDef(group, version, parts[2] as string);
    if (def?.namespaced && parts.length <= 5) {
      return { type: 'resource', def, namespace: parts[1], name: parts[3], subresource: parts[4], legacyWatch };
    }
    // … unless the third part is a namespace's own subresource (/namespaces/{name}/status).
    if (parts.length !== 3) return undefined;
  }
  const def = groupResourceDef(group, version, parts[0] as string);
  if (!def || parts.length > 3) return undefined;
  // /api/v1/pods lists namespaced resources across namespaces; it has no items below it.
  if (def.namespaced && parts.length > 1) return undefined;
  return { type: 'resource', def, name: parts[1], subresource: parts[2], legacyWatch };
}
