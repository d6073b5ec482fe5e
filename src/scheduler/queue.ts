// The scheduling queue: pods waiting for a decision (active, first in first out) and pods that fit
// nowhere, waiting out a backoff (1 s doubling to 60 s) or a cluster change, whichever comes first.
// One timer for the earliest deadline, on an injected clock, however many pods wait.
import type { Clock } from '../time/clock.ts';

/** The first backoff and its cap, in ms. */
export interface BackoffOptions {
  initialMs: number;
  maxMs: number;
}

/** Kubernetes' podInitialBackoffSeconds and podMaxBackoffSeconds defaults are 1 and 10; the issue asks for 60. */
export const DEFAULT_BACKOFF: BackoffOptions = { initialMs: 1000, maxMs: 60_000 };

type State = 'active' | 'backoff' | 'popped';

interface Entry {
  state: State;
  /** Failed attempts so far: the next backoff is initial × 2^(attempts−1). */
  attempts: number;
  due: number;
  /** Identifies the entry's current heap item; older items for the key are stale. */
  seq: number;
}

interface Due {
  due: number;
  seq: number;
  key: string;
}

/** Keys of pods to schedule; the scheduler pops one, decides, then removes, backs off or requeues it. */
export class SchedulingQueue {
  private readonly entries = new Map<string, Entry>();
  /** The keys in backoff, so a flush costs what waits, not what is queued. */
  private readonly waiting = new Set<string>();
  private active: string[] = [];
  private head = 0;
  private readonly heap: Due[] = [];
  private seq = 0;
  private timer: unknown;
  private timerDue = Infinity;
  private stopped = false;

  constructor(
    private readonly clock: Clock,
    /** Called (synchronously) when pods become active. */
    private readonly onActive: () => void,
    private readonly backoffOptions: BackoffOptions = DEFAULT_BACKOFF,
  ) {}

  /** Queues a new pod for scheduling; a pod already queued keeps its place and backoff. */
  add(key: string): void {
    if (this.entries.has(key)) return;
    this.entries.set(key, { state: 'active', attempts: 0, due: 0, seq: 0 });
    this.push(key);
  }

  /** Makes a pod active now, whatever its state, keeping its attempt count (a race to retry at once). */
  requeue(key: string): void {
    const e = this.entries.get(key);
    if (!e) return this.add(key);
    if (e.state === 'active') return;
    e.state = 'active';
    this.waiting.delete(key);
    this.push(key);
  }

  /** Ends the backoff of one waiting pod (it changed in a way that may make it fit). */
  activate(key: string): void {
    const e = this.entries.get(key);
    if (e?.state !== 'backoff') return;
    e.state = 'active';
    this.waiting.delete(key);
    this.push(key);
  }

  /** Records a failed attempt and parks the pod for its backoff; returns the delay in ms. */
  backoff(key: string): number {
    let e = this.entries.get(key);
    if (!e) this.entries.set(key, (e = { state: 'backoff', attempts: 0, due: 0, seq: 0 }));
    e.attempts++;
    const { initialMs, maxMs } = this.backoffOptions;
    const delay = Math.min(maxMs, initialMs * 2 ** Math.min(e.attempts - 1, 30));
    e.state = 'backoff';
    this.waiting.add(key);
    e.due = this.clock.now() + delay;
    e.seq = ++this.seq;
    heapPush(this.heap, { due: e.due, seq: e.seq, key });
    this.arm();
    return delay;
  }

  /** Forgets a pod (bound, deleted, no longer ours). */
  remove(key: string): void {
    this.entries.delete(key);
    this.waiting.delete(key);
  }

  /** Every waiting pod becomes active (a node was added or changed, capacity was freed). */
  flush(): number {
    const moved = this.waiting.size;
    for (const key of this.waiting) {
      (this.entries.get(key) as Entry).state = 'active';
      this.push(key, false);
    }
    this.waiting.clear();
    if (moved > 0) this.onActive();
    return moved;
  }

  /** The next active pod, now owned by the caller; undefined when none is active. */
  pop(): string | undefined {
    while (this.head < this.active.length) {
      const key = this.active[this.head++] as string;
      const e = this.entries.get(key);
      if (e?.state !== 'active') continue;
      e.state = 'popped';
      this.compact();
      return key;
    }
    return undefined;
  }

  /** Whether the pod is queued in any state. */
  has(key: string): boolean {
    return this.entries.has(key);
  }

  /** Failed attempts of a queued pod. */
  attempts(key: string): number {
    return this.entries.get(key)?.attempts ?? 0;
  }

  /** How many pods are in each state. */
  counts(): Record<State, number> {
    const c: Record<State, number> = { active: 0, backoff: 0, popped: 0 };
    for (const e of this.entries.values()) c[e.state]++;
    return c;
  }

  /** Whether a pop would return a pod. */
  hasActive(): boolean {
    for (let i = this.head; i < this.active.length; i++) if (this.entries.get(this.active[i] as string)?.state === 'active') return true;
    return false;
  }

  /** Cancels the timer; the queue does nothing afterwards. */
  stop(): void {
    this.stopped = true;
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.timer = undefined;
  }

  private push(key: string, notify = true): void {
    this.active.push(key);
    if (notify) this.onActive();
  }

  private compact(): void {
    if (this.head > 1024 && this.head * 2 > this.active.length) {
      this.active = this.active.slice(this.head);
      this.head = 0;
    }
  }

  private arm(): void {
    const top = this.heap[0];
    if (this.stopped || !top || top.due >= this.timerDue) return;
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.timerDue = top.due;
    this.timer = this.clock.setTimeout(() => this.expire(), Math.max(0, top.due - this.clock.now()));
  }

  private expire(): void {
    this.timer = undefined;
    this.timerDue = Infinity;
    if (this.stopped) return;
    const now = this.clock.now();
    let moved = 0;
    while (this.heap.length > 0 && (this.heap[0] as Due).due <= now) {
      const { key, seq } = heapPop(this.heap);
      const e = this.entries.get(key);
      if (e?.state !== 'backoff' || e.seq !== seq) continue;
      e.state = 'active';
      this.waiting.delete(key);
      this.push(key, false);
      moved++;
    }
    this.arm();
    if (moved > 0) this.onActive();
  }
}

function heapPush(h: Due[], item: Due): void {
  h.push(item);
  let i = h.length - 1;
  while (i > 0) {
    const parent = (i - 1) >> 1;
    if ((h[parent] as Due).due <= item.due) break;
    h[i] = h[parent] as Due;
    i = parent;
  }
  h[i] = item;
}

function heapPop(h: Due[]): Due {
  const top = h[0] as Due;
  const last = h.pop() as Due;
  if (h.length === 0) return top;
  let i = 0;
  for (;;) {
    const l = 2 * i + 1;
    if (l >= h.length) break;
    const r = l + 1;
    const child = r < h.length && (h[r] as Due).due < (h[l] as Due).due ? r : l;
    if ((h[child] as Due).due >= last.due) break;
    h[i] = h[child] as Due;
    i = child;
  }
  h[i] = last;
  return top;
}
