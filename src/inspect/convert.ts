// XState inspection events → the Stately inspector's messages (@statelyai/inspect 0.7 protocol:
// @xstate.actor, @xstate.event, @xstate.snapshot), with the same fields and values as
// @statelyai/inspect's own converter (createInspector → convertXStateEvent), but synchronous and
// with one definition string per machine. Why not createInspector itself: it defers every event
// with setTimeout(0) and reads an actor's snapshot at that later time (a pod "created" already
// Running), stringifies the whole machine config again for every actor, and would be a runtime
// dependency; test/inspect/receiver.test.ts checks that both produce the same messages.
import type { AnyActorRef, InspectionEvent } from 'xstate';

/** The @statelyai/inspect version whose protocol we speak (the receivers check `_version` is a string). */
export const PROTOCOL_VERSION = '0.7.2';

export interface InspectorMessage {
  type: '@xstate.actor' | '@xstate.event' | '@xstate.snapshot';
  sessionId: string;
  rootId: string;
  _version: string;
  createdAt: string;
  id: null;
  [k: string]: unknown;
}

/** Nested objects deeper than this are cut (as @statelyai/inspect's serializationDepthLimit 10). */
const MAX_DEPTH = 10;

/** JSON-safe copy: functions become `{type: name}` (as @statelyai/inspect's safeReplacer), cycles and deep nesting are cut. */
export function plain(value: unknown): unknown {
  const seen: unknown[] = [];
  const walk = (v: unknown, depth: number): unknown => {
    if (typeof v === 'function') return { type: (v as { name?: string }).name ?? '' };
    if (v === null || typeof v !== 'object') return typeof v === 'bigint' ? String(v) : v;
    const j = (v as { toJSON?: () => unknown }).toJSON;
    if (typeof j === 'function') return walk(j.call(v), depth);
    if (depth >= MAX_DEPTH || seen.includes(v)) return Array.isArray(v) ? '[Array]' : '[Object]';
    seen.push(v);
    let out: unknown;
    if (Array.isArray(v)) out = v.map((x) => walk(x, depth + 1) ?? null);
    else {
      const o: Record<string, unknown> = {};
      for (const [k, x] of Object.entries(v)) {
        const w = walk(x, depth + 1);
        if (w !== undefined) o[k] = w;
      }
      out = o;
    }
    seen.pop();
    return out;
  };
  return walk(value, 0);
}

const definitions = new WeakMap<object, string>();

/** The machine config as the inspector draws it, computed once per machine. */
function definitionOf(actor: AnyActorRef): string | undefined {
  const logic = (actor as unknown as { logic?: { config?: unknown } }).logic;
  if (!logic) return undefined;
  let d = definitions.get(logic);
  if (d === undefined) {
    d = JSON.stringify(plain(typeof logic.config === 'object' && logic.config !== null ? logic.config : { id: actor.id }));
    definitions.set(logic, d);
  }
  return d;
}

const parentOf = (a: AnyActorRef): AnyActorRef | undefined => (a as unknown as { _parent?: AnyActorRef })._parent;

function rootOf(a: AnyActorRef): AnyActorRef {
  let r = a;
  for (let p = parentOf(r); p; p = parentOf(r)) r = p;
  return r;
}

/** The name the inspector lists: the system id (`pod/<ns>/<name>`, `node/<name>`), else the actor id. */
export function nameOf(a: AnyActorRef): string {
  const systemId = (a as unknown as { systemId?: string }).systemId;
  if (systemId) return systemId;
  const config = (a as unknown as { logic?: { config?: { id?: string } } }).logic?.config;
  return a.id === a.sessionId && config?.id ? config.id : a.id;
}

function base(type: InspectorMessage['type'], actor: AnyActorRef, now: number): InspectorMessage {
  return { type, sessionId: actor.sessionId, rootId: rootOf(actor).sessionId, _version: PROTOCOL_VERSION, createdAt: String(now), id: null };
}

/** The @xstate.actor message that introduces `actor`, with its current snapshot (also used to replay live actors). */
export function actorMessage(actor: AnyActorRef, now: number): InspectorMessage {
  const m = base('@xstate.actor', actor, now);
  m.name = nameOf(actor);
  m.definition = definitionOf(actor);
  const parent = parentOf(actor);
  if (parent) m.parentId = parent.sessionId;
  // An actor announced while it is being created has no snapshot yet.
  m.snapshot = plain(actor.getSnapshot() ?? { status: 'active' });
  return m;
}

/**
 * The inspector message for an inspection event (stamped `now`), or undefined for those it does
 * not draw (microsteps, actions).
 */
export function convert(e: InspectionEvent, now: number): InspectorMessage | undefined {
  switch (e.type) {
    case '@xstate.actor':
      return actorMessage(e.actorRef as AnyActorRef, now);
    case '@xstate.event': {
      const m = base('@xstate.event', e.actorRef as AnyActorRef, now);
      m.event = plain(e.event);
      if (e.sourceRef) m.sourceId = e.sourceRef.sessionId;
      return m;
    }
    case '@xstate.snapshot': {
      const m = base('@xstate.snapshot', e.actorRef as AnyActorRef, now);
      m.event = plain(e.event);
      m.snapshot = plain(e.snapshot);
      return m;
    }
    default:
      return undefined;
  }
}
