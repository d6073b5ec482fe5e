// The /inspect page in a real browser (Debian chromium driven by playwright-core): it frames the
// inspector given by --inspector-url — here a local page that records what it receives by
// postMessage, as the Stately inspector's receiver does — and relays the /inspect/events stream.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import type * as Playwright from 'playwright-core';
import { startInProcess } from '../helpers/inspect.ts';

const CHROMIUM = '/usr/bin/chromium';

interface Received {
  type: string;
  name?: string;
  sessionId: string;
  snapshot?: { value?: unknown };
}

/** The stand-in inspector: announces itself as @statelyai/inspect's receiver does, then keeps what it accepts. */
const RECORDER = `<!doctype html><html><head><meta charset="utf-8"><title>recorder</title></head>
<body style="font:12px monospace;background:#fff"><h3>recorder</h3><pre id="log"></pre><script>
window.received = [];
const log = document.getElementById('log');
window.addEventListener('message', (e) => {
  const m = e.data;
  // createBrowserReceiver's isStatelyInspectionEvent
  if (typeof m !== 'object' || m === null || typeof m.type !== 'string' || typeof m._version !== 'string') return;
  window.received.push(m);
  if (m.type === '@xstate.actor') log.textContent += m.name + ' ' + JSON.stringify(m.snapshot && m.snapshot.value) + '\\n';
});
const target = window.self === window.top ? window.opener : window.parent;
if (target) target.postMessage({ type: '@statelyai.connected' }, '*');
</script></body></html>`;

async function loadPlaywright(): Promise<typeof Playwright | string> {
  if (!existsSync(CHROMIUM)) return `${CHROMIUM} is missing (apt-get install chromium)`;
  try {
    return await import('playwright-core');
  } catch (e) {
    return `playwright-core is not installed (${(e as Error).message})`;
  }
}

describe('/inspect in chromium', () => {
  it('relays pod actors to the framed inspector, live and to a page opened later', { timeout: 120_000 }, async (t) => {
    const pw = await loadPlaywright();
    if (typeof pw === 'string') {
      console.warn(`\n*** SKIPPED the browser test of /inspect: ${pw} ***\n`);
      t.skip(pw);
      return;
    }
    const recorder = createServer((_req, res) => res.writeHead(200, { 'content-type': 'text/html' }).end(RECORDER));
    await new Promise<void>((r) => recorder.listen(0, '127.0.0.1', r));
    const inspectorUrl = `http://127.0.0.1:${(recorder.address() as AddressInfo).port}/inspect`;
    const shots = mkdtempSync(join(tmpdir(), 'reddwarf-inspect-shot-'));
    const { dir, cp, agent, stop } = await startInProcess('b1', inspectorUrl);
    // A fresh profile (--user-data-dir): playwright takes it as launchPersistentContext's first argument.
    const browser = await pw.chromium.launchPersistentContext(join(dir, 'chromium-profile'), {
      executablePath: CHROMIUM,
      headless: true,
      viewport: { width: 1100, height: 500 },
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-quic', '--no-first-run', '--disable-component-update', '--disable-sync'],
    });
    try {
      const open = async (): Promise<{ received: () => Promise<Received[]>; page: Playwright.Page }> => {
        const page = await browser.newPage();
        page.on('pageerror', (e) => console.error(`/inspect page error: ${e.message}`));
        await page.goto(`${cp.server.url}/inspect`);
        const frame = async (): Promise<Playwright.Frame> => {
          for (let i = 0; i < 200; i++) {
            const f = page.frames().find((x) => x.url() === inspectorUrl);
            if (f) return f;
            await new Promise((r) => setTimeout(r, 25));
          }
          throw new Error(`the /inspect page did not frame ${inspectorUrl}`);
        };
        const f = await frame();
        return { page, received: async () => (await f.evaluate('window.received || []')) as Received[] };
      };
      const until = async (what: string, received: () => Promise<Received[]>, cond: (r: Received[]) => boolean): Promise<Received[]> => {
        let r: Received[] = [];
        for (let i = 0; i < 400; i++) {
          r = await received();
          if (cond(r)) return r;
          await new Promise((res) => setTimeout(res, 50));
        }
        assert.fail(`timed out waiting for ${what}; the inspector got ${r.length} messages: ${r.map((m) => `${m.type} ${m.name ?? ''}`).slice(0, 30).join(', ')}`);
      };

      const first = await open();
      await until('the replay of the node actor', first.received, (r) => r.some((m) => m.name === 'node/b1'));
      await cp.client.create('pods', { metadata: { name: 'web', namespace: 'default' }, spec: { containers: [{ name: 'c', image: 'i' }] } });
      const valuesOf = (r: Received[]): string[] => {
        const ids = new Set(r.filter((m) => m.type === '@xstate.actor' && m.name === 'pod/default/web').map((m) => m.sessionId));
        return r.filter((m) => ids.has(m.sessionId) && m.snapshot).map((m) => String(JSON.stringify(m.snapshot?.value)));
      };
      const got = await until('the pod to reach Running', first.received, (r) => valuesOf(r).some((v) => v.includes('Running')));
      const values = valuesOf(got);
      assert.ok(values.some((v) => v.includes('Provisioning')), `pod states seen: ${values.join(', ')}`);
      assert.ok(values.some((v) => v.includes('Running')));

      // A page opened later still sees every live pod actor, in its current state.
      await cp.client.create('pods', { metadata: { name: 'api', namespace: 'default' }, spec: { containers: [{ name: 'c', image: 'i' }] } });
      const live = (): string[] => Object.keys(agent.pods.actor.system.getAll()).filter((k) => k.startsWith('pod/'));
      for (let i = 0; i < 200 && live().length < 2; i++) await new Promise((r) => setTimeout(r, 25));
      const late = await open();
      const replay = await until('the replay of every live pod', late.received, (r) => live().every((k) => r.some((m) => m.type === '@xstate.actor' && m.name === k)));
      assert.ok(live().length >= 2, `live pod actors: ${live().join(', ')}`);
      assert.match(String(JSON.stringify(replay.find((m) => m.type === '@xstate.actor' && m.name === 'pod/default/web')?.snapshot?.value)), /Running/);

      const shot = join(shots, 'inspect.png');
      await late.page.screenshot({ path: shot });
      t.diagnostic(`screenshot: ${shot}`);
      assert.ok(existsSync(shot));
    } finally {
      await browser.close();
      await stop();
      recorder.close();
    }
  });
});
