// Node conditions as the control plane and the agent both write them: Ready with its heartbeat
// and transition times, where lastTransitionTime moves only when the status really changes.
import type { Condition, Node } from '../types.ts';

/** The Ready condition of a node, if it has one. */
export function readyCondition(node: Node): Condition | undefined {
  return node.status?.conditions?.find((c) => c.type === 'Ready');
}

/** The node's last heartbeat in ms, or undefined when it never sent one. */
export function lastHeartbeat(node: Node): number | undefined {
  const t = readyCondition(node)?.lastHeartbeatTime;
  const ms = t ? Date.parse(t) : NaN;
  return Number.isNaN(ms) ? undefined : ms;
}

/** Conditions with Ready replaced by `next`, keeping lastTransitionTime while the status holds. */
export function withReady(conditions: Condition[] | undefined, next: Condition): Condition[] {
  const list = [...(conditions ?? [])];
  const i = list.findIndex((c) => c.type === 'Ready');
  const old = i >= 0 ? list[i] : undefined;
  const merged: Condition = old && old.status === next.status && old.lastTransitionTime ? { ...next, lastTransitionTime: old.lastTransitionTime } : next;
  if (i >= 0) list[i] = merged;
  else list.push(merged);
  return list;
}
