// List-then-watch of one resource through the Client (client-go's reflector): a full list feeds
// `listed`, then the watch resumes from the list's revision; a 410 Gone relists, any other end of
// the watch resumes from the last revision seen, after a backoff on the injected clock.
import type { KubeObject } from '../api/types.ts';
import type { Client, ClientWatchEvent } from '../client/client.ts';
import type { Clock } from '../time/clock.ts';

/** Where a reflector delivers what it lists and watches. */
export interface ReflectorHandlers<T extends KubeObject> {
  /** The whole current state, replacing whatever came before. */
  listed(items: T[]): void;
  event(e: ClientWatchEvent<T>): void;
}

/** A running list-then-watch. */
export interface Reflector {
  /** Resolves after the first successful list has been handed to `listed`. */
  readonly synced: Promise<void>;
  stop(): void;
}

const PAGE = 1000;
const RETRY_INITIAL_MS = 1000;
const RETRY_MAX_MS = 30_000;

/** Lists every object of `resource`, page by page, at one revision. */
async function listAll<T extends KubeObject>(client: Client, resource: string): Promise<{ items: T[]; resourceVersion: string }> {
  const items: T[] = [];
  let page = await client.list<T>(resource, { limit: PAGE });
  const resourceVersion = page.resourceVersion;
  items.push(...page.items);
  while (page.continue) {
    page = await client.list<T>(resource, { limit: PAGE, continue: page.continue });
    items.push(...page.items);
  }
  return { items, resourceVersion };
}

/** Keeps `handlers` fed with `resource` until stop() is called. */
export function reflect<T extends KubeObject>(client: Client, resource: string, handlers: ReflectorHandlers<T>, clock: Clock, log: (m: string) => void): Reflector {
  let stopped = false;
  let stopWatch: (() => void) | undefined;
  let timer: unknown;
  let retryMs = RETRY_INITIAL_MS;
  let lastRv = '';
  let markSynced: () => void = () => {};
  const synced = new Promise<void>((resolve) => (markSynced = resolve));

  const later = (what: () => void): void => {
    if (stopped) return;
    const delay = retryMs;
    retryMs = Math.min(RETRY_MAX_MS, retryMs * 2);
    timer = clock.setTimeout(() => {
      timer = undefined;
      what();
    }, delay);
  };

  const relist = async (): Promise<void> => {
    let answer: { items: T[]; resourceVersion: string };
    try {
      answer = await listAll<T>(client, resource);
    } catch (e) {
      log(`scheduler: listing ${resource} failed, retrying in ${retryMs / 1000}s: ${(e as Error).message}`);
      later(() => void relist());
      return;
    }
    if (stopped) return;
    handlers.listed(answer.items);
    markSynced();
    watchFrom(answer.resourceVersion);
  };

  const watchFrom = (rv: string): void => {
    if (stopped) return;
    lastRv = rv;
    let ended = false;
    stopWatch = client.watch<T>(resource, { resourceVersion: rv }, {
      event: (e) => {
        if (stopped || ended) return;
        retryMs = RETRY_INITIAL_MS;
        lastRv = e.object.metadata.resourceVersion ?? lastRv;
        handlers.event(e);
      },
      closed: (why) => {
        if (stopped || ended) return;
        ended = true;
        // Release whatever the ended watch still holds (a no-op for most transports).
        stopWatch?.();
        stopWatch = undefined;
        if (why.expired) {
          // Events were compacted away: only a fresh list can tell what changed.
          log(`scheduler: ${resource} watch expired (${why.message ?? '410 Gone'}), relisting`);
          void relist();
        } else {
          log(`scheduler: ${resource} watch ended${why.message ? ` (${why.message})` : ''}, resuming`);
          later(() => watchFrom(lastRv));
        }
      },
    });
  };

  void relist();
  return {
    synced,
    stop() {
      stopped = true;
      stopWatch?.();
      if (timer !== undefined) clock.clearTimeout(timer);
    },
  };
}
