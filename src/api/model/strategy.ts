// Per-kind policy, kept pure: the store's one mutation path calls these hooks (the Kubernetes
// registry's generic store + per-resource strategy split). Every write reaches the store through
// one of them — main, status or binding — so no caller writes what its subresource may not.
// Hooks refuse with a StoreError (src/api/model/errors.ts), never with an HTTP status.
import type { DeleteOptions, KubeObject } from './types.ts';
import type { StatusCause } from './status.ts';
import type { BindingRequest } from './pod/binding.ts';

/** A read of one stored object inside the write's transaction (namespace '' for cluster-scoped kinds). */
export type ReadObject = (resource: string, namespace: string, name: string) => KubeObject | undefined;

export interface Strategy<T extends KubeObject = KubeObject> {
  /** Clears or defaults what a client may not set on create (status for most kinds). */
  prepareForCreate(obj: T): void;
  /** Keeps what a main-resource write may not change (status) from the stored object. */
  prepareForUpdate(next: T, prev: T): void;
  /** Keeps what a status write may not change (spec, most metadata) from the stored object. */
  prepareForStatusUpdate(next: T, prev: T): void;
  /**
   * Admission on create that reads other objects (a pod's RuntimeClass); it may fill in fields or
   * refuse with StoreError('Forbidden') as kube-apiserver's admission plugins do. Runs after
   * prepareForCreate, before validate.
   */
  admitCreate?(obj: T, read: ReadObject): void;
  /**
   * The binding subresource: checks `binding` against the stored object (preconditions, not
   * terminating, not bound yet: a Conflict otherwise) and assigns it, in place. `now` is the
   * RFC 3339 time of the write. Absent: the kind cannot be bound.
   */
  bind?(obj: T, binding: BindingRequest, now: string): void;
  /** Field errors of a whole object (create and update). */
  validate(obj: T): StatusCause[];
  /** Field errors that only exist on update (immutable fields). */
  validateUpdate?(next: T, prev: T): StatusCause[];
  /**
   * Seconds of grace for a delete: 0 removes at once, more sets deletionTimestamp and keeps the
   * object until it is finalized. Absent: the kind is always removed at once.
   */
  gracePeriod?(obj: T, opts: Pick<DeleteOptions, 'gracePeriodSeconds'>): number;
  /** Finalizers the kind keeps outside metadata.finalizers (a namespace's spec.finalizers). */
  finalizers?(obj: T): string[];
  /** Marks what a graceful delete changes besides deletionTimestamp (a namespace's phase). */
  markDeleting?(obj: T): void;
  /** Whether spec changes bump metadata.generation (true for every kind with a spec). */
  tracksGeneration: boolean;
}

/** Keeps status from the stored object: the main resource cannot write it. */
export function keepStatus(next: KubeObject, prev: KubeObject): void {
  if (prev.status === undefined) delete next.status;
  else next.status = prev.status;
}

/** Keeps everything but status (and labels/annotations, which status writers may touch). */
export function keepAllButStatus(next: KubeObject, prev: KubeObject): void {
  const status = next.status;
  for (const k of Object.keys(next)) delete next[k];
  Object.assign(next, structuredClone(prev));
  if (status === undefined) delete next.status;
  else next.status = status;
}
