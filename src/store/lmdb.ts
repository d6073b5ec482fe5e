// The LMDB store: objects and the event log (keyed by revision), written together in one
// transaction per change. lmdb-js runs every transaction callback queued in one event turn in a
// single LMDB write transaction, so concurrent writers share a commit (group commit), and a write
// is acknowledged only once that commit has been flushed to disk.
//
// The callbacks run one after another while LMDB's write lock is held, so everything that does not
// depend on the stored state (a create's defaulting, admission, validation, uid and timestamps)
// runs before the transaction; inside it only the checks against stored objects and the writes.
import { randomBytes, randomUUID } from 'node:crypto';
import { asBinary, open, type Database, type RootDatabase } from 'lmdb';
import type { DeleteOptions, KubeObject } from '../api/model/types.ts';
import { apiVersionOf, resourceDef, type ResourceDef } from '../api/model/resources.ts';
import { invalidObject } from '../api/model/errors.ts';
import type { BindingRequest } from '../api/model/pod/binding.ts';
import { cloneJson, jsonEqual } from '../api/model/json-value.ts';
import { every, realClock, type Clock } from '../time/clock.ts';
import { keyRange, objectKey } from './keys.ts';
import { rfc3339 } from './time.ts';
import {
  StoreError, type DeleteResult, type EventType, type ListOptions, type ListResult, type Store,
  type StoreEvent, type Subresource, type UpdateOptions, type WatchListener, type WriteOptions,
} from './store.ts';

/**
 * One event-log record, keyed by revision. The objects are the objects table's encoding of them
 * (the bytes just written there, the bytes replaced), not encoded again; records written before
 * that hold the objects themselves.
 */
interface LogRecord {
  t: EventType;
  r: string;
  o: KubeObject | Uint8Array;
  p?: KubeObject | Uint8Array;
  /** Commit time (ms), for the time-based retention. */
  at: number;
}

/** The msgpack codec of the objects table (with its shared structures), which lmdb-js exposes untyped. */
interface Codec {
  encoder: { encode(value: unknown): Uint8Array };
  decoder: { decode(bytes: Uint8Array): unknown };
}

export interface LmdbStoreOptions {
  /** Directory of the LMDB environment. */
  path: string;
  /** Timestamps, retention and the compaction timer; tests pass a simulated one. */
  clock?: Clock;
  /** Events always kept, whatever their age (Kubernetes' watch cache keeps a similar window). */
  retainEvents?: number;
  /** Events younger than this are always kept. */
  retainMs?: number;
  /** How often compaction runs; 0 turns the timer off (tests call compact()). */
  compactEveryMs?: number;
}

/** What a planned write changes; computed inside the transaction before anything is written. */
interface Plan {
  type: EventType;
  resource: string;
  key: string;
  object: KubeObject;
  prev?: KubeObject;
  /** False when nothing changes (a no-op update): no revision, no event. */
  write: boolean;
  created?: boolean;
}

interface Inflight {
  rev: number;
  event?: StoreEvent;
  done: boolean;
}

const DEFAULT_RETAIN_EVENTS = 10_000;
const DEFAULT_RETAIN_MS = 5 * 60_000;
const COMPACT_BATCH = 20_000;
const LAST_WRITES_MAX = 200_000;

/** The embedded default store. */
export class LmdbStore implements Store {
  private readonly root: RootDatabase;
  private readonly objects: Database<KubeObject, string>;
  private readonly codec: Codec;
  private readonly log: Database<LogRecord, number>;
  private readonly meta: Database<number, string>;
  private readonly clock: Clock;
  private readonly retainEvents: number;
  private readonly retainMs: number;
  private readonly stopCompacting?: () => void;
  /** Last revision handed to a transaction. */
  private rev: number;
  /** Last revision whose event reached the watchers. */
  private published: number;
  /** Per resource: the newest revision compacted out of the log. */
  private readonly floors = new Map<string, number>();
  private compactedRev: number;
  private readonly inflight: Inflight[] = [];
  private readonly listeners = new Map<string, Set<WatchListener>>();
  /**
   * Per key, the revision of its last write since open (deletions too), for commitOnStored's
   * check; emptied when it grows past LAST_WRITES_MAX, which bumps the epoch.
   */
  private readonly lastWrites = new Map<string, number>();
  private lastWritesEpoch = 0;
  /** Namespace name → terminating, for the check every namespaced create makes; dropped on every namespace write. */
  private readonly namespaceStates = new Map<string, boolean>();
  private closed = false;

