// XState inspection events → the Stately inspector's messages (@statelyai/inspect 0.7 protocol:
// @xstate.actor, @xstate.event, @xstate.snapshot), synchronously and with one definition string
// per machine.
import type { AnyActorRef, InspectionEvent } from 'xstate';

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

const definitions = new WeakMap<object, string>();

/** The machine config as the inspector draws it: functions become `{type: name}`. */
function definitionOf(actor: AnyActorRef): string | undefined {
  const logic = (actor as unknown as { logic?: { config?: unknown } }).logic;
  if (!logic?.config) return undefined;
  let d = definitions.get(logic);
  if (d === undefined) {
    d = JSON.stringify(logic.config, (_k, v: unknown) => (typeof v === 'function' ? { type: (v as { name?: string }).name || 'anonymous' } : v));
    definitions.set(logic, d);
  }
  return d;
}

/** A snapshot reduced to what the inspector shows (no actor refs, no functions). */
function snapshotOf(actor: AnyActorRef): unknown {
  // An actor announced while it is being created has no snapshot yet.
  const s = (actor.getSnapshot() ?? { status: 'active' }) as { status?: string; value?: unknown; context?: unknown };
  return JSON.parse(JSON.stringify({ status: s.status, value: s.value, context: s.context ?? {}, children: {}, historyValue: {}, tags: [] }, (_k, v: unknown) => (typeof v === 'function' ? undefined : v)) ?? '{}');
}

const rootOf = (a: AnyActorRef): string => (a as unknown as { _parent?: AnyActorRef })._parent ? rootOf((a as unknown as { _parent: AnyActorRef })._parent) : a.sessionId;

function base(type: InspectorMessage['type'], actor: AnyActorRef): InspectorMessage {
  return { type, sessionId: actor.sessionId, rootId: rootOf(actor), _version: PROTOCOL_VERSION, createdAt: String(Date.now()), id: null };
}

/** The @xstate.actor message that introduces `actor` (also used to replay live actors). */
export function actorMessage(actor: AnyActorRef): InspectorMessage {
  const parent = (actor as unknown as { _parent?: AnyActorRef })._parent;
  const m = base('@xstate.actor', actor);
  m.name = (actor as unknown as { systemId?: string }).systemId ?? actor.id;
  if (parent) m.parentId = parent.sessionId;
  const definition = definitionOf(actor);
  if (definition) m.definition = definition;
  m.snapshot = snapshotOf(actor);
  return m;
}

/** The inspector message for an inspection event, or undefined for those it does not draw. */
export function convert(e: InspectionEvent): InspectorMessage | undefined {
  switch (e.type) {
    case '@xstate.actor':
      return actorMessage(e.actorRef as AnyActorRef);
    case '@xstate.event': {
      const m = base('@xstate.event', e.actorRef as AnyActorRef);
      m.event = JSON.parse(JSON.stringify(e.event, (_k, v: unknown) => (typeof v === 'function' ? undefined : v)) ?? '{}');
      if (e.sourceRef) m.sourceId = e.sourceRef.sessionId;
      return m;
    }
    case '@xstate.snapshot': {
      const m = base('@xstate.snapshot', e.actorRef as AnyActorRef);
      m.event = { type: e.event.type };
      m.snapshot = snapshotOf(e.actorRef as AnyActorRef);
      return m;
    }
    default:
      return undefined;
  }
}
