// Discovery documents (/version, /api, /apis, /api/v1, /apis/<group>[/<version>] and aggregated
// apidiscovery.k8s.io/v2), derived from GROUP_VERSIONS.
import { apiVersionOf, GROUP_VERSIONS, groupVersion, groupVersions, type GroupVersion, type ResourceDef } from '../api/model/resources.ts';
import { parseAccept } from '../api/wire/table.ts';

/** The Content-Type of an aggregated discovery answer; client-go decides by it alone. */
export const AGGREGATED_CONTENT_TYPE = 'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList';

export interface VersionInfo {
  major: string;
  minor: string;
  gitVersion: string;
  gitCommit: string;
  gitTreeState: string;
  buildDate: string;
  goVersion: string;
  compiler: string;
  platform: string;
}

/** `GET /version`; `minor` also picks the kubectl binary the gcloud dispatcher runs. */
export function versionInfo(minor: number, platform = 'linux/amd64'): VersionInfo {
  return {
    major: '1',
    minor: String(minor),
    gitVersion: `v1.${minor}.0`,
    gitCommit: 'reddwarf',
    gitTreeState: 'clean',
    buildDate: '2026-01-01T00:00:00Z',
    goVersion: 'go1.23.0',
    compiler: 'gc',
    platform,
  };
}

/** `GET /api`: the legacy APIVersions document. */
export function apiVersions(serverAddress: string): { kind: 'APIVersions'; versions: string[]; serverAddressByClientCIDRs: { clientCIDR: string; serverAddress: string }[] } {
  return { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress }] };
}

export interface GroupVersionForDiscovery {
  groupVersion: string;
  version: string;
}

export interface APIGroup {
  name: string;
  versions: GroupVersionForDiscovery[];
  preferredVersion: GroupVersionForDiscovery;
}

const named = (): string[] => [...new Set(GROUP_VERSIONS.filter((gv) => gv.group !== '').map((gv) => gv.group))];

function group(name: string): APIGroup {
  const versions = groupVersions(name).map((gv) => ({ groupVersion: apiVersionOf(gv), version: gv.version }));
  return { name, versions, preferredVersion: { ...(versions[0] as GroupVersionForDiscovery) } };
}

/** `GET /apis`: every named group (core is under /api). */
export function apiGroupList(): { kind: 'APIGroupList'; apiVersion: 'v1'; groups: APIGroup[] } {
  return { kind: 'APIGroupList', apiVersion: 'v1', groups: named().map(group) };
}

/** `GET /apis/<group>`: the group's versions, or undefined when it is not served. */
export function apiGroup(name: string): ({ kind: 'APIGroup'; apiVersion: 'v1' } & APIGroup) | undefined {
  if (name === '' || groupVersions(name).length === 0) return undefined;
  return { kind: 'APIGroup', apiVersion: 'v1', ...group(name) };
}

// ---------------------------------------------------------------------------------------------
// Subresources: what each one answers with. Unknown ones (pods/finalize, reddwarf's agent hook) are not advertised.

interface SubresourceInfo {
  group?: string;
  version?: string;
  kind: (parent: ResourceDef) => string;
  verbs: readonly string[];
}

const SUBRESOURCES: Record<string, SubresourceInfo> = {
  binding: { kind: () => 'Binding', verbs: ['create'] },
  eviction: { group: 'policy', version: 'v1', kind: () => 'Eviction', verbs: ['create'] },
  log: { kind: (p) => p.kind, verbs: ['get'] },
  status: { kind: (p) => p.kind, verbs: ['get', 'patch', 'update'] },
};

const byName = <T>(key: (t: T) => string) => (a: T, b: T): number => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0);

export interface APIResource {
  name: string;
  singularName: string;
  namespaced: boolean;
  group?: string;
  version?: string;
  kind: string;
  verbs: string[];
  shortNames?: string[];
  categories?: string[];
}

export interface APIResourceList {
  kind: 'APIResourceList';
  apiVersion?: 'v1';
  groupVersion: string;
  resources: APIResource[];
}

/**
 * `GET /api/v1` (drain and `auth can-i` read it even with aggregated discovery) or
 * `GET /apis/<group>/<version>`: the legacy APIResourceList; undefined for a group-version not served.
 */
