// What the scheduler reads of a pod and of a node, extracted once per object version so a decision
// compares numbers and sets instead of parsing quantities for every (pod, node) pair.
import type { Condition, Node, Pod, Taint, Toleration } from '../api/model/types.ts';
import { parseCount, parseCpu, parseMemory } from '../api/model/quantity.ts';
import { nodeBrands, requestedBrand } from '../api/model/brands.ts';
import { fnv1a } from './hash.ts';

/** CPU in millicores and memory in bytes. */
export interface Requests {
  cpu: number;
  memory: number;
}

// Kubernetes scores a container that names no request as if it asked for these
// (DefaultMilliCPURequest, DefaultMemoryRequest), so best-effort pods still spread by count.
// Filters use the real requests.
export const DEFAULT_SCORE_CPU = 100;
export const DEFAULT_SCORE_MEMORY = 200 * 1024 * 1024;

/** What a decision needs of a pending pod. */
export interface PodFacts {
  /** `namespace/name`. */
  key: string;
  namespace: string;
  name: string;
  uid: string;
  resourceVersion: string;
  /** What the filters compare with allocatable. */
  requests: Requests;
  /** What the scores add to a node (unset requests replaced by Kubernetes' defaults). */
  scoring: Requests;
  /** The brand asked for; undefined: the node's default (every node with a brand has one). */
  brand: string | undefined;
  nodeSelector: readonly (readonly [string, string])[];
  tolerations: readonly Toleration[];
  /** Hash of the uid, the pod's half of the tie-break. */
  hash: number;
}

/** What a decision needs of a node. */
export interface NodeFacts {
  name: string;
  /** The Ready condition is True. */
  ready: boolean;
  unschedulable: boolean;
  labels: Readonly<Record<string, string>>;
  /** Undefined when the node does not list brands: it takes every brand. */
  brands: ReadonlySet<string> | undefined;
  /** Only the taints that keep pods off (NoSchedule, NoExecute); PreferNoSchedule is a hint. */
  taints: readonly Taint[];
  allocatable: { cpu: number; memory: number; pods: number };
  /** Hash of the name, the node's half of the tie-break. */
  hash: number;
  /** Everything above in one string: a node update that leaves it equal cannot help a pod fit. */
  signature: string;
}

/** Key of a namespaced object. */
export const podKey = (namespace: string, name: string): string => `${namespace}/${name}`;

/** The requests of a pod, as filtered and as scored. Init containers are not run by the zone runtime. */
export function podRequests(pod: Pod): { requests: Requests; scoring: Requests } {
  const requests = { cpu: 0, memory: 0 };
  const scoring = { cpu: 0, memory: 0 };
  const containers = Array.isArray(pod.spec?.containers) ? pod.spec.containers : [];
  for (const c of containers) {
    const r = c?.resources?.requests;
    const cpu = r?.cpu === undefined ? undefined : (parseCpu(r.cpu) ?? 0);
    const memory = r?.memory === undefined ? undefined : (parseMemory(r.memory) ?? 0);
    requests.cpu += cpu ?? 0;
    requests.memory += memory ?? 0;
    scoring.cpu += cpu ?? DEFAULT_SCORE_CPU;
    scoring.memory += memory ?? DEFAULT_SCORE_MEMORY;
  }
  return { requests, scoring };
}

/** The facts of a pod waiting for a node. */
export function podFacts(pod: Pod): PodFacts {
  const meta = pod.metadata;
  const namespace = meta.namespace ?? '';
  const name = meta.name ?? '';
  const uid = meta.uid ?? '';
  const selector = pod.spec?.nodeSelector;
  return {
    key: podKey(namespace, name),
    namespace,
    name,
    uid,
    resourceVersion: meta.resourceVersion ?? '',
    ...podRequests(pod),
    brand: requestedBrand(pod),
    nodeSelector: selector && typeof selector === 'object' ? Object.entries(selector) : [],
    tolerations: Array.isArray(pod.spec?.tolerations) ? pod.spec.tolerations : [],
    hash: fnv1a(uid || podKey(namespace, name)),
  };
}

/** The facts of a node. */
export function nodeFacts(node: Node): NodeFacts {
  const name = node.metadata.name ?? '';
  const labels = node.metadata.labels ?? {};
  const conditions: Condition[] = Array.isArray(node.status?.conditions) ? node.status.conditions : [];
  const ready = conditions.some((c) => c.type === 'Ready' && c.status === 'True');
  const unschedulable = node.spec?.unschedulable === true;
  const taints = (Array.isArray(node.spec?.taints) ? node.spec.taints : []).filter((t) => t.effect === 'NoSchedule' || t.effect === 'NoExecute');
  const a = node.status?.allocatable ?? {};
  // Missing or unparsable allocatable counts as nothing, as in Kubernetes (and SPEC §4.3).
  const allocatable = { cpu: parseCpu(a.cpu) ?? 0, memory: parseMemory(a.memory) ?? 0, pods: parseCount(a.pods) ?? 0 };
  const brands = nodeBrands(labels);
  const signature = JSON.stringify([ready, unschedulable, labels, taints, allocatable]);
  return { name, ready, unschedulable, labels, brands, taints, allocatable, hash: fnv1a(name), signature };
}
