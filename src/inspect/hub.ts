// Live inspection of the actor systems (control plane, node agents) for Stately inspector pages.
// Observers are attached only while a page is connected, so with none inspection costs nothing.
// A new page first gets every live actor it asked for, then live events; a page that falls
// behind is dropped instead of slowing the actors.
import type { AnyActorRef, InspectionEvent, Subscription } from 'xstate';
import type { Sink } from '../server/http.ts';
import { actorMessage, convert, nameOf, type InspectorMessage } from './convert.ts';
import { realClock, type Clock } from '../time/clock.ts';

interface SystemLike {
  getAll(): Record<string, AnyActorRef>;
  inspect(observer: (e: InspectionEvent) => void): Subscription;
}

export interface InspectFilter {
  /** `pod/<ns>/<name>` or `node/<name>`: only that actor and the actors it runs (and the roots, for the tree). */
  actor?: string;
  /** Only that node's actor and the pods its agent hosts. */
  node?: string;
}

interface Source {
  name: string;
  /** The node whose pods this system hosts (agents), if any. */
  node?: string;
  root: AnyActorRef;
  system: SystemLike;
  subscription?: Subscription;
}

interface Client {
  filter: InspectFilter;
  sink: Sink;
}

/** Bytes a page may have pending before it is dropped. */
const MAX_PENDING_BYTES = 8 * 1024 * 1024;

export class InspectHub {
  private readonly sources: Source[] = [];
  private readonly clients = new Set<Client>();

  /** `clock` stamps the messages' createdAt. */
  constructor(private readonly clock: Clock = realClock) {}

  /** Makes an actor system visible (its root actor); `node` names an agent's node. */
  register(name: string, root: AnyActorRef, node?: string): () => void {
    const source: Source = { name, root, node, system: root.system as unknown as SystemLike };
    this.sources.push(source);
    if (this.clients.size > 0) this.attach(source);
    return () => {
      source.subscription?.unsubscribe();
      this.sources.splice(this.sources.indexOf(source), 1);
    };
  }

  /** Whether any page is watching (tests and benches check that idle costs nothing). */
  get observing(): boolean {
    return this.sources.some((s) => s.subscription !== undefined);
  }

  /** Streams inspection messages to a page until it goes away. */
  connect(filter: InspectFilter, sink: Sink): void {
    const client: Client = { filter, sink };
    // Replay: every live actor the page asked for, parents before children (a walk of the tree,
    // so actors without a system id, such as invoked promises, are there too).
    for (const source of this.sources) {
      for (const a of liveActors(source.root)) if (this.wants(filter, source, a)) sink.write(JSON.stringify(this.named(source, a, actorMessage(a, this.clock.now()))));
    }
    this.clients.add(client);
    if (this.clients.size === 1) for (const s of this.sources) this.attach(s);
    sink.onClose(() => {
      this.clients.delete(client);
      if (this.clients.size === 0) {
        for (const s of this.sources) {
          s.subscription?.unsubscribe();
          s.subscription = undefined;
        }
      }
    });
  }

  private attach(source: Source): void {
    source.subscription = source.system.inspect((e) => {
      // Inspection runs inside the actors' transitions: it must never throw into them.
      try {
        const m = convert(e, this.clock.now());
        if (m) this.fanOut(source, e.actorRef as AnyActorRef, this.named(source, e.actorRef as AnyActorRef, m));
      } catch (err) {
        console.error('inspection message dropped:', err);
      }
    });
  }

  private fanOut(source: Source, actor: AnyActorRef, m: InspectorMessage): void {
    let text: string | undefined;
    for (const c of this.clients) {
      if (!this.wants(c.filter, source, actor)) continue;
      if (c.sink.buffered() > MAX_PENDING_BYTES) {
        this.clients.delete(c);
        c.sink.end();
        continue;
      }
      c.sink.write((text ??= JSON.stringify(m)));
    }
  }

  /** Both systems' roots are `cluster`: the inspector lists them by source (`control-plane`, `agent/<node>`). */
  private named(source: Source, actor: AnyActorRef, m: InspectorMessage): InspectorMessage {
    if (m.type === '@xstate.actor' && actor === source.root) m.name = source.name;
    return m;
  }

  private wants(filter: InspectFilter, source: Source, actor: AnyActorRef): boolean {
    if (actor === source.root) return true;
    if (filter.actor === undefined && filter.node === undefined) return true;
    // An actor is wanted when it, or an actor above it, matches (a pod's invoked actors come with it).
    for (let a: AnyActorRef | undefined = actor; a && a !== source.root; a = parentOf(a)) {
      const id = nameOf(a);
      if (filter.actor !== undefined && id === filter.actor) return true;
      // An agent's pods and the shards holding them (machines/pod-shard.ts: `pods/<n>`).
      if (filter.node !== undefined && (id === `node/${filter.node}` || (source.node === filter.node && (id.startsWith('pod/') || id.startsWith('pods/'))))) return true;
    }
    return false;
  }
}

const parentOf = (a: AnyActorRef): AnyActorRef | undefined => (a as unknown as { _parent?: AnyActorRef })._parent;

/** Every live actor under `root` (root first, parents before children). */
function liveActors(root: AnyActorRef): AnyActorRef[] {
  const out: AnyActorRef[] = [];
  const walk = (a: AnyActorRef): void => {
    out.push(a);
    const snapshot = a.getSnapshot() as { children?: Record<string, AnyActorRef | undefined> } | undefined;
    for (const child of Object.values(snapshot?.children ?? {})) if (child) walk(child);
  };
  if ((root.getSnapshot() as { status?: string } | undefined)?.status === 'active') walk(root);
  return out;
}
