// The resources reddwarf serves, grouped by API group and version (core/v1 under /api/v1, the
// others under /apis/<group>/<version>), with what discovery, tables and the store need.
//
// A new group plugs in by adding its ResourceDefs here (with `group` and `version`): the router,
// discovery (legacy and aggregated), OpenAPI v2/v3, tables, watch and selectors all derive from
// this list. The store keys objects by the plural `resource`, so plurals are unique across groups.
import type { Strategy } from './strategy.ts';
import { podStrategy } from './pod/strategy.ts';
import { nodeStrategy } from './node/strategy.ts';
import { namespaceStrategy } from './namespace/strategy.ts';
import { serviceStrategy } from './service/strategy.ts';
import { eventStrategy } from './event/strategy.ts';
import { secretStrategy } from './secret/strategy.ts';
import { runtimeClassStrategy } from './runtimeclass/strategy.ts';
import { leaseStrategy } from './lease/strategy.ts';

export interface ResourceDef {
  /** API group: '' for core (served under /api), e.g. `node.k8s.io` (under /apis). */
  readonly group: string;
  /** Version within the group: `v1`. */
  readonly version: string;
  /** Plural, as in URLs: `pods`. Unique across groups (it is the store's key prefix). */
  readonly resource: string;
  readonly singular: string;
  readonly kind: string;
  readonly listKind: string;
  readonly namespaced: boolean;
  readonly shortNames: readonly string[];
  readonly categories: readonly string[];
  readonly verbs: readonly string[];
  /** Subresources served beside the main resource, e.g. `status`. */
  readonly subresources: readonly string[];
  /** DELETE answers with the (last state of the) object rather than a Status (ReturnDeletedObject). */
  readonly returnsDeleted?: boolean;
  /** Clients may remove an object outright, whatever its state (pods/finalize: the node agent's last word). */
  readonly finalizable?: boolean;
  /** May still be created in a Terminating namespace (events, as the NamespaceLifecycle admission allows). */
  readonly createsInTerminatingNamespace?: boolean;
  readonly strategy: Strategy;
}

/** One served group-version and its resources. */
export interface GroupVersion {
  readonly group: string;
  readonly version: string;
  readonly resources: readonly ResourceDef[];
}

const ALL_VERBS = ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'] as const;
const CORE = { group: '', version: 'v1' } as const;
const NODE_K8S_IO = { group: 'node.k8s.io', version: 'v1' } as const;
const COORDINATION_K8S_IO = { group: 'coordination.k8s.io', version: 'v1' } as const;

export const RESOURCES: readonly ResourceDef[] = [
  { ...CORE, resource: 'pods', singular: 'pod', kind: 'Pod', listKind: 'PodList', namespaced: true, shortNames: ['po'], categories: ['all'], verbs: ALL_VERBS, subresources: ['status', 'binding', 'eviction', 'finalize', 'log'], returnsDeleted: true, finalizable: true, strategy: podStrategy as Strategy },
  { ...CORE, resource: 'nodes', singular: 'node', kind: 'Node', listKind: 'NodeList', namespaced: false, shortNames: ['no'], categories: [], verbs: ALL_VERBS, subresources: ['status', 'servingcertificate'], strategy: nodeStrategy as Strategy },
  { ...CORE, resource: 'namespaces', singular: 'namespace', kind: 'Namespace', listKind: 'NamespaceList', namespaced: false, shortNames: ['ns'], categories: [], verbs: ALL_VERBS, subresources: ['status'], returnsDeleted: true, strategy: namespaceStrategy as Strategy },
  { ...CORE, resource: 'services', singular: 'service', kind: 'Service', listKind: 'ServiceList', namespaced: true, shortNames: ['svc'], categories: ['all'], verbs: ALL_VERBS, subresources: ['status'], returnsDeleted: true, strategy: serviceStrategy as Strategy },
  { ...CORE, resource: 'events', singular: 'event', kind: 'Event', listKind: 'EventList', namespaced: true, shortNames: ['ev'], categories: [], verbs: ALL_VERBS, subresources: [], createsInTerminatingNamespace: true, strategy: eventStrategy as Strategy },
  { ...CORE, resource: 'secrets', singular: 'secret', kind: 'Secret', listKind: 'SecretList', namespaced: true, shortNames: [], categories: [], verbs: ALL_VERBS, subresources: [], strategy: secretStrategy as Strategy },
  { ...NODE_K8S_IO, resource: 'runtimeclasses', singular: 'runtimeclass', kind: 'RuntimeClass', listKind: 'RuntimeClassList', namespaced: false, shortNames: [], categories: [], verbs: ALL_VERBS, subresources: [], strategy: runtimeClassStrategy as Strategy },
  { ...COORDINATION_K8S_IO, resource: 'leases', singular: 'lease', kind: 'Lease', listKind: 'LeaseList', namespaced: true, shortNames: [], categories: [], verbs: ALL_VERBS, subresources: [], strategy: leaseStrategy },
];

/** `v1` for core, `<group>/<version>` otherwise: the apiVersion of the def's objects. */
export const apiVersionOf = (gv: { group: string; version: string }): string => (gv.group ? `${gv.group}/${gv.version}` : gv.version);

const byResource = new Map<string, ResourceDef>();
for (const r of RESOURCES) {
  // The store keys objects by plural alone; two groups sharing one would share storage.
  if (byResource.has(r.resource)) throw new Error(`resource ${r.resource} is defined twice`);
  byResource.set(r.resource, r);
}
const byKind = new Map(RESOURCES.map((r) => [`${apiVersionOf(r)}|${r.kind}`, r]));

/** Every served group-version, core first, then groups in name order (as kube-apiserver lists them). */
export const GROUP_VERSIONS: readonly GroupVersion[] = (() => {
  const out = new Map<string, GroupVersion & { resources: ResourceDef[] }>();
  for (const r of RESOURCES) {
    const key = apiVersionOf(r);
    let gv = out.get(key);
    if (!gv) out.set(key, (gv = { group: r.group, version: r.version, resources: [] }));
    gv.resources.push(r);
  }
  return [...out.values()].sort((a, b) => (a.group === b.group ? 0 : a.group === '' ? -1 : b.group === '' ? 1 : a.group < b.group ? -1 : 1));
})();

/** The served group-version, or undefined. */
export const groupVersion = (group: string, version: string): GroupVersion | undefined =>
  GROUP_VERSIONS.find((gv) => gv.group === group && gv.version === version);

/** The versions served for a named group (not core), preferred first; empty when the group is not served. */
export const groupVersions = (group: string): GroupVersion[] => GROUP_VERSIONS.filter((gv) => gv.group === group);

/** The definition of a plural resource name, or undefined when we do not serve it. */
export const resourceDef = (resource: string): ResourceDef | undefined => byResource.get(resource);

/** The definition of a resource within a group-version (what a URL addresses), or undefined. */
export function groupResourceDef(group: string, version: string, resource: string): ResourceDef | undefined {
  const def = byResource.get(resource);
  return def && def.group === group && def.version === version ? def : undefined;
}

/** The definition for a kind (`Pod`) in an apiVersion (`v1` by default), or undefined. */
export const kindDef = (kind: string, apiVersion = 'v1'): ResourceDef | undefined => byKind.get(`${apiVersion}|${kind}`);
