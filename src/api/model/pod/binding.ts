// pods/binding as a pure mutation: the checks Kubernetes' BindingREST makes, then the assignment
// (the pod strategy's `bind`).
import { StoreError } from '../errors.ts';
import type { Condition, Pod } from '../types.ts';

export interface BindingRequest {
  nodeName: string;
  /** Preconditions: bind only the pod the decision was made for. */
  uid?: string;
  resourceVersion?: string;
  annotations?: Record<string, string>;
}

/** Assigns `pod` to a node, or throws a Conflict if it changed, is terminating or is bound. */
export function bindPod(pod: Pod, b: BindingRequest, transitionTime: string): void {
  const name = pod.metadata.name ?? '';
  const conflict = (why?: string): StoreError => new StoreError('Conflict', 'pods/binding', name, why);
  if (b.uid && b.uid !== pod.metadata.uid) throw conflict(`Precondition failed: UID in precondition: ${b.uid}, UID in object meta: ${pod.metadata.uid}`);
  if (b.resourceVersion && b.resourceVersion !== pod.metadata.resourceVersion) throw conflict();
  if (pod.metadata.deletionTimestamp) throw conflict(`pod ${name} is being deleted, cannot be assigned to a host`);
  if (pod.spec.nodeName) throw conflict(`pod ${name} is already assigned to node "${pod.spec.nodeName}"`);
  pod.spec.nodeName = b.nodeName;
  if (b.annotations) pod.metadata.annotations = { ...pod.metadata.annotations, ...b.annotations };
  pod.status = { ...pod.status, conditions: setCondition(pod.status?.conditions, { type: 'PodScheduled', status: 'True', lastTransitionTime: transitionTime }) };
}

/** Replaces the condition of the same type, keeping its transition time if the status holds. */
export function setCondition(conditions: Condition[] | undefined, c: Condition): Condition[] {
  const list = [...(conditions ?? [])];
  const i = list.findIndex((x) => x.type === c.type);
  if (i < 0) return [...list, c];
  const old = list[i] as Condition;
  list[i] = old.status === c.status && old.lastTransitionTime ? { ...c, lastTransitionTime: old.lastTransitionTime } : c;
  return list;
}