export function apiResourceList(groupName = '', version = 'v1'): APIResourceList | undefined {
  const gv = groupVersion(groupName, version);
  if (!gv) return undefined;
  const resources: APIResource[] = [];
  for (const def of gv.resources) {
    const main: APIResource = { name: def.resource, singularName: def.singular, namespaced: def.namespaced, kind: def.kind, verbs: [...def.verbs].sort() };
    if (def.shortNames.length) main.shortNames = [...def.shortNames];
    if (def.categories.length) main.categories = [...def.categories];
    resources.push(main);
    for (const sub of def.subresources) {
      const info = SUBRESOURCES[sub];
      if (!info) continue;
      // kube-apiserver's field order: group and version (only when they differ) come before kind.
      const entry: Omit<APIResource, 'kind' | 'verbs'> = { name: `${def.resource}/${sub}`, singularName: '', namespaced: def.namespaced };
      if (info.group !== undefined) {
        entry.group = info.group;
        entry.version = info.version ?? 'v1';
      }
      resources.push({ ...entry, kind: info.kind(def), verbs: [...info.verbs] });
    }
  }
  resources.sort(byName((r) => r.name));
  // kube-apiserver sets apiVersion on group lists only, not on /api/v1's.
  return gv.group === '' ? { kind: 'APIResourceList', groupVersion: 'v1', resources } : { kind: 'APIResourceList', apiVersion: 'v1', groupVersion: apiVersionOf(gv), resources };
}

// ---------------------------------------------------------------------------------------------
// Aggregated discovery (apidiscovery.k8s.io/v2).

interface GroupVersionKind { group: string; version: string; kind: string }

export interface APISubresourceDiscovery {
  subresource: string;
  responseKind: GroupVersionKind;
  verbs: string[];
}

export interface APIResourceDiscovery {
  resource: string;
  responseKind: GroupVersionKind;
  scope: 'Namespaced' | 'Cluster';
  singularResource: string;
  verbs: string[];
  shortNames?: string[];
  categories?: string[];
  subresources?: APISubresourceDiscovery[];
}

export interface APIGroupDiscoveryList {
  kind: 'APIGroupDiscoveryList';
  apiVersion: 'apidiscovery.k8s.io/v2';
  metadata: Record<string, never>;
  items: {
    metadata: { name?: string; creationTimestamp: null };
    versions: { version: string; resources: APIResourceDiscovery[]; freshness: 'Current' }[];
  }[];
}

function resourceDiscovery(def: ResourceDef): APIResourceDiscovery {
  const r: APIResourceDiscovery = {
    resource: def.resource,
    responseKind: { group: def.group, version: def.version, kind: def.kind },
    scope: def.namespaced ? 'Namespaced' : 'Cluster',
    singularResource: def.singular,
    verbs: [...def.verbs].sort(),
  };
  if (def.shortNames.length) r.shortNames = [...def.shortNames];
  if (def.categories.length) r.categories = [...def.categories];
  const subs: APISubresourceDiscovery[] = [];
  for (const sub of def.subresources) {
    const info = SUBRESOURCES[sub];
    if (!info) continue;
    subs.push({ subresource: sub, responseKind: { group: info.group ?? '', version: info.version ?? 'v1', kind: info.kind(def) }, verbs: [...info.verbs] });
  }
  if (subs.length) r.subresources = subs.sort(byName((x) => x.subresource));
  return r;
}

const versionDiscovery = (gv: GroupVersion): APIGroupDiscoveryList['items'][number]['versions'][number] => ({
  version: gv.version,
  resources: gv.resources.map(resourceDiscovery).sort(byName((r) => r.resource)),
  freshness: 'Current',
});

/** `GET /api` answered aggregated: the core group with every resource and subresource. */
export function aggregatedDiscovery(): APIGroupDiscoveryList {
  const core = groupVersion('', 'v1') as GroupVersion;
  return {
    kind: 'APIGroupDiscoveryList',
    apiVersion: 'apidiscovery.k8s.io/v2',
    metadata: {},
    items: [{ metadata: { creationTimestamp: null }, versions: [versionDiscovery(core)] }],
  };
}

/** `GET /apis` answered aggregated: every named group, its versions preferred first. */
export function aggregatedGroupsDiscovery(): APIGroupDiscoveryList {
  return {
    kind: 'APIGroupDiscoveryList',
    apiVersion: 'apidiscovery.k8s.io/v2',
    metadata: {},
    items: named().map((name) => ({ metadata: { name, creationTimestamp: null }, versions: groupVersions(name).map(versionDiscovery) })),
  };
}

/** True when the Accept header offers `as=APIGroupDiscoveryList;v=v2` (group apidiscovery.k8s.io when named). */
export function wantsAggregated(accept: string | null | undefined): boolean {
  return parseAccept(accept).some((m) =>
    (m.type === 'application/json' || m.type === 'application/*' || m.type === '*/*')
    && m.params.as === 'APIGroupDiscoveryList'
    && m.params.v === 'v2'
    && (m.params.g === undefined || m.params.g === 'apidiscovery.k8s.io'));
}
