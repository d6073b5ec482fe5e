// The in-process Client: calls the store directly (control plane components in the API server's
// own process), with the same errors and selector semantics as the HTTP API.
import { apiVersionOf, resourceDef } from '../api/model/resources.ts';
import { fieldsOf, matchesFields, matchesLabels, parseFieldSelector, parseLabelSelector, pinnedField } from '../api/model/selectors.ts';
import { mergePatch } from '../api/wire/patch.ts';
import type { DeleteOptions, KubeObject } from '../api/model/types.ts';
import { notFound } from '../api/model/status.ts';
import { toApiError } from '../api/wire/error-status.ts';
import { checkObject, pinIdentity } from '../api/model/check.ts';
import { cloneJson } from '../api/model/json-value.ts';
import type { EventType, Store } from '../store/store.ts';
import { hubOf, selectionKey } from '../store/hub.ts';
import { ClientError, type Binding, type Client, type ListAnswer, type ListQuery, type WatchHandlers, type WatchQuery } from './client.ts';

/** Runs `f`, turning API and store failures into ClientErrors. */
async function guard<T>(f: () => T | Promise<T>): Promise<T> {
  try {
    return await f();
  } catch (e) {
    const err = toApiError(e);
    throw new ClientError(err.code, err.reason, err.message);
  }
}

function filterOf(resource: string, q: { labelSelector?: string; fieldSelector?: string }): (o: KubeObject) => boolean {
  const ls = q.labelSelector ? parseLabelSelector(q.labelSelector) : undefined;
  const fs = q.fieldSelector ? parseFieldSelector(q.fieldSelector, resource) : undefined;
  return (o) => (!ls || matchesLabels(ls, o.metadata.labels)) && (!fs || matchesFields(fs, fieldsOf(resource, o)));
}

const kindOf = (resource: string): string => resourceDef(resource)?.kind ?? '';
const versionOf = (resource: string): string => {
  const def = resourceDef(resource);
  return def ? apiVersionOf(def) : 'v1';
};

const ns = (resource: string, obj: KubeObject): string => (resourceDef(resource)?.namespaced ? (obj.metadata.namespace ?? 'default') : '');

export class LocalClient implements Client {
  constructor(private readonly store: Store) {}

  get<T extends KubeObject>(resource: string, namespace: string, name: string): Promise<T> {
    return guard(() => {
      const obj = this.store.get(resource, namespace, name);
      if (!obj) throw notFound(resource, name, resourceDef(resource)?.group);
      return obj as T;
    });
  }

  list<T extends KubeObject>(resource: string, q: ListQuery = {}): Promise<ListAnswer<T>> {
    return guard(() => {
      const r = this.store.list(resource, { namespace: q.namespace, limit: q.limit, continue: q.continue, filter: filterOf(resource, q) });
      const answer: ListAnswer<T> = { items: r.items as T[], resourceVersion: String(r.revision) };
      if (r.continue) answer.continue = r.continue;
      return answer;
    });
  }

  create<T extends KubeObject>(resource: string, obj: T): Promise<T> {
    return guard(async () => {
      const body = checkObject(cloneJson(obj), kindOf(resource), versionOf(resource));
      if (resourceDef(resource)?.namespaced) body.metadata.namespace = ns(resource, body);
      return (await this.store.create(resource, body)) as T;
    });
  }

  update<T extends KubeObject>(resource: string, obj: T): Promise<T> {
    return this.replace(resource, obj, 'main');
  }

  updateStatus<T extends KubeObject>(resource: string, obj: T): Promise<T> {
    return this.replace(resource, obj, 'status');
  }

  patch<T extends KubeObject>(resource: string, namespace: string, name: string, patch: unknown, opts: { status?: boolean } = {}): Promise<T> {
    const namespaced = resourceDef(resource)?.namespaced;
    return guard(async () => (await this.store.update(resource, namespace, name, (cur) => {
      const next = checkObject(mergePatch(cur, patch), kindOf(resource), versionOf(resource));
      // As over HTTP: a patch cannot move or rename the object it addresses.
      pinIdentity(next, name, namespaced ? namespace : undefined);
      return next;
    }, { subresource: opts.status ? 'status' : 'main' })).object as T);
  }

  delete(resource: string, namespace: string, name: string, opts: DeleteOptions = {}): Promise<KubeObject> {
    const { dryRun, ...rest } = opts;
    return guard(async () => (await this.store.delete(resource, namespace, name, { ...rest, dryRun: dryRun?.includes('All') ?? false })).object);
  }

  private replace<T extends KubeObject>(resource: string, obj: T, subresource: 'main' | 'status'): Promise<T> {
    return guard(async () => {
      const body = checkObject(cloneJson(obj), kindOf(resource), versionOf(resource));
      return (await this.store.update(resource, ns(resource, body), body.metadata.name ?? '', () => body, { subresource })).object as T;
    });
  }

  bind(namespace: string, name: string, b: Binding): Promise<void> {
    return guard(async () => {
      await this.store.bind('pods', namespace, name, b);
    });
  }

  finalize(resource: string, namespace: string, name: string, opts: { uid?: string } = {}): Promise<void> {
    return guard(async () => {
      // Served where the resource definition says, as over HTTP.
      if (!resourceDef(resource)?.finalizable) throw notFound(resource, name);
      await this.store.finalize(resource, namespace, name, opts);
    });
  }

  watch<T extends KubeObject>(resource: string, q: WatchQuery, h: WatchHandlers<T>): () => void {
    try {
      const hub = hubOf(this.store);
      const nodeName = resource === 'pods' ? pinnedField(q.fieldSelector, 'pods', 'spec.nodeName') : undefined;
      const sel = { namespace: q.namespace, matches: filterOf(resource, q), ...(nodeName !== undefined ? { nodeName } : {}) };
      const key = selectionKey(q.namespace, q.labelSelector, q.fieldSelector);
      const initial: { type: EventType; object: KubeObject }[] = [];
      let listedAt: number | undefined;
      if (q.resourceVersion === undefined || q.resourceVersion === '0') {
        const snapshot = hub.snapshot(resource, sel);
        listedAt = snapshot.revision;
        for (const object of snapshot.items) initial.push({ type: 'ADDED', object });
      } else {
        hub.replay(resource, Number(q.resourceVersion), sel, (type, e) => initial.push({ type, object: e.object }));
      }
      // Joined in the same synchronous step as the snapshot or replay: no event falls in between.
      let stopped = false;
      const leave = hub.listen(resource, key, sel, (type, object) => h.event({ type, object: object as T }));
      for (const e of initial) {
        if (stopped) break;
        h.event(e as { type: EventType; object: T });
      }
      if (!stopped && listedAt !== undefined && q.allowWatchBookmarks) h.bookmark?.(String(listedAt));
      return () => {
        stopped = true;
        leave();
      };
    } catch (e) {
      const err = toApiError(e);
      queueMicrotask(() => h.closed({ expired: err.code === 410, message: err.message }));
      return () => {};
    }
  }
}