  constructor(opts: LmdbStoreOptions) {
    this.root = open({ path: opts.path, compression: false });
    // Shared structures: msgpackr records store each object shape once, not every key per value.
    this.objects = this.root.openDB<KubeObject, string>('objects', { encoding: 'msgpack', sharedStructuresKey: Symbol.for('structures') });
    this.codec = this.objects as unknown as Codec;
    this.log = this.root.openDB<LogRecord, number>('log', { encoding: 'msgpack', sharedStructuresKey: Symbol.for('structures') });
    this.meta = this.root.openDB<number, string>('meta', { encoding: 'msgpack' });
    this.clock = opts.clock ?? realClock;
    this.retainEvents = opts.retainEvents ?? DEFAULT_RETAIN_EVENTS;
    this.retainMs = opts.retainMs ?? DEFAULT_RETAIN_MS;
    // Every revision has its log record, so the newest record is the revision (one put less per
    // write); `meta.rev` covers a log compacted empty, and stores written before that.
    const newest = [...this.log.getKeys({ start: Number.MAX_SAFE_INTEGER, end: 0, reverse: true, limit: 1 })][0] ?? 0;
    this.rev = Math.max(this.meta.get('rev') ?? 0, newest);
    this.published = this.rev;
    this.compactedRev = this.meta.get('compacted') ?? 0;
    for (const { key, value } of this.meta.getRange({ start: 'floor:', end: 'floor:\xff' })) this.floors.set(key.slice(6), value);
    const period = opts.compactEveryMs ?? 30_000;
    if (period > 0) this.stopCompacting = every(this.clock, period, () => void this.compact().catch(() => {}));
  }

  /** The LMDB environment, for other tables that live beside the objects (IPAM). */
  get env(): RootDatabase {
    return this.root;
  }

  revision(): number {
    return this.published;
  }

  /** The oldest revision a continue token or watch may still refer to (any resource). */
  compactedRevision(): number {
    return this.compactedRev;
  }

  get(resource: string, namespace: string, name: string): KubeObject | undefined {
    return this.objects.get(objectKey(resource, namespace, name));
  }

  list(resource: string, opts: ListOptions = {}): ListResult {
    const range = keyRange(resource, opts.namespace);
    let start = range.start;
    let revision = this.published;
    if (opts.continue) {
      const token = decodeContinue(opts.continue);
      if (!token.start.startsWith(range.start)) throw new StoreError('Expired', resource, '', 'the continue token does not belong to this list');
      if (token.rv < this.compactedRev) throw new StoreError('Expired', resource, '', 'The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter.');
      start = token.start;
      revision = token.rv;
    }
    const limit = opts.limit && opts.limit > 0 ? opts.limit : Infinity;
    const items: KubeObject[] = [];
    let lastKey: string | undefined;
    let more = false;
    for (const { key, value } of this.objects.getRange({ start, end: range.end })) {
      if (opts.filter && !opts.filter(value)) continue;
      if (items.length >= limit) {
        more = true;
        break;
      }
      items.push(value);
      lastKey = key;
    }
    const result: ListResult = { items, revision };
    if (more && lastKey !== undefined) {
      const next = `${lastKey}\x00`;
      result.continue = encodeContinue({ rv: revision, start: next });
      if (!opts.filter) result.remainingItemCount = this.objects.getKeysCount({ start: next, end: range.end });
    }
    return result;
  }

