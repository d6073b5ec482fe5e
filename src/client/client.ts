// The one Client interface the agent, the scheduler, the CLI and the tests use: they cannot tell
// an in-process API (local.ts) from a remote one (remote.ts).
import type { DeleteOptions, KubeObject } from '../api/model/types.ts';

export interface ListQuery {
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
  limit?: number;
  continue?: string;
}

export interface ListAnswer<T extends KubeObject = KubeObject> {
  items: T[];
  resourceVersion: string;
  continue?: string;
}

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED';

export interface ClientWatchEvent<T extends KubeObject = KubeObject> {
  type: WatchEventType;
  object: T;
}

export interface WatchQuery extends Omit<ListQuery, 'limit' | 'continue'> {
  /** Resume after this revision; undefined starts with ADDED events for the current state. */
  resourceVersion?: string;
  /** Pass BOOKMARKs (revisions with no event in scope) to `handlers.bookmark`, when the server sends them. */
  allowWatchBookmarks?: boolean;
}

export interface WatchHandlers<T extends KubeObject = KubeObject> {
  event(e: ClientWatchEvent<T>): void;
  /** Everything in scope up to this revision has been delivered: a resumed watch may start after it. */
  bookmark?(resourceVersion: string): void;
  /** The watch ended: `expired` means the revision is gone and the caller must relist. */
  closed(reason: { expired: boolean; message?: string }): void;
}

export interface Binding {
  nodeName: string;
  /** Preconditions: bind only the pod this decision was made for. */
  uid?: string;
  resourceVersion?: string;
}

/** Errors carry the Status code and reason, whichever implementation raised them. */
export class ClientError extends Error {
  constructor(
    readonly code: number,
    readonly reason: string,
    message: string,
  ) {
    super(message);
    this.name = 'ClientError';
  }
}

export interface Client {
  get<T extends KubeObject = KubeObject>(resource: string, namespace: string, name: string): Promise<T>;
  list<T extends KubeObject = KubeObject>(resource: string, q?: ListQuery): Promise<ListAnswer<T>>;
  create<T extends KubeObject = KubeObject>(resource: string, obj: T): Promise<T>;
  /** Replaces the object; its resourceVersion (if set) must be current. */
  update<T extends KubeObject = KubeObject>(resource: string, obj: T): Promise<T>;
  /** Replaces the status of the object; its resourceVersion (if set) must be current. */
  updateStatus<T extends KubeObject = KubeObject>(resource: string, obj: T): Promise<T>;
  /** A JSON merge patch of the object (or of its status). */
  patch<T extends KubeObject = KubeObject>(resource: string, namespace: string, name: string, patch: unknown, opts?: { status?: boolean }): Promise<T>;
  delete(resource: string, namespace: string, name: string, opts?: DeleteOptions): Promise<KubeObject>;
  bind(namespace: string, name: string, binding: Binding): Promise<void>;
  finalize(resource: string, namespace: string, name: string, opts?: { uid?: string }): Promise<void>;
  watch<T extends KubeObject = KubeObject>(resource: string, q: WatchQuery, handlers: WatchHandlers<T>): () => void;
  /**
   * Asks the API server to sign this node's API serving certificate (a PEM PKCS#10 request);
   * only clients that talk to a remote API server offer it.
   */
  requestServingCertificate?(node: string, csrPem: string): Promise<{ certificate: string; ca: string }>;
}
