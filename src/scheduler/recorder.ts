// core/v1 Events about pods, as Kubernetes' event recorder writes them: a repeated event (same
// pod, reason and message) bumps `count` and `lastTimestamp` of the existing Event instead of
// adding one per retry. Writes for one pod are serialised so counts never race. One-off events
// (Scheduled) skip that bookkeeping and queue behind a bounded backlog written a few at a time,
// so they never hold up binds; when the backlog is full they are dropped and counted, as
// client-go's broadcaster drops events beyond its 1,000-event queue.
import type { CoreEvent, Pod } from '../api/model/types.ts';
import type { Client } from '../client/client.ts';
import { rfc3339 } from '../store/time.ts';
import type { Clock } from '../time/clock.ts';
import { isAlreadyExists, isNotFound } from './errors.ts';
import { podKey } from './facts.ts';

/** Who the Events say reported them. */
export interface RecorderOptions {
  /** source.component and reportingComponent. */
  component: string;
  /** reportingInstance, e.g. `default-scheduler-<host>`. */
  instance: string;
  log: (m: string) => void;
}

interface Last {
  uid: string;
  reason: string;
  message: string;
  name: string;
  count: number;
}

// A Kubernetes event name is `<object>.<hex time>`; the object part is cut so the whole stays a
// valid DNS-1123 subdomain (253 characters) even for the longest pod names.
const MAX_NAME = 253;

/** Bounds of the one-off events' backlog. */
export interface PostLimits {
  /** Writes in flight at once. */
  inflight: number;
  /** Events waiting to be written; more are dropped. */
  queued: number;
}

export const DEFAULT_POST_LIMITS: PostLimits = { inflight: 128, queued: 1000 };

interface Posted {
  pod: Pod;
  type: 'Normal' | 'Warning';
  reason: string;
  message: string;
  done: () => void;
}

/** Writes Events about pods through the Client. */
export class EventRecorder {
  private readonly last = new Map<string, Last>();
  private readonly chains = new Map<string, Promise<void>>();
  private seq = 0;
  private readonly backlog: Posted[] = [];
  private backlogHead = 0;
  private posting = 0;
  /** One-off events dropped because the backlog was full. */
  dropped = 0;

  constructor(
    private readonly client: Client,
    private readonly clock: Clock,
    private readonly opts: RecorderOptions,
    private readonly limits: PostLimits = DEFAULT_POST_LIMITS,
  ) {}

  /**
   * Queues an event that never repeats for this pod (no aggregation); resolves once it is written,
   * or at once when the backlog is full and it is dropped. Failures are logged, never thrown.
   */
  post(pod: Pod, type: 'Normal' | 'Warning', reason: string, message: string): Promise<void> {
    if (this.backlog.length - this.backlogHead >= this.limits.queued) {
      if (this.dropped++ === 0) this.opts.log(`scheduler: more than ${this.limits.queued} events waiting to be written; dropping events until the backlog shrinks`);
      return Promise.resolve();
    }
    return new Promise<void>((done) => {
      this.backlog.push({ pod, type, reason, message, done });
      this.pump();
    });
  }

  private pump(): void {
    while (this.posting < this.limits.inflight && this.backlogHead < this.backlog.length) {
      const e = this.backlog[this.backlogHead++] as Posted;
      if (this.backlogHead === this.backlog.length) {
        this.backlog.length = 0;
        this.backlogHead = 0;
      }
      this.posting++;
      this.create(e.pod, e.type, e.reason, e.message)
        .catch((err: unknown) => this.opts.log(`scheduler: event for pod ${e.pod.metadata.namespace}/${e.pod.metadata.name} not written: ${(err as Error).message}`))
        .finally(() => {
          this.posting--;
          e.done();
          this.pump();
        });
    }
  }

  /** Records an event about `pod`; resolves once written (failures are logged, never thrown). */
  record(pod: Pod, type: 'Normal' | 'Warning', reason: string, message: string): Promise<void> {
    return this.chain(podKey(pod.metadata.namespace ?? '', pod.metadata.name ?? ''), () => this.write(pod, type, reason, message));
  }

  /** Drops what is remembered about a pod (it was bound or deleted). */
  forget(key: string): Promise<void> {
    if (!this.last.has(key) && !this.chains.has(key)) return Promise.resolve();
    return this.chain(key, async () => {
      this.last.delete(key);
    });
  }

  /** How many pods have an event remembered for aggregation. */
  get remembered(): number {
    return this.last.size;
  }

  private chain(key: string, step: () => Promise<void>): Promise<void> {
    const next = (this.chains.get(key) ?? Promise.resolve()).then(step).catch((e: unknown) => {
      this.opts.log(`scheduler: event for pod ${key} not written: ${(e as Error).message}`);
    });
    this.chains.set(key, next);
    void next.then(() => {
      if (this.chains.get(key) === next) this.chains.delete(key);
    });
    return next;
  }

  private async write(pod: Pod, type: 'Normal' | 'Warning', reason: string, message: string): Promise<void> {
    const namespace = pod.metadata.namespace ?? '';
    const podName = pod.metadata.name ?? '';
    const key = podKey(namespace, podName);
    const uid = pod.metadata.uid ?? '';
    const now = rfc3339(this.clock.now());
    const last = this.last.get(key);
    if (last && last.uid === uid && last.reason === reason && last.message === message) {
      try {
        await this.client.patch('events', namespace, last.name, { count: last.count + 1, lastTimestamp: now });
        last.count++;
        return;
      } catch (e) {
        // Someone deleted the Event (or it aged out): start a new one.
        if (!isNotFound(e)) throw e;
      }
    }
    const name = await this.create(pod, type, reason, message);
    this.last.set(key, { uid, reason, message, name, count: 1 });
  }

  /** Creates a new Event (a fresh name on a clash); resolves to its name. */
  private async create(pod: Pod, type: 'Normal' | 'Warning', reason: string, message: string): Promise<string> {
    const namespace = pod.metadata.namespace ?? '';
    const podName = pod.metadata.name ?? '';
    const now = rfc3339(this.clock.now());
    for (let attempt = 0; ; attempt++) {
      const name = this.eventName(podName);
      const event: CoreEvent = {
        apiVersion: 'v1',
        kind: 'Event',
        metadata: { name, namespace },
        involvedObject: { kind: 'Pod', namespace, name: podName, uid: pod.metadata.uid ?? '', apiVersion: 'v1', resourceVersion: pod.metadata.resourceVersion ?? '' },
        reason,
        message,
        type,
        source: { component: this.opts.component },
        firstTimestamp: now,
        lastTimestamp: now,
        count: 1,
        reportingComponent: this.opts.component,
        reportingInstance: this.opts.instance,
      };
      try {
        await this.client.create('events', event);
        return name;
      } catch (e) {
        if (isAlreadyExists(e) && attempt < 3) continue;
        throw e;
      }
    }
  }

  private eventName(podName: string): string {
    const hex = (BigInt(Math.max(0, Math.floor(this.clock.now()))) * 1_000_000n + BigInt(this.seq++ % 1_000_000)).toString(16);
    return `${podName.slice(0, MAX_NAME - hex.length - 1).replace(/[.-]+$/, '')}.${hex}`;
  }
}