  async create(resource: string, obj: KubeObject, opts: WriteOptions = {}): Promise<KubeObject> {
    const def = mustDef(resource);
    const fresh = this.prepareCreate(def, cloneJson(obj));
    const plan = await this.commit(() => this.planCreate(def, fresh), opts.dryRun);
    return plan.object;
  }

  async update(resource: string, namespace: string, name: string, mutate: (current: KubeObject | undefined) => KubeObject, opts: UpdateOptions = {}): Promise<{ object: KubeObject; created: boolean }> {
    const def = mustDef(resource);
    const key = objectKey(resource, def.namespaced ? namespace : '', name);
    const plan = await this.commitOnStored(key, (stored) => {
      if (!stored) {
        if (!opts.createIfMissing) throw new StoreError('NotFound', resource, name);
        const fresh = mutate(undefined);
        fresh.metadata = { ...fresh.metadata, name, ...(def.namespaced ? { namespace } : {}) };
        return this.planCreate(def, this.prepareCreate(def, fresh));
      }
      // A copy of what mutate returns: it may hand back the same object when asked again.
      const next = cloneJson(mutate(cloneJson(stored)));
      return this.planUpdate(def, key, stored, next, opts.subresource ?? 'main');
    }, opts.dryRun);
    return { object: plan.object, created: plan.created === true };
  }

  async bind(resource: string, namespace: string, name: string, binding: BindingRequest, opts: WriteOptions = {}): Promise<KubeObject> {
    const def = mustDef(resource);
    const bind = def.strategy.bind;
    if (!bind) throw new StoreError('BadRequest', resource, name, `${resource} cannot be bound`);
    const key = objectKey(resource, def.namespaced ? namespace : '', name);
    const now = rfc3339(this.clock.now());
    const plan = await this.commitOnStored(key, (stored) => {
      if (!stored) throw new StoreError('NotFound', resource, name);
      const next = cloneJson(stored);
      bind(next, binding, now);
      return this.planUpdate(def, key, stored, next, 'binding');
    }, opts.dryRun);
    return plan.object;
  }

  async delete(resource: string, namespace: string, name: string, opts: Omit<DeleteOptions, 'dryRun'> & WriteOptions = {}): Promise<DeleteResult> {
    const def = mustDef(resource);
    const key = objectKey(resource, def.namespaced ? namespace : '', name);
    const plan = await this.commit(() => {
      const stored = this.objects.get(key);
      if (!stored) throw new StoreError('NotFound', resource, name);
      checkPreconditions(resource, name, stored, opts.preconditions);
      const grace = def.strategy.gracePeriod?.(stored, opts) ?? 0;
      const finalizers = (stored.metadata.finalizers?.length ?? 0) + (def.strategy.finalizers?.(stored).length ?? 0);
      const terminating = stored.metadata.deletionTimestamp !== undefined;
      if ((grace > 0 || finalizers > 0) && !(terminating && grace === 0 && finalizers === 0)) {
        const next = cloneJson(stored);
        const deadline = this.clock.now() + grace * 1000;
        if (terminating) {
          // A second delete may only shorten the grace period.
          const current = Date.parse(stored.metadata.deletionTimestamp ?? '');
          if (!(deadline < current) || finalizers > 0) return { type: 'MODIFIED', resource, key, object: stored, write: false };
        } else {
          def.strategy.markDeleting?.(next);
          if (def.strategy.tracksGeneration) next.metadata.generation = (stored.metadata.generation ?? 1) + 1;
        }
        next.metadata.deletionTimestamp = rfc3339(deadline);
        next.metadata.deletionGracePeriodSeconds = grace;
        return { type: 'MODIFIED', resource, key, object: next, prev: stored, write: true };
      }
      return { type: 'DELETED', resource, key, object: stored, write: true };
    }, opts.dryRun);
    return { object: plan.object, removed: plan.type === 'DELETED' };
  }

