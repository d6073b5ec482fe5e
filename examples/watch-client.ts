// A complete reddwarf WebSocket watch client: list, then watch from the list's resourceVersion,
// resume from the last event after a dropped connection, relist when the server answers 410.
// Run: node --import tsx examples/watch-client.ts http://127.0.0.1:6443 default
import WebSocket from 'ws';

interface Pod {
  metadata: { name: string; resourceVersion: string };
  status?: { phase?: string; podIP?: string };
}
interface WatchEvent {
  type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';
  object: Pod & { code?: number; message?: string };
}

const server = process.argv[2] ?? 'http://127.0.0.1:6443';
const namespace = process.argv[3] ?? 'default';
const pods = new Map<string, Pod>();
let resourceVersion = '';

/** Lists the pods and remembers the revision the list is consistent with. */
async function relist(): Promise<void> {
  const res = await fetch(`${server}/api/v1/namespaces/${namespace}/pods`);
  if (!res.ok) throw new Error(`list failed: ${res.status} ${await res.text()}`);
  const list = (await res.json()) as { metadata: { resourceVersion: string }; items: Pod[] };
  pods.clear();
  for (const p of list.items) pods.set(p.metadata.name, p);
  resourceVersion = list.metadata.resourceVersion;
  console.log(`listed ${pods.size} pods at resourceVersion ${resourceVersion}`);
}

/** Watches from `resourceVersion`; reconnects on a drop, relists on 410. */
function watch(): void {
  const url = `${server.replace(/^http/, 'ws')}/api/v1/namespaces/${namespace}/pods?watch=1&allowWatchBookmarks=true&resourceVersion=${resourceVersion}`;
  const ws = new WebSocket(url);
  let expired = false;
  ws.on('message', (data) => {
    const e = JSON.parse(String(data)) as WatchEvent;
    if (e.type === 'ERROR') {
      // 410 Expired: the revision is gone from the server's log; only a fresh list helps.
      expired = e.object.code === 410;
      console.log(`watch error ${e.object.code}: ${e.object.message}`);
      return;
    }
    resourceVersion = e.object.metadata.resourceVersion;
    if (e.type === 'BOOKMARK') return;
    if (e.type === 'DELETED') pods.delete(e.object.metadata.name);
    else pods.set(e.object.metadata.name, e.object);
    console.log(`${e.type} ${e.object.metadata.name} ${e.object.status?.phase ?? ''} ${e.object.status?.podIP ?? ''}`);
  });
  ws.on('error', (err) => console.log(`connection problem: ${err.message}`));
  ws.on('close', () => restart(expired));
}

/** Watches again after a pause: from the last revision, or from a fresh list after a 410. */
function restart(mustRelist: boolean): void {
  setTimeout(() => {
    (mustRelist ? relist() : Promise.resolve()).then(watch, (err: unknown) => {
      console.log(`relist failed: ${String(err)}; retrying`);
      restart(true);
    });
  }, mustRelist ? 0 : 1000);
}

await relist();
watch();
