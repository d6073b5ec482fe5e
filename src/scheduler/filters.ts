// Filters: can this pod go on this node at all? Applied in SPEC §4.3's order with what the
// reference lacked (readiness, max pods, bound pods' requests, toleration operators); the first
// filter that fails rejects the node and its reasons are what the FitError message counts.
import type { Taint, Toleration } from '../api/model/types.ts';
import type { NodeFacts, PodFacts } from './facts.ts';
import { REASON } from './messages.ts';

/** What is already bound (or assumed) to a node: requests summed, pods counted. */
export interface Usage {
  cpu: number;
  memory: number;
  pods: number;
  /** Requests as scored (with Kubernetes' defaults for unset requests). */
  scoreCpu: number;
  scoreMemory: number;
}

/** Failure reasons; undefined when the node passes. */
export type FilterResult = readonly string[] | undefined;

/** One filter: a pure check of the pod against one node and what that node already holds. */
export type Filter = (pod: PodFacts, node: NodeFacts, used: Usage) => FilterResult;

/** An empty node's usage. */
export const NO_USAGE: Readonly<Usage> = Object.freeze({ cpu: 0, memory: 0, pods: 0, scoreCpu: 0, scoreMemory: 0 });

const UNSCHEDULABLE_TAINT: Taint = { key: 'node.kubernetes.io/unschedulable', effect: 'NoSchedule' };

// Shared arrays: a passing node allocates nothing, a failing one at most its taint text.
const NOT_READY = [REASON.notReady];
const UNSCHEDULABLE = [REASON.unschedulable];
const SELECTOR = [REASON.selector];

/** Kubernetes' Toleration.ToleratesTaint: effect and key match when set; Equal compares values, Exists does not. */
export function toleratesTaint(t: Toleration, taint: Taint): boolean {
  if (t.effect && t.effect !== taint.effect) return false;
  if (t.key && t.key !== taint.key) return false;
  switch (t.operator ?? 'Equal') {
    case 'Equal': return (t.value ?? '') === (taint.value ?? '');
    case 'Exists': return true;
    default: return false;
  }
}

const tolerated = (tolerations: readonly Toleration[], taint: Taint): boolean => tolerations.some((t) => toleratesTaint(t, taint));

/** The node's Ready condition is True. */
export const nodeReady: Filter = (_pod, node) => (node.ready ? undefined : NOT_READY);

/** The node is not cordoned, unless the pod tolerates the unschedulable taint (as DaemonSets do). */
export const nodeUnschedulable: Filter = (pod, node) =>
  !node.unschedulable || tolerated(pod.tolerations, UNSCHEDULABLE_TAINT) ? undefined : UNSCHEDULABLE;

/**
 * The node runs the pod's zone brand (a node without the label runs every brand). A pod that asks
 * for none takes the node's default (lx, else a native brand), which every node with a brand has.
 */
export const zoneBrand: Filter = (pod, node) => {
  if (node.brands === undefined) return undefined;
  if (pod.brand === undefined) return node.brands.size > 0 ? undefined : [REASON.noBrands];
  return node.brands.has(pod.brand) ? undefined : [REASON.brand(pod.brand)];
};

/** Room for one more pod, and for its requests beside those already bound; every shortage is named. */
export const fitsResources: Filter = (pod, node, used) => {
  const a = node.allocatable;
  const r = pod.requests;
  const tooMany = used.pods + 1 > a.pods;
  // Zero requests always fit, even on a node whose allocatable is missing or overcommitted.
  const cpu = r.cpu > 0 && used.cpu + r.cpu > a.cpu;
  const memory = r.memory > 0 && used.memory + r.memory > a.memory;
  if (!tooMany && !cpu && !memory) return undefined;
  const reasons: string[] = [];
  if (tooMany) reasons.push(REASON.tooManyPods);
  if (cpu) reasons.push(REASON.cpu);
  if (memory) reasons.push(REASON.memory);
  return reasons;
};

/** Every nodeSelector entry equals the node's label. */
export const nodeSelector: Filter = (pod, node) => {
  for (const [k, v] of pod.nodeSelector) if (node.labels[k] !== v) return SELECTOR;
  return undefined;
};

/** Every NoSchedule/NoExecute taint of the node is tolerated; the first one that is not is named. */
export const taintToleration: Filter = (pod, node) => {
  for (const taint of node.taints) if (!tolerated(pod.tolerations, taint)) return [REASON.taint(taint)];
  return undefined;
};

/** The filters in the order they run. */
export const FILTERS: readonly { name: string; filter: Filter }[] = [
  { name: 'NodeReady', filter: nodeReady },
  { name: 'NodeUnschedulable', filter: nodeUnschedulable },
  { name: 'ZoneBrandMatch', filter: zoneBrand },
  { name: 'NodeResourcesFit', filter: fitsResources },
  { name: 'NodeSelectorMatch', filter: nodeSelector },
  { name: 'TaintToleration', filter: taintToleration },
];

/** The reasons of the first filter that rejects the node; undefined when every filter passes. */
export function runFilters(pod: PodFacts, node: NodeFacts, used: Usage): FilterResult {
  // Unrolled rather than looping over FILTERS: this runs nodes × pods times.
  return nodeReady(pod, node, used) ?? nodeUnschedulable(pod, node, used) ?? zoneBrand(pod, node, used)
    ?? fitsResources(pod, node, used) ?? nodeSelector(pod, node, used) ?? taintToleration(pod, node, used);
}