  async finalize(resource: string, namespace: string, name: string, opts: { uid?: string } = {}): Promise<KubeObject> {
    const def = mustDef(resource);
    const key = objectKey(resource, def.namespaced ? namespace : '', name);
    const plan = await this.commit(() => {
      const stored = this.objects.get(key);
      if (!stored) throw new StoreError('NotFound', resource, name);
      checkPreconditions(resource, name, stored, { uid: opts.uid });
      return { type: 'DELETED', resource, key, object: stored, write: true };
    });
    return plan.object;
  }

  watch(resource: string, fromRev: number | undefined, listener: WatchListener): () => void {
    if (this.closed) throw new StoreError('Expired', resource, '', 'the store is closing');
    if (fromRev !== undefined) {
      const floor = this.floors.get(resource) ?? 0;
      if (fromRev < floor) throw new StoreError('Expired', resource, '', `too old resource version: ${fromRev} (${floor})`);
      // Replay and subscribe in one synchronous step: nothing can be published in between.
      for (const { key, value } of this.log.getRange({ start: fromRev + 1, end: this.published + 1 })) {
        if (value.r === resource) listener(this.logEvent(key, value));
      }
    }
    const after = fromRev ?? this.published;
    const wrapped: WatchListener = (e) => {
      if (e.rev > after) listener(e);
    };
    let set = this.listeners.get(resource);
    if (!set) this.listeners.set(resource, (set = new Set()));
    set.add(wrapped);
    return () => {
      set.delete(wrapped);
    };
  }

  /**
   * Drops log records that are both older than the time window and beyond the newest
   * `retainEvents`, and raises each resource's floor to its newest dropped revision.
   */
  async compact(): Promise<number> {
    const count = this.log.getKeysCount({ start: 0, end: Number.MAX_SAFE_INTEGER });
    if (count <= this.retainEvents) return 0;
    const cutoffTime = this.clock.now() - this.retainMs;
    let excess = Math.min(count - this.retainEvents, COMPACT_BATCH);
    const drop: number[] = [];
    const floors = new Map<string, number>();
    // Numeric keys only: the shared msgpack structures live in this table under a symbol key.
    for (const { key, value } of this.log.getRange({ start: 0, end: Number.MAX_SAFE_INTEGER })) {
      if (excess <= 0 || value.at >= cutoffTime) break;
      drop.push(key);
      floors.set(value.r, key);
      excess--;
    }
    if (drop.length === 0) return 0;
    const last = drop[drop.length - 1] ?? 0;
    await this.root.transaction(() => {
      for (const k of drop) this.log.remove(k);
      for (const [r, k] of floors) this.meta.put(`floor:${r}`, k);
      this.meta.put('compacted', last);
      // The log may now be empty: keep the revision where the next open finds it.
      this.meta.put('rev', this.rev);
    });
    for (const [r, k] of floors) this.floors.set(r, k);
    this.compactedRev = last;
    return drop.length;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.stopCompacting?.();
    this.listeners.clear();
    await this.root.flushed;
    await this.root.close();
  }

  /**
   * A write computed from the stored object, as Kubernetes' GuaranteedUpdate: `plan` runs first on
   * the committed object, outside the write lock; inside, the transaction only checks that the
   * object has not been written since (else it plans again on the current one). Patching,
   * defaulting and validation then stay out of the lock every concurrent writer waits on. An
   * absent object is always planned inside (a create needs the namespace check there).
   */
  private commitOnStored(key: string, plan: (stored: KubeObject | undefined) => Plan, dryRun?: boolean): Promise<Plan> {
    const epoch = this.lastWritesEpoch;
    const seen = this.objects.get(key);
    let early: { ok: true; plan: Plan } | { ok: false; error: unknown } | undefined;
    if (seen) {
      try {
        early = { ok: true, plan: plan(seen) };
      } catch (error) {
        early = { ok: false, error };
      }
    }
    return this.commit(() => {
      if (!early || this.writtenSince(key, seen, epoch)) return plan(this.objects.get(key));
      if (!early.ok) throw early.error;
      return early.plan;
    }, dryRun);
  }

