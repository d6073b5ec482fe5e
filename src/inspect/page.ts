// The /inspect page: frames the Stately inspector and relays our /inspect/events stream to it by
// postMessage (as @statelyai/inspect's bridge does), with a plain list that also works offline.

const escape = (s: string): string => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** The HTML of the bridge page for an inspector at `inspectorUrl`. */
export function inspectPage(inspectorUrl: string): string {
  const origin = new URL(inspectorUrl).origin;
  return `<!doctype html>
<html><head><meta charset="utf-8"><title>reddwarf — live actors</title>
<style>body{margin:0;font:13px system-ui,sans-serif;display:flex;height:100vh}iframe{flex:3;border:0}
#list{flex:1;overflow:auto;padding:8px;border-left:1px solid #ccc}#list div{white-space:nowrap}</style></head>
<body><iframe id="inspector" src="${escape(inspectorUrl)}"></iframe><div id="list"><b>actors</b></div>
<script>
const frame = document.getElementById('inspector');
const list = document.getElementById('list');
const actors = new Map();
let connected = false;
const pending = [];
window.addEventListener('message', (e) => {
  if (e.data && e.data.type === '@statelyai.connected') {
    connected = true;
    for (const m of pending.splice(0)) frame.contentWindow.postMessage(m, ${JSON.stringify(origin)});
  }
});
// The fallback list (works offline): built with textContent, never innerHTML, as names and values come from the cluster.
function show(m) {
  if (m.type === '@xstate.actor') actors.set(m.sessionId, { name: m.name, value: m.snapshot && m.snapshot.value });
  else if (m.type === '@xstate.snapshot' && actors.has(m.sessionId)) actors.get(m.sessionId).value = m.snapshot && m.snapshot.value;
  else return;
  const rows = [...actors.values()].map((a) => {
    const d = document.createElement('div');
    d.textContent = a.name + ': ' + (a.value === undefined ? '' : JSON.stringify(a.value));
    return d;
  });
  const title = document.createElement('b');
  title.textContent = 'actors';
  list.replaceChildren(title, ...rows);
}
const ws = new WebSocket((location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + '/inspect/events' + location.search);
ws.onmessage = (e) => {
  const m = JSON.parse(e.data);
  if (connected) frame.contentWindow.postMessage(m, ${JSON.stringify(origin)});
  else pending.push(m);
  try { show(m); } catch (err) { console.error('fallback list:', err); }
};
</script></body></html>`;
}
