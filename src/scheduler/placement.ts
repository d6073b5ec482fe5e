// One scheduling decision: filter every node, score the feasible ones, pick the best; or explain
// in Kubernetes' words why no node fits. Pure: reads the view's maps, writes nothing.
import type { NodeFacts, PodFacts } from './facts.ts';
import { NO_USAGE, runFilters, type Usage } from './filters.ts';
import { scoreNode, tieBreak } from './scores.ts';
import { zoneBrandError } from './brands.ts';
import { fitErrorMessage, NO_NODES_MESSAGE } from './messages.ts';

export type Decision =
  | { fits: true; node: string; score: number; feasible: number }
  | { fits: false; message: string; reasons: ReadonlyMap<string, number> };

/** Where `pod` goes among `nodes` (with `usage` per node name), or why it goes nowhere. */
export function place(pod: PodFacts, nodes: ReadonlyMap<string, NodeFacts>, usage: ReadonlyMap<string, Usage>): Decision {
  const reasons = new Map<string, number>();
  if (nodes.size === 0) return { fits: false, message: NO_NODES_MESSAGE, reasons };
  // Admission rejects unknown brands; a pod stored before that rule still must not land anywhere.
  const brandError = zoneBrandError(pod.brand);
  if (brandError !== undefined) return { fits: false, message: fitErrorMessage(nodes.size, reasons, `pod's ${brandError}`), reasons };
  let best: NodeFacts | undefined;
  let bestScore = -1;
  let bestWeight = -1;
  let feasible = 0;
  for (const node of nodes.values()) {
    const used = usage.get(node.name) ?? NO_USAGE;
    const failed = runFilters(pod, node, used);
    if (failed !== undefined) {
      for (const r of failed) reasons.set(r, (reasons.get(r) ?? 0) + 1);
      continue;
    }
    feasible++;
    const score = scoreNode(pod, node, used);
    if (score < bestScore) continue;
    const weight = tieBreak(pod, node);
    if (score > bestScore || weight > bestWeight) {
      best = node;
      bestScore = score;
      bestWeight = weight;
    }
  }
  if (!best) return { fits: false, message: fitErrorMessage(nodes.size, reasons), reasons };
  return { fits: true, node: best.name, score: bestScore, feasible };
}