  /** Whether `key` may have been written since `seen` was read from the committed state. */
  private writtenSince(key: string, seen: KubeObject | undefined, epoch: number): boolean {
    if (epoch !== this.lastWritesEpoch) return true;
    const last = this.lastWrites.get(key);
    // No write since open: what was read is what is stored.
    if (last === undefined) return false;
    return seen?.metadata.resourceVersion !== String(last);
  }

  /** Runs `plan` inside the write transaction and writes what it returns, with a new revision. */
  private async commit(plan: () => Plan, dryRun = false): Promise<Plan> {
    if (this.closed) throw new Error('store is closed');
    let planned: Plan | undefined;
    let failure: unknown;
    let entry: Inflight | undefined;
    const txn = this.root.transaction(() => {
      // Never throw out of a shared transaction: that would abort the other writers' work too.
      try {
        planned = plan();
      } catch (e) {
        failure = e;
        return;
      }
      if (!planned.write || dryRun) return;
      const rev = ++this.rev;
      const object = planned.object;
      object.metadata.resourceVersion = String(rev);
      // Each object is encoded once per write: the objects table and the log share the bytes,
      // and the replaced version's bytes are taken as stored.
      const prevBytes = planned.prev ? this.objects.getBinary(planned.key) : undefined;
      const bytes = this.codec.encoder.encode(object);
      if (planned.type === 'DELETED') this.objects.remove(planned.key);
      // Already encoded: lmdb-js stores asBinary values as they are.
      else this.objects.put(planned.key, asBinary(bytes) as unknown as KubeObject);
      if (planned.resource === 'namespaces') this.namespaceStates.clear();
      if (this.lastWrites.size >= LAST_WRITES_MAX) {
        this.lastWrites.clear();
        this.lastWritesEpoch++;
      }
      this.lastWrites.set(planned.key, rev);
      const record: LogRecord = { t: planned.type, r: planned.resource, o: bytes, at: this.clock.now() };
      if (prevBytes) record.p = prevBytes;
      this.log.put(rev, record);
      const event: StoreEvent = { type: planned.type, rev, resource: planned.resource, object, cache: new Map() };
      entry = { rev, done: false, event: planned.prev ? { ...event, prev: planned.prev } : event };
      this.inflight.push(entry);
    });
    // The flush of the commit this transaction joins, taken now: once `txn` settles, the root's
    // `flushed` names the flush of whatever commit is current then (a cycle later under load).
    const flushed = new Promise<void>((resolve, reject) => {
      this.root.flushed.then(() => resolve(), reject);
    });
    try {
      await txn;
      if (entry) await flushed;
    } catch (e) {
      if (entry) {
        entry.event = undefined;
        entry.done = true;
        this.drain();
      }
      this.namespaceStates.clear();
      throw e;
    }
    // A reader outside the transaction may have cached the state this commit replaced.
    if (planned?.resource === 'namespaces') this.namespaceStates.clear();
    if (failure !== undefined) throw failure;
    if (entry) {
      entry.done = true;
      this.drain();
    }
    if (!planned) throw new Error('transaction did not run');
    return planned;
  }

  /** Publishes finished commits strictly in revision order. */
  private drain(): void {
    while (this.inflight.length > 0 && this.inflight[0]?.done) {
      const head = this.inflight.shift() as Inflight;
      this.published = head.rev;
      if (head.event) this.publish(head.event);
    }
  }

  private publish(event: StoreEvent): void {
    const set = this.listeners.get(event.resource);
    if (!set) return;
    for (const l of set) {
      try {
        l(event);
      } catch (e) {
        // One broken watcher must not starve the others.
        console.error(`watch listener for ${event.resource} failed:`, e);
      }
    }
  }

