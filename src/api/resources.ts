// The resources reddwarf serves under /api/v1, with what discovery, tables and the store need.
import type { Strategy } from './strategy.ts';
import { podStrategy } from './pod/strategy.ts';
import { nodeStrategy } from './node/strategy.ts';
import { namespaceStrategy } from './namespace/strategy.ts';
import { serviceStrategy } from './service/strategy.ts';
import { eventStrategy } from './event/strategy.ts';

export interface ResourceDef {
  /** Plural, as in URLs: `pods`. */
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
  readonly strategy: Strategy;
}

const ALL_VERBS = ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'] as const;

export const RESOURCES: readonly ResourceDef[] = [
  { resource: 'pods', singular: 'pod', kind: 'Pod', listKind: 'PodList', namespaced: true, shortNames: ['po'], categories: ['all'], verbs: ALL_VERBS, subresources: ['status', 'binding', 'eviction', 'finalize', 'log'], strategy: podStrategy as Strategy },
  { resource: 'nodes', singular: 'node', kind: 'Node', listKind: 'NodeList', namespaced: false, shortNames: ['no'], categories: [], verbs: ALL_VERBS, subresources: ['status', 'servingcertificate'], strategy: nodeStrategy as Strategy },
  { resource: 'namespaces', singular: 'namespace', kind: 'Namespace', listKind: 'NamespaceList', namespaced: false, shortNames: ['ns'], categories: [], verbs: ALL_VERBS, subresources: ['status'], strategy: namespaceStrategy as Strategy },
  { resource: 'services', singular: 'service', kind: 'Service', listKind: 'ServiceList', namespaced: true, shortNames: ['svc'], categories: ['all'], verbs: ALL_VERBS, subresources: ['status'], strategy: serviceStrategy as Strategy },
  { resource: 'events', singular: 'event', kind: 'Event', listKind: 'EventList', namespaced: true, shortNames: ['ev'], categories: [], verbs: ALL_VERBS, subresources: [], strategy: eventStrategy as Strategy },
];

const byResource = new Map(RESOURCES.map((r) => [r.resource, r]));
const byKind = new Map(RESOURCES.map((r) => [r.kind, r]));

/** The definition of a plural resource name, or undefined when we do not serve it. */
export const resourceDef = (resource: string): ResourceDef | undefined => byResource.get(resource);

/** The definition for a kind (`Pod`), or undefined. */
export const kindDef = (kind: string): ResourceDef | undefined => byKind.get(kind);
