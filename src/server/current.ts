// The current version of every object of a resource, kept up to date through the watch hub, so
// an unfiltered LIST is a walk over sorted keys and a concatenation of cached JSON: no store read,
// no decode, no serialisation. It holds exactly the state of the published revision (the hub
// applies each event as the store publishes it). Resources larger than the bound are not kept:
// their lists read the store.
import type { KubeObject } from '../api/model/types.ts';
import { hubOf, selectionKey } from '../store/hub.ts';
import { keyRange, objectKey } from '../store/keys.ts';
import type { Store } from '../store/store.ts';
import { listOf, type EncodedObjects } from './encoded.ts';

const DEFAULT_MAX_OBJECTS = 20_000;

interface View {
  readonly objects: Map<string, KubeObject>;
  /** The keys in store order; rebuilt after objects come or go. */
  sorted?: string[];
  /** Bumped by every event: the joined lists below are of this version. */
  version: number;
  /** Per namespace ('' for all): the items' JSON joined with commas, and the last list document, as last listed. */
  readonly joined: Map<string, { version: number; bytes: Buffer; body?: { revision: number; bytes: Buffer } }>;
  stop: () => void;
}

const COMMA = Buffer.from(',');

export class CurrentObjects {
  private readonly views = new Map<string, View | 'too large'>();

  constructor(
    private readonly store: Store,
    private readonly encoded: EncodedObjects,
    private readonly maxObjects = DEFAULT_MAX_OBJECTS,
  ) {}

  /**
   * The JSON of the objects of `resource` (in `namespace`) in store order, joined with commas (the
   * inside of a list's `items` array), and the revision they are at; undefined: read the store.
   */
  list(resource: string, namespace?: string): { items: Buffer; revision: number } | undefined {
    const view = this.view(resource);
    if (!view) return undefined;
    const revision = this.store.revision();
    const hit = view.joined.get(namespace ?? '');
    if (hit?.version === view.version) return { items: hit.bytes, revision };
    const parts: Buffer[] = [];
    for (const key of this.keys(view, resource, namespace)) {
      if (parts.length > 0) parts.push(COMMA);
      parts.push(this.encoded.json(view.objects.get(key) as KubeObject));
    }
    const bytes = Buffer.concat(parts);
    view.joined.set(namespace ?? '', { version: view.version, bytes });
    return { items: bytes, revision };
  }

  /** The objects of `resource` (in `namespace`) in store order, and their revision; undefined: read the store. */
  objects(resource: string, namespace?: string): { items: KubeObject[]; revision: number } | undefined {
    const view = this.view(resource);
    if (!view) return undefined;
    const items: KubeObject[] = [];
    for (const key of this.keys(view, resource, namespace)) items.push(view.objects.get(key) as KubeObject);
    return { items, revision: this.store.revision() };
  }

  /** The whole list document (`kind` is the list kind); the same bytes while nothing changes. */
  document(resource: string, namespace: string | undefined, apiVersion: string, kind: string): Buffer | undefined {
    const list = this.list(resource, namespace);
    if (!list) return undefined;
    const entry = this.views.get(resource);
    const cached = entry === 'too large' ? undefined : entry?.joined.get(namespace ?? '');
    if (cached?.body?.revision === list.revision) return cached.body.bytes;
    const bytes = listOf({ apiVersion, kind, metadata: { resourceVersion: String(list.revision) } }, list.items);
    if (cached) cached.body = { revision: list.revision, bytes };
    return bytes;
  }

  /** Stops following the store. */
  close(): void {
    for (const v of this.views.values()) if (v !== 'too large') v.stop();
    this.views.clear();
  }

  /** The keys of `namespace` (all when undefined), in store order. */
  private *keys(view: View, resource: string, namespace?: string): Iterable<string> {
    const sorted = (view.sorted ??= [...view.objects.keys()].sort());
    const { start, end } = keyRange(resource, namespace);
    for (let i = lowerBound(sorted, start); i < sorted.length; i++) {
      const key = sorted[i] as string;
      if (key >= end) return;
      yield key;
    }
  }

  private view(resource: string): View | undefined {
    const known = this.views.get(resource);
    if (known !== undefined) return known === 'too large' ? undefined : known;
    const keyOf = (o: KubeObject): string => objectKey(resource, o.metadata.namespace ?? '', o.metadata.name ?? '');
    const objects = new Map<string, KubeObject>();
    const view: View = { objects, version: 0, joined: new Map(), stop: () => {} };
    const tooLarge = (): void => {
      view.stop();
      this.views.set(resource, 'too large');
    };
    // The listen and the list are one synchronous step: nothing is published in between.
    view.stop = hubOf(this.store).listen(resource, selectionKey(), {}, (type, obj) => {
      const key = keyOf(obj);
      view.version++;
      if (type === 'DELETED') {
        if (objects.delete(key)) view.sorted = undefined;
        return;
      }
      if (!objects.has(key)) view.sorted = undefined;
      objects.set(key, obj);
      if (objects.size > this.maxObjects) tooLarge();
    });
    const all = this.store.list(resource).items;
    if (all.length > this.maxObjects) {
      tooLarge();
      return undefined;
    }
    for (const o of all) objects.set(keyOf(o), o);
    this.views.set(resource, view);
    return view;
  }
}

/** The first index whose key is >= `key`. */
function lowerBound(sorted: readonly string[], key: string): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if ((sorted[mid] as string) < key) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
