// One scheduling decision: filter the nodes, score the feasible ones, pick the best; or explain
// in Kubernetes' words why no node fits. Pure: reads the view's node list and usage, writes nothing.
import type { NodeFacts, PodFacts } from './facts.ts';
import { NO_USAGE, runFilters, type Usage } from './filters.ts';
import { scoreNode, tieBreak } from './scores.ts';
import { zoneBrandError } from '../api/model/brands.ts';
import { fitErrorMessage, NO_NODES_MESSAGE } from './messages.ts';

/** A node for the pod, or the FitError message and its per-reason counts. */
export type Decision =
  | { fits: true; node: string; score: number; feasible: number; examined: number }
  | { fits: false; message: string; reasons: ReadonlyMap<string, number>; examined: number };

/** How much of a large cluster one decision looks at. */
export interface PlaceOptions {
  /** Index in the node list to start from; the caller rotates it so every node gets its turn. */
  start?: number;
  /** Stop looking once this many nodes fit (see feasibleNodesToFind); all nodes by default. */
  enough?: number;
}

// Kubernetes' percentageOfNodesToScore: in a large cluster, the best of a few hundred feasible
// nodes is as good as the best of all, at a fraction of the cost (minFeasibleNodesToFind = 100,
// minFeasibleNodesPercentageToFind = 5, adaptive default 50% − 1% per 125 nodes).
const MIN_FEASIBLE = 100;
const MIN_PERCENTAGE = 5;

/**
 * How many feasible nodes a decision looks for among `total` (Kubernetes' numFeasibleNodesToFind);
 * `percentage` 0 is the adaptive default, 100 looks at every node.
 */
export function feasibleNodesToFind(total: number, percentage = 0): number {
  if (total < MIN_FEASIBLE || percentage >= 100) return total;
  const pct = percentage > 0 ? percentage : Math.max(MIN_PERCENTAGE, 50 - Math.floor(total / 125));
  return Math.max(MIN_FEASIBLE, Math.floor((total * pct) / 100));
}

/**
 * Where `pod` goes among `nodes`, or why it goes nowhere. `usage` is what each node holds: by node
 * name, or by position in `nodes` (the view's usageList: a third faster than a lookup by name).
 */
export function place(pod: PodFacts, nodes: readonly NodeFacts[], usage: ReadonlyMap<string, Usage> | readonly Usage[], opts: PlaceOptions = {}): Decision {
  const byPosition = Array.isArray(usage) ? (usage as readonly Usage[]) : undefined;
  const byName = usage as ReadonlyMap<string, Usage>;
  // Allocated on the first rejection only: most decisions in a roomy cluster reject nothing.
  let reasons: Map<string, number> | undefined;
  const total = nodes.length;
  if (total === 0) return { fits: false, message: NO_NODES_MESSAGE, reasons: new Map(), examined: 0 };
  // Admission rejects unknown brands; a pod stored before that rule still must not land anywhere.
  const brandError = pod.brand === undefined ? undefined : zoneBrandError(pod.brand);
  if (brandError !== undefined) return { fits: false, message: fitErrorMessage(total, new Map(), `pod's ${brandError}`), reasons: new Map(), examined: 0 };
  const enough = opts.enough ?? total;
  let i = (((opts.start ?? 0) % total) + total) % total;
  let best: NodeFacts | undefined;
  let bestScore = -1;
  let bestWeight = -1;
  let feasible = 0;
  let examined = 0;
  while (examined < total && feasible < enough) {
    const node = nodes[i] as NodeFacts;
    const used = (byPosition ? byPosition[i] : byName.get(node.name)) ?? NO_USAGE;
    if (++i === total) i = 0;
    examined++;
    const failed = runFilters(pod, node, used);
    if (failed !== undefined) {
      reasons ??= new Map();
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
  if (!best) {
    reasons ??= new Map();
    return { fits: false, message: fitErrorMessage(total, reasons), reasons, examined };
  }
  return { fits: true, node: best.name, score: bestScore, feasible, examined };
}
