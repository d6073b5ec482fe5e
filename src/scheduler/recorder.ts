// core/v1 Events about pods, as Kubernetes' event recorder writes them: a repeated event (same
// pod, reason and message) bumps `count` and `lastTimestamp` of the existing Event instead of
// adding one per retry. Writes for one pod are serialised so counts never race.
import type { CoreEvent, Pod } from '../api/types.ts';
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

/** Writes Events about pods through the Client. */
export class EventRecorder {
  private readonly last = new Map<string, Last>();
  private readonly chains = new Map<string, Promise<void>>();
  private seq = 0;

  constructor(
    private readonly client: Client,
    private readonly clock: Clock,
    private readonly opts: RecorderOptions,
  ) {}

  /** Records an event about `pod`; resolves once written (failures are logged, never thrown). */
  record(pod: Pod, type: 'Normal' | 'Warning', reason: string, message: string): Promise<void> {
    return this.chain(podKey(pod.metadata.namespace ?? '', pod.metadata.name ?? ''), () => this.write(pod, type, reason, message));
  }

  /** Drops what is remembered about a pod (it was bound or deleted). */
  forget(key: string): Promise<void> {
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
    for (let attempt = 0; ; attempt++) {
      const name = this.eventName(podName);
      const event: CoreEvent = {
        apiVersion: 'v1',
        kind: 'Event',
        metadata: { name, namespace },
        involvedObject: { kind: 'Pod', namespace, name: podName, uid, apiVersion: 'v1', resourceVersion: pod.metadata.resourceVersion ?? '' },
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
      } catch (e) {
        if (isAlreadyExists(e) && attempt < 3) continue;
        throw e;
      }
      this.last.set(key, { uid, reason, message, name, count: 1 });
      return;
    }
  }

  private eventName(podName: string): string {
    const hex = (BigInt(Math.max(0, Math.floor(this.clock.now()))) * 1_000_000n + BigInt(this.seq++ % 1_000_000)).toString(16);
    return `${podName.slice(0, MAX_NAME - hex.length - 1).replace(/[.-]+$/, '')}.${hex}`;
  }
}
