// The scheduler's view of the cluster: node facts and the requests already placed on each node,
// an @xstate/store fed incrementally by the pods and nodes informers (whose relists arrive as
// the changes they found) — so a decision reads memory, never the API.
import { createStore } from '@xstate/store';
import type { Node, Pod } from '../api/model/types.ts';
import { nodeFacts, podKey, podRequests, type NodeFacts, type PodFacts, type Requests } from './facts.ts';
import type { Usage } from './filters.ts';

/** Where a pod's requests count, and whether that is only the scheduler's own assumption. */
export interface Placement {
  node: string;
  uid: string;
  requests: Requests;
  scoring: Requests;
  /** Decided here and being bound; the pods watch has not confirmed it yet. */
  assumed: boolean;
}

/** The view's state. */
export interface ViewContext {
  nodes: Map<string, NodeFacts>;
  /** The same nodes as an array (order irrelevant), so a decision can start anywhere and wrap. */
  nodeList: NodeFacts[];
  /** Position of each node in nodeList. */
  nodeIndex: Map<string, number>;
  /** The usage of nodeList[i] at i (the same objects as in `usage`): a decision reads by position, not by name. */
  usageList: Usage[];
  /** Per node name (whether or not the node is known yet): what its pods request. */
  usage: Map<string, Usage>;
  /** Per pod key: the pods that hold resources on a node. */
  placed: Map<string, Placement>;
  /** Bumped on every change, so subscribers and selectors see a new snapshot. */
  version: number;
}

/** Emitted when pods that fit nowhere might fit now. */
export type ViewEmitted = {
  capacity: { why: string };
};

type ViewEvents = {
  nodeSeen: { node: Node };
  nodeGone: { name: string };
  podSeen: { pod: Pod };
  podGone: { key: string };
  assumed: { pod: PodFacts; node: string };
  forgotten: { key: string; uid: string };
};

/** Whether a pod holds resources on its node: bound and not finished. Terminating pods still hold them. */
export function holdsResources(pod: Pod): boolean {
  const phase = pod.status?.phase;
  return typeof pod.spec?.nodeName === 'string' && pod.spec.nodeName !== '' && phase !== 'Succeeded' && phase !== 'Failed';
}

function placementOf(pod: Pod): Placement {
  return { node: pod.spec.nodeName as string, uid: pod.metadata.uid ?? '', ...podRequests(pod), assumed: false };
}

function usageOf(ctx: ViewContext, node: string): Usage {
  let u = ctx.usage.get(node);
  if (!u) ctx.usage.set(node, (u = { cpu: 0, memory: 0, pods: 0, scoreCpu: 0, scoreMemory: 0 }));
  return u;
}

/** Moves a pod's contribution: out of its old node, into its new one (either may be absent). */
function account(ctx: ViewContext, key: string, next: Placement | undefined): void {
  const prev = ctx.placed.get(key);
  if (prev) {
    const u = usageOf(ctx, prev.node);
    u.cpu -= prev.requests.cpu;
    u.memory -= prev.requests.memory;
    u.scoreCpu -= prev.scoring.cpu;
    u.scoreMemory -= prev.scoring.memory;
    u.pods -= 1;
    ctx.placed.delete(key);
  }
  if (next) {
    const u = usageOf(ctx, next.node);
    u.cpu += next.requests.cpu;
    u.memory += next.requests.memory;
    u.scoreCpu += next.scoring.cpu;
    u.scoreMemory += next.scoring.memory;
    u.pods += 1;
    ctx.placed.set(key, next);
  }
}

function putNode(ctx: ViewContext, facts: NodeFacts): void {
  ctx.nodes.set(facts.name, facts);
  const i = ctx.nodeIndex.get(facts.name);
  if (i !== undefined) {
    ctx.nodeList[i] = facts;
    return;
  }
  ctx.nodeIndex.set(facts.name, ctx.nodeList.push(facts) - 1);
  ctx.usageList.push(usageOf(ctx, facts.name));
}

function removeNode(ctx: ViewContext, name: string): void {
  const i = ctx.nodeIndex.get(name);
  if (i === undefined) return;
  // Swap-remove: the list's order carries no meaning.
  const last = ctx.nodeList.pop() as NodeFacts;
  const lastUsage = ctx.usageList.pop() as Usage;
  if (last.name !== name) {
    ctx.nodeList[i] = last;
    ctx.usageList[i] = lastUsage;
    ctx.nodeIndex.set(last.name, i);
  }
  ctx.nodeIndex.delete(name);
  ctx.nodes.delete(name);
}

// The maps are changed in place and the context object renewed. Copying 5,000 nodes and 10,000
// placements on every watch event would make each heartbeat O(cluster); nothing outside this
// store writes them, and `version` tells readers that something changed.
const renewed = (ctx: ViewContext): ViewContext => ({ ...ctx, version: ctx.version + 1 });

/** A new, empty view. */
export function createView() {
  return createStore<ViewContext, ViewEvents, ViewEmitted>({
    context: { nodes: new Map(), nodeList: [], nodeIndex: new Map(), usageList: [], usage: new Map(), placed: new Map(), version: 0 },
    on: {
      nodeSeen: (ctx, e, enq) => {
        const facts = nodeFacts(e.node);
        const prev = ctx.nodes.get(facts.name);
        putNode(ctx, facts);
        // Heartbeats change only times: they must not wake every waiting pod.
        if (!prev) enq.emit.capacity({ why: `node ${facts.name} added` });
        else if (prev.signature !== facts.signature) enq.emit.capacity({ why: `node ${facts.name} changed` });
        return renewed(ctx);
      },
      nodeGone: (ctx, e) => {
        removeNode(ctx, e.name);
        return renewed(ctx);
      },
      podSeen: (ctx, e, enq) => {
        const pod = e.pod;
        const key = podKey(pod.metadata.namespace ?? '', pod.metadata.name ?? '');
        const prev = ctx.placed.get(key);
        if (holdsResources(pod)) {
          if (prev !== undefined && prev.uid === (pod.metadata.uid ?? '') && prev.node === pod.spec.nodeName) {
            // The bind this scheduler assumed, confirmed (or a status change): requests are as counted.
            if (!prev.assumed) return ctx;
            prev.assumed = false;
            return renewed(ctx);
          }
          account(ctx, key, placementOf(pod));
        }
        else if (prev && !(prev.assumed && !pod.spec?.nodeName)) {
          account(ctx, key, undefined);
          enq.emit.capacity({ why: `pod ${key} finished` });
        } else {
          return ctx;
        }
        return renewed(ctx);
      },
      podGone: (ctx, e, enq) => {
        if (!ctx.placed.has(e.key)) return ctx;
        account(ctx, e.key, undefined);
        enq.emit.capacity({ why: `pod ${e.key} deleted` });
        return renewed(ctx);
      },
      assumed: (ctx, e) => {
        const p = e.pod;
        account(ctx, p.key, { node: e.node, uid: p.uid, requests: p.requests, scoring: p.scoring, assumed: true });
        return renewed(ctx);
      },
      forgotten: (ctx, e) => {
        const p = ctx.placed.get(e.key);
        if (!p?.assumed || p.uid !== e.uid) return ctx;
        account(ctx, e.key, undefined);
        // No capacity signal: two pods whose binds keep failing would wake each other forever.
        // The reservation lasted one round trip; whoever it kept out retries on its backoff.
        return renewed(ctx);
      },
    },
  });
}

/** The view store. */
export type View = ReturnType<typeof createView>;
