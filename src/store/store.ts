// The Store seam: what the API server, the controllers and the in-process Client need from
// storage. LMDB (lmdb.ts) is the one implementation today; etcd would be the second. It speaks
// the model only: objects, revisions, typed StoreErrors — no HTTP, no backend types. Every write
// goes through the kind's strategy (src/api/model/strategy.ts) for the part of the object it addresses.
import type { DeleteOptions, KubeObject } from '../api/model/types.ts';
import type { BindingRequest } from '../api/model/pod/binding.ts';

export type EventType = 'ADDED' | 'MODIFIED' | 'DELETED';

/** One committed change. `object.metadata.resourceVersion` is `String(rev)`. */
export interface StoreEvent {
  readonly type: EventType;
  readonly rev: number;
  readonly resource: string;
  readonly object: KubeObject;
  /** The object before this change (MODIFIED only), so watchers can see selector transitions. */
  readonly prev?: KubeObject;
  /** Encodings cached per event, so fan-out serialises once per format, not once per watcher. */
  readonly cache: Map<string, string | Uint8Array>;
}

// Typed store errors live with the model, so per-kind strategies throw them too.
export { StoreError, type StoreErrorReason } from '../api/model/errors.ts';

export interface ListOptions {
  namespace?: string;
  limit?: number;
  /** Opaque token from a previous page. */
  continue?: string;
  /** Keep only objects this returns true for (selectors). */
  filter?: (obj: KubeObject) => boolean;
}

export interface ListResult {
  items: KubeObject[];
  revision: number;
  continue?: string;
  remainingItemCount?: number;
}

/** Which part of an object an update may write (the strategy keeps the rest from the stored object). */
export type Subresource = 'main' | 'status';

export interface WriteOptions {
  dryRun?: boolean;
}

export interface UpdateOptions extends WriteOptions {
  subresource?: Subresource;
  /** Create the object with the mutation of `undefined` when it does not exist (apply). */
  createIfMissing?: boolean;
}

export interface DeleteResult {
  /** The last state: the removed object, or the one now carrying deletionTimestamp. */
  object: KubeObject;
  removed: boolean;
}

export interface WatchListener {
  (event: StoreEvent): void;
}

export interface Store {
  /** The newest revision whose event has been published: a list or watch is consistent with it. */
  revision(): number;
  get(resource: string, namespace: string, name: string): KubeObject | undefined;
  list(resource: string, opts?: ListOptions): ListResult;
  create(resource: string, obj: KubeObject, opts?: WriteOptions): Promise<KubeObject>;
  /**
   * Read-modify-write in one transaction: `mutate` gets a copy of the stored object and returns
   * the next one. A next object carrying a resourceVersion other than the stored one is a
   * Conflict (optimistic concurrency).
   */
  update(resource: string, namespace: string, name: string, mutate: (current: KubeObject | undefined) => KubeObject, opts?: UpdateOptions): Promise<{ object: KubeObject; created: boolean }>;
  /** Binds the object through its kind's strategy (pods/binding); the stored object with the binding. */
  bind(resource: string, namespace: string, name: string, binding: BindingRequest, opts?: WriteOptions): Promise<KubeObject>;
  /** Graceful where the kind's strategy says so, else removal. */
  delete(resource: string, namespace: string, name: string, opts?: Omit<DeleteOptions, 'dryRun'> & WriteOptions): Promise<DeleteResult>;
  /**
   * Removes the object whatever its state (the node agent's last word on a pod, the namespace
   * controller's on an emptied namespace). Which kinds clients may finalize is the resource
   * definition's `finalizable`.
   */
  finalize(resource: string, namespace: string, name: string, opts?: { uid?: string }): Promise<KubeObject>;
  /**
   * Replays the events of `resource` after `fromRev` (none when undefined), then calls `listener`
   * for every new one until the returned function is called. Throws StoreError('Expired') when
   * events after fromRev have been compacted away.
   */
  watch(resource: string, fromRev: number | undefined, listener: WatchListener): () => void;
  close(): Promise<void>;
}