  /**
   * A create's work that needs no stored state (run before the transaction): defaulting,
   * admission, validation and the server-set metadata. `obj` is the caller's copy.
   */
  private prepareCreate(def: ResourceDef, obj: KubeObject): KubeObject {
    const meta = (obj.metadata ??= {});
    if (def.namespaced) this.checkNamespace(def, meta.namespace ?? '');
    else delete meta.namespace;
    if (!meta.name && meta.generateName) meta.name = `${meta.generateName}${randomSuffix()}`;
    def.strategy.prepareForCreate(obj);
    def.strategy.admitCreate?.(obj, (resource, ns, n) => this.objects.get(objectKey(resource, ns, n)));
    const causes = def.strategy.validate(obj);
    if (causes.length > 0) throw invalidObject(def.resource, meta.name ?? '', causes);
    obj.apiVersion = apiVersionOf(def);
    obj.kind = def.kind;
    meta.uid = randomUUID();
    meta.creationTimestamp = rfc3339(this.clock.now());
    delete meta.deletionTimestamp;
    delete meta.deletionGracePeriodSeconds;
    delete meta.resourceVersion;
    if (def.strategy.tracksGeneration) meta.generation = 1;
    else delete meta.generation;
    return obj;
  }

  /** A prepared create against the stored state (inside the transaction). */
  private planCreate(def: ResourceDef, obj: KubeObject): Plan {
    const meta = obj.metadata;
    const namespace = def.namespaced ? (meta.namespace ?? '') : '';
    // Again inside: the namespace may have gone since prepareCreate looked.
    if (def.namespaced) this.checkNamespace(def, namespace);
    let key = objectKey(def.resource, namespace, meta.name as string);
    if (this.objects.doesExist(key)) {
      if (!meta.generateName) throw new StoreError('AlreadyExists', def.resource, meta.name as string);
      meta.name = this.generateName(def, namespace, meta.generateName);
      key = objectKey(def.resource, namespace, meta.name);
    }
    return { type: 'ADDED', resource: def.resource, key, object: obj, write: true, created: true };
  }

  /** An update of `sub` (or a binding the strategy has applied already) against the stored object. */
  private planUpdate(def: ResourceDef, key: string, stored: KubeObject, next: KubeObject, sub: Subresource | 'binding'): Plan {
    const name = stored.metadata.name as string;
    next.metadata ??= {};
    const rv = next.metadata.resourceVersion;
    if (rv !== undefined && rv !== '' && rv !== stored.metadata.resourceVersion) throw new StoreError('Conflict', def.resource, name);
    const uid = next.metadata.uid;
    if (uid !== undefined && uid !== '' && uid !== stored.metadata.uid) {
      throw new StoreError('Conflict', def.resource, name, `Precondition failed: UID in precondition: ${uid}, UID in object meta: ${stored.metadata.uid}`);
    }
    if (sub === 'main') def.strategy.prepareForUpdate(next, stored);
    else if (sub === 'status') def.strategy.prepareForStatusUpdate(next, stored);
    // Server-owned metadata is never a client's to change.
    const m = next.metadata;
    const s = stored.metadata;
    m.name = s.name;
    if (s.namespace !== undefined) m.namespace = s.namespace;
    else delete m.namespace;
    m.uid = s.uid;
    m.creationTimestamp = s.creationTimestamp;
    m.resourceVersion = s.resourceVersion;
    setOrDelete(m, 'deletionTimestamp', s.deletionTimestamp);
    setOrDelete(m, 'deletionGracePeriodSeconds', s.deletionGracePeriodSeconds);
    setOrDelete(m, 'generation', s.generation);
    next.apiVersion = apiVersionOf(def);
    next.kind = def.kind;
    const causes = def.strategy.validate(next);
    if (sub === 'main' && def.strategy.validateUpdate) causes.push(...def.strategy.validateUpdate(next, stored));
    if (causes.length > 0) throw invalidObject(def.resource, name, causes);
    if (def.strategy.tracksGeneration && !jsonEqual(next.spec, stored.spec)) m.generation = (s.generation ?? 0) + 1;
    if (jsonEqual(next, stored)) return { type: 'MODIFIED', resource: def.resource, key, object: stored, write: false };
    // An object kept only by finalizers goes once the last one is removed.
    if (m.deletionTimestamp && !(m.finalizers?.length) && !(def.strategy.finalizers?.(next).length) && !def.strategy.gracePeriod) {
      return { type: 'DELETED', resource: def.resource, key, object: next, write: true };
    }
    return { type: 'MODIFIED', resource: def.resource, key, object: next, prev: stored, write: true };
  }

