// A complete reddwarf WebSocket watch client: list, then watch from the list's resourceVersion,
// resume from the last event after a dropped connection, relist when the server answers 410.
// Run: node --import tsx examples/watch-client.ts http://127.0.0.1:6443 default
import WebSocket from 'ws';

export interface Pod {
  metadata: { name: string; resourceVersion: string };
  status?: { phase?: string; podIP?: string };
}
export interface WatchEvent {
  type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';
  object: Pod & { code?: number; message?: string };
}

export interface Follower {
  /** The pods as last seen, by name. */
  pods: Map<string, Pod>;
  /** The revision the next watch resumes from. */
  resourceVersion(): string;
  stop(): void;
}

/** Keeps `pods` in step with the server's pods in `namespace`; `log` hears what happens. */
export async function followPods(server: string, namespace: string, log: (line: string) => void = console.log, retryMs = 1000): Promise<Follower> {
  const pods = new Map<string, Pod>();
  let resourceVersion = '';
  let stopped = false;
  let socket: WebSocket | undefined;

  /** Lists the pods and remembers the revision the list is consistent with. */
  const relist = async (): Promise<void> => {
    const res = await fetch(`${server}/api/v1/namespaces/${namespace}/pods`);
    if (!res.ok) throw new Error(`list failed: ${res.status} ${await res.text()}`);
    const list = (await res.json()) as { metadata: { resourceVersion: string }; items: Pod[] };
    pods.clear();
    for (const p of list.items) pods.set(p.metadata.name, p);
    resourceVersion = list.metadata.resourceVersion;
    log(`listed ${pods.size} pods at resourceVersion ${resourceVersion}`);
  };

  /** Watches from `resourceVersion`; reconnects on a drop, relists on 410. */
  const watch = (): void => {
    if (stopped) return;
    const url = `${server.replace(/^http/, 'ws')}/api/v1/namespaces/${namespace}/pods?watch=1&allowWatchBookmarks=true&resourceVersion=${resourceVersion}`;
    const ws = new WebSocket(url);
    socket = ws;
    let expired = false;
    ws.on('message', (data) => {
      const e = JSON.parse(String(data)) as WatchEvent;
      if (e.type === 'ERROR') {
        // 410 Expired: the revision is gone from the server's log; only a fresh list helps.
        expired = e.object.code === 410;
        log(`watch error ${e.object.code}: ${e.object.message}`);
        return;
      }
      resourceVersion = e.object.metadata.resourceVersion;
      if (e.type === 'BOOKMARK') return;
      if (e.type === 'DELETED') pods.delete(e.object.metadata.name);
      else pods.set(e.object.metadata.name, e.object);
      log(`${e.type} ${e.object.metadata.name} ${e.object.status?.phase ?? ''} ${e.object.status?.podIP ?? ''}`);
    });
    ws.on('error', (err) => log(`connection problem: ${err.message}`));
    ws.on('close', () => restart(expired));
  };

  /** Watches again after a pause: from the last revision, or from a fresh list after a 410. */
  const restart = (mustRelist: boolean): void => {
    if (stopped) return;
    setTimeout(() => {
      (mustRelist ? relist() : Promise.resolve()).then(watch, (err: unknown) => {
        log(`relist failed: ${String(err)}; retrying`);
        restart(true);
      });
    }, mustRelist ? 0 : retryMs);
  };

  await relist();
  watch();
  return {
    pods,
    resourceVersion: () => resourceVersion,
    stop() {
      stopped = true;
      socket?.close();
    },
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  await followPods(process.argv[2] ?? 'http://127.0.0.1:6443', process.argv[3] ?? 'default');
}
