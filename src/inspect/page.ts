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
function show(m) {
  if (m.type === '@xstate.actor') actors.set(m.sessionId, { name: m.name, value: m.snapshot && m.snapshot.value });
  if (m.type === '@xstate.snapshot' && actors.has(m.sessionId)) actors.get(m.sessionId).value = m.snapshot.value;
  list.innerHTML = '<b>actors</b>' + [...actors.values()].map((a) => '<div>' + a.name + ': ' + JSON.stringify(a.value).replace(/</g, '&lt;') + '</div>').join('');
}
const ws = new WebSocket((location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + '/inspect/events' + location.search);
ws.onmessage = (e) => {
  const m = JSON.parse(e.data);
  show(m);
  if (connected) frame.contentWindow.postMessage(m, ${JSON.stringify(origin)});
  else pending.push(m);
};
</script></body></html>`;
}