  /** The event a log record replays. */
  private logEvent(rev: number, r: LogRecord): StoreEvent {
    const decode = (o: KubeObject | Uint8Array): KubeObject => (o instanceof Uint8Array ? (this.codec.decoder.decode(o) as KubeObject) : o);
    const e: StoreEvent = { type: r.t, rev, resource: r.r, object: decode(r.o), cache: new Map() };
    return r.p ? { ...e, prev: decode(r.p) } : e;
  }

  private checkNamespace(def: ResourceDef, namespace: string): void {
    let terminating = this.namespaceStates.get(namespace);
    if (terminating === undefined) {
      const ns = this.objects.get(objectKey('namespaces', '', namespace));
      if (!ns) throw new StoreError('NamespaceNotFound', def.resource, namespace);
      terminating = ns.metadata.deletionTimestamp !== undefined;
      this.namespaceStates.set(namespace, terminating);
    }
    if (terminating && !def.createsInTerminatingNamespace) throw new StoreError('NamespaceTerminating', def.resource, namespace);
  }

  private generateName(def: ResourceDef, namespace: string, prefix: string): string {
    for (let i = 0; i < 8; i++) {
      const candidate = `${prefix}${randomSuffix()}`;
      if (!this.objects.doesExist(objectKey(def.resource, namespace, candidate))) return candidate;
    }
    throw new StoreError('AlreadyExists', def.resource, prefix, 'could not generate a unique name');
  }
}

function mustDef(resource: string): ResourceDef {
  const def = resourceDef(resource);
  if (!def) throw new Error(`unknown resource ${resource}`);
  return def;
}

function checkPreconditions(resource: string, name: string, stored: KubeObject, pre?: { uid?: string; resourceVersion?: string }): void {
  if (pre?.uid && pre.uid !== stored.metadata.uid) {
    throw new StoreError('Conflict', resource, name, `Precondition failed: UID in precondition: ${pre.uid}, UID in object meta: ${stored.metadata.uid}`);
  }
  if (pre?.resourceVersion && pre.resourceVersion !== stored.metadata.resourceVersion) {
    throw new StoreError('Conflict', resource, name, `Precondition failed: ResourceVersion in precondition: ${pre.resourceVersion}, ResourceVersion in object meta: ${stored.metadata.resourceVersion}`);
  }
}

function setOrDelete<K extends string>(o: { [k in K]?: unknown }, k: K, v: unknown): void {
  if (v === undefined) delete o[k];
  else o[k] = v;
}


const ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';

/** Kubernetes' generateName suffix: five characters without vowels. */
function randomSuffix(): string {
  return [...randomBytes(5)].map((b) => ALPHABET[b % ALPHABET.length]).join('');
}

function encodeContinue(t: { rv: number; start: string }): string {
  return Buffer.from(JSON.stringify({ v: 1, rv: t.rv, start: t.start })).toString('base64url');
}

function decodeContinue(token: string): { rv: number; start: string } {
  try {
    const t = JSON.parse(Buffer.from(token, 'base64url').toString()) as { v?: number; rv?: unknown; start?: unknown };
    if (t.v === 1 && typeof t.rv === 'number' && typeof t.start === 'string') return { rv: t.rv, start: t.start };
  } catch {
    // fall through to the error below
  }
  throw new StoreError('BadRequest', '', '', 'continue key is not valid');
}
