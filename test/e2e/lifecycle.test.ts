// Pod and node lifecycle end to end, with real processes and the real kubectl 1.31:
//  1. `reddwarf up`: kubectl apply → Running in a (mock) zone with an address from the pod CIDR,
//     the story in `kubectl describe`, then kubectl delete → the pod, zone, VNIC and dataset gone;
//  2. `reddwarf up` SIGKILLed and started again on the same data dir adopts the running pod: same
//     address, same zone (same zone id, nothing booted), no restart, no second Provisioning;
//  3. `reddwarf serve` + two `reddwarf agent`s: pods spread over both nodes, a SIGKILLed agent's
//     node goes Ready=Unknown (NodeStatusUnknown) while the other stays Ready, and comes back.
// The mock zone runtime keeps the simulated host in <data-dir>/zones (src/runtime/mock.ts; test/helpers/mock-host.ts reads it).
import { describe, it, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { kubectl, kubectlMissing, type Kubectl, type KubectlRun } from '../helpers/kubectl.ts';
import { readMockHost as readHost, type MockHost, type MockZone } from '../helpers/mock-host.ts';
import { makeTempDir, pollUntil, sleep, startAgent, startServe, startUp, type AgentProcess, type ChildHandle, type ServeProcess } from '../helpers/process.ts';

/** How long waitRunning polls before it gives up: a bound on the test, not a goal (bench/lifecycle.ts times it). */
const RUNNING_BOUND_MS = 30_000;
/** The pod CIDR `up` and `agent` use by default (--pod-cidr). */
const POD_CIDR = { network: ipv4('10.88.0.0'), prefixLen: 16 };
/**
 * The node monitor grace period for the node-loss scenario, with agents heartbeating every second
 * (--node-status-update-frequency): as in Kubernetes, the grace must span a few heartbeats.
 */
const GRACE_MS = 3_000;
const FAST_HEARTBEAT = ['--node-status-update-frequency', '1s'];

/** Skips the test loudly when kubectl 1.31 is not installed; true when skipped. */
function skipWithoutKubectl(t: TestContext): boolean {
  const missing = kubectlMissing();
  if (!missing) return false;
  console.warn(`SKIPPING lifecycle e2e "${t.name}": ${missing}`);
  t.skip(missing);
  return true;
}

function ipv4(s: string): number {
  const parts = s.split('.');
  if (parts.length !== 4 || parts.some((p) => !/^(0|[1-9]\d{0,2})$/.test(p) || Number(p) > 255)) return NaN;
  return parts.reduce((n, p) => n * 256 + Number(p), 0);
}

/** Why `ip` is not a usable pod address in 10.88.0.0/16 (network, gateway, broadcast excluded), or undefined. */
function badPodIP(ip: string): string | undefined {
  const n = ipv4(ip);
  if (Number.isNaN(n)) return `${JSON.stringify(ip)} is not an IPv4 address`;
  const size = 2 ** (32 - POD_CIDR.prefixLen);
  const offset = n - POD_CIDR.network;
  if (offset < 0 || offset >= size) return `${ip} is outside 10.88.0.0/16`;
  if (offset === 0) return `${ip} is the network address`;
  if (offset === 1) return `${ip} is the gateway address`;
  if (offset === size - 1) return `${ip} is the broadcast address`;
  return undefined;
}

interface Condition {
  type: string;
  status: string;
  reason?: string;
  lastHeartbeatTime?: string;
  lastTransitionTime?: string;
}

interface PodJson {
  metadata: { name: string; uid: string; deletionTimestamp?: string };
  spec: { nodeName?: string };
  status?: { phase?: string; podIP?: string; containerStatuses?: { restartCount?: number }[] };
}

interface NodeJson {
  metadata: { name: string };
  status?: { conditions?: Condition[] };
}

interface EventJson {
  reason?: string;
  involvedObject?: { kind?: string; name?: string; uid?: string };
}

const readyOf = (n: NodeJson | undefined): Condition | undefined => n?.status?.conditions?.find((c) => c.type === 'Ready');
const showReady = (c: Condition | undefined): string => (c ? `${c.status}/${c.reason ?? ''}` : 'none');

// ---------------------------------------------------------------------------------------------
// The simulated host (src/runtime/mock.ts keeps it in <data-dir>/zones/mock-host.log)

const readMockHost = (dataDir: string): MockHost => readHost(join(dataDir, 'zones'));

/** The zone of pod `ns/name` on the simulated host, with its name. */
function zoneOf(host: MockHost, podKey: string): (MockZone & { name: string }) | undefined {
  for (const [name, z] of Object.entries(host.zones)) if (z.spec.pod === podKey) return { ...z, name };
  return undefined;
}

function showHost(dataDir: string): string {
  try {
    return `--- simulated host of ${dataDir} ---\n${JSON.stringify(readMockHost(dataDir), null, 1)}`;
  } catch (e) {
    return `--- simulated host of ${dataDir}: ${(e as Error).message}`;
  }
}

// ---------------------------------------------------------------------------------------------

const podYaml = (name: string): string => `apiVersion: v1
kind: Pod
metadata:
  name: ${name}
  labels:
    app: lifecycle
spec:
  containers:
  - name: web
    image: nginx
`;

/** Waits for pod `name` to be Running with an address; fails with what it last saw. */
async function waitRunning(k: Kubectl, name: string): Promise<PodJson> {
  let last: KubectlRun | undefined;
  const pod = await pollUntil(
    async () => {
      last = await k.run('get', 'pod', name, '-o', 'json');
      if (last.code !== 0) return undefined;
      const p = JSON.parse(last.stdout) as PodJson;
      return p.status?.phase === 'Running' && p.status.podIP ? p : undefined;
    },
    RUNNING_BOUND_MS,
    200,
  );
  if (!pod) {
    const events = await k.run('get', 'events', '-o', 'wide');
    assert.fail(`pod ${name} never Running with a podIP\n${last ? k.explain(last) : ''}\n--- events ---\n${events.stdout}${events.stderr}`);
  }
  return pod;
}

/** Events about pod `name` (with this uid), by reason. */
async function podEvents(k: Kubectl, name: string, uid: string): Promise<string[]> {
  const list = await k.json<{ items: EventJson[] }>('get', 'events');
  return list.items.filter((e) => e.involvedObject?.kind === 'Pod' && e.involvedObject.name === name && (!e.involvedObject.uid || e.involvedObject.uid === uid)).map((e) => e.reason ?? '');
}

describe('pod and node lifecycle (real processes, mock zones, kubectl 1.31)', () => {
  it('up: kubectl apply → Running in a zone; kubectl delete → pod and zone gone', { timeout: 90_000 }, async (t) => {
    if (skipWithoutKubectl(t)) return;
    const up = await startUp();
    const k = kubectl(up.kubeconfig, { procs: () => [up] });
    let failed = true;
    try {
      const podFile = k.file('pod.yaml', podYaml('x'));
      const applied = await k.ok('apply', '-f', podFile);
      assert.match(applied.stdout, /^pod\/x created$/m, k.explain(applied));

      const pod = await waitRunning(k, 'x');
      const ip = pod.status?.podIP ?? '';
      assert.equal(badPodIP(ip), undefined, `podIP: ${String(badPodIP(ip))}`);
      assert.equal(pod.spec.nodeName, up.nodeName, `pod x bound to ${String(pod.spec.nodeName)}, not to the node of up (${up.nodeName})`);
      const phase = await k.ok('get', 'pod', 'x', '-o', 'jsonpath={.status.phase}');
      assert.equal(phase.stdout, 'Running', k.explain(phase));

      // kubectl describe tells the story (the events are written asynchronously: poll a little).
      const want = ['Scheduled', 'Provisioning', 'Started'];
      let describe: KubectlRun | undefined;
      const told = await pollUntil(
        async () => {
          describe = await k.run('describe', 'pod', 'x');
          const events = describe.stdout.split(/^Events:/m)[1] ?? '';
          return describe.code === 0 && want.every((r) => new RegExp(`^\\s+Normal\\s+${r}\\s`, 'm').test(events));
        },
        10_000,
        250,
      );
      assert.ok(told, `kubectl describe pod x lacks one of the events ${want.join(', ')}\n${describe ? k.explain(describe) : ''}`);
      assert.match(describe?.stdout ?? '', new RegExp(`^IP:\\s+${ip.replaceAll('.', '\\.')}$`, 'm'), describe ? k.explain(describe) : '');

      // The simulated host runs a zone for the pod, with the pod's address.
      const host = readMockHost(up.dataDir);
      const zone = zoneOf(host, 'default/x');
      assert.ok(zone, `no zone for default/x on the simulated host\n${showHost(up.dataDir)}`);
      assert.equal(zone.state, 'running', `zone ${zone.name} is ${zone.state}\n${showHost(up.dataDir)}`);
      assert.equal(zone.spec.uid, pod.metadata.uid, `zone ${zone.name} belongs to uid ${zone.spec.uid}, pod x is ${pod.metadata.uid}`);
      assert.equal(zone.spec.network.ip, ip, `zone ${zone.name} has address ${zone.spec.network.ip}, pod x reports ${ip}`);
      assert.ok(host.vnics.includes(zone.spec.network.vnic), `VNIC ${zone.spec.network.vnic} of zone ${zone.name} does not exist\n${showHost(up.dataDir)}`);
      const dataset = host.datasets.find((d) => d.endsWith(`/${zone.name}`));
      assert.ok(dataset, `no dataset for zone ${zone.name}\n${showHost(up.dataDir)}`);

      // kubectl delete waits until the pod is gone (the agent tears the zone down, then finalizes).
      const del = await k.ok('delete', 'pod', 'x');
      assert.match(del.stdout, /^pod "x" deleted$/m, k.explain(del));
      const get = await k.run('get', 'pod', 'x');
      assert.notEqual(get.code, 0, `pod x still there after kubectl delete returned\n${k.explain(get)}`);
      assert.match(get.stderr, /\(NotFound\): pods "x" not found/, k.explain(get));

      const clean = await pollUntil(
        () => {
          const h = readMockHost(up.dataDir);
          return !zoneOf(h, 'default/x') && !h.zones[zone.name] && !h.vnics.includes(zone.spec.network.vnic) && !h.datasets.includes(dataset) ? h : undefined;
        },
        5_000,
        50,
      );
      assert.ok(clean, `the simulated host still has something of pod x (zone ${zone.name}, VNIC ${zone.spec.network.vnic}, dataset ${dataset}) after kubectl delete\n${showHost(up.dataDir)}\n${k.logs()}`);
      t.diagnostic(`pod x ran at ${ip} in zone ${zone.name} (id ${String(zone.zoneId)}); deleted`);
      failed = false;
    } finally {
      const code = await up.stop();
      k.cleanup();
      up.cleanup();
      if (!failed) assert.equal(code, 0, `reddwarf up did not exit cleanly on SIGTERM (code ${String(code)})\n${up.stderrTail(20)}`);
    }
  });

  it('up: SIGKILL and restart on the same data dir adopts the running pod without re-provisioning', { timeout: 90_000 }, async (t) => {
    if (skipWithoutKubectl(t)) return;
    const dataDir = makeTempDir('reddwarf-lifecycle-adopt-');
    const procs: ChildHandle[] = [];
    const first = await startUp({ dataDir });
    procs.push(first);
    const k = kubectl(first.kubeconfig, { procs: () => procs });
    let current: ChildHandle = first;
    try {
      const podFile = k.file('pod.yaml', podYaml('x'));
      await k.ok('apply', '-f', podFile);
      const before = await waitRunning(k, 'x');
      const uid = before.metadata.uid;
      const ip = before.status?.podIP ?? '';
      // Wait for the first run's story to be complete, so a later Provisioning can only be new.
      let reasons: string[] = [];
      const story = await pollUntil(async () => {
        reasons = await podEvents(k, 'x', uid);
        return reasons.includes('Started');
      }, 10_000, 250);
      assert.ok(story, `no Started event for pod x before the kill (events: ${reasons.join(', ')})\n${k.logs()}`);
      assert.equal(reasons.filter((r) => r === 'Provisioning').length, 1, `events before the kill: ${reasons.join(', ')}`);
      const hostBefore = readMockHost(dataDir);
      const zoneBefore = zoneOf(hostBefore, 'default/x');
      assert.ok(zoneBefore?.state === 'running' && zoneBefore.zoneId !== undefined, `no running zone for default/x before the kill\n${showHost(dataDir)}`);

      await first.kill9();
      // Zones outlive the agent: the simulated host still runs it.
      assert.equal(zoneOf(readMockHost(dataDir), 'default/x')?.state, 'running', `the zone stopped with the killed process\n${showHost(dataDir)}`);

      const second = await startUp({ dataDir });
      procs.push(second);
      current = second;

      // Watch a while (40 samples): nothing about the pod or its zone may change.
      const changes: string[] = [];
      let samples = 0;
      while (samples < 40 && changes.length === 0) {
        const h = readMockHost(dataDir);
        const z = zoneOf(h, 'default/x');
        if (!z) changes.push('the zone of default/x vanished');
        else {
          if (z.state !== 'running') changes.push(`zone state ${z.state}`);
          if (z.zoneId !== zoneBefore.zoneId) changes.push(`zone id ${String(zoneBefore.zoneId)} → ${String(z.zoneId)} (booted again)`);
          if (z.spec.uid !== uid) changes.push(`zone uid ${z.spec.uid}`);
        }
        if (h.nextZoneId !== hostBefore.nextZoneId) changes.push(`nextZoneId ${hostBefore.nextZoneId} → ${h.nextZoneId} (a zone was booted)`);
        samples++;
        await sleep(100);
      }
      assert.deepEqual(changes, [], `the simulated host changed after the restart\n${showHost(dataDir)}\n${k.logs()}`);

      const after = await waitRunning(k, 'x');
      assert.equal(after.metadata.uid, uid, 'pod x came back with another uid');
      assert.equal(after.status?.podIP, ip, `pod x had ${ip} before the restart, ${String(after.status?.podIP)} after`);
      assert.equal(after.spec.nodeName, first.nodeName);
      const restarts = after.status?.containerStatuses?.map((c) => c.restartCount ?? 0) ?? [];
      assert.deepEqual(restarts, [0], `restartCount after adoption: ${JSON.stringify(restarts)}`);
      const reasonsAfter = await podEvents(k, 'x', uid);
      assert.equal(reasonsAfter.filter((r) => r === 'Provisioning').length, 1, `a new Provisioning event after the restart (events: ${reasonsAfter.join(', ')})\n${k.logs()}`);
      assert.equal(reasonsAfter.filter((r) => r === 'Pulled').length, 1, `images resolved again after the restart (events: ${reasonsAfter.join(', ')})`);
      assert.deepEqual(reasonsAfter.filter((r) => !['Scheduled', 'Pulled', 'Provisioning', 'Started'].includes(r)), [], `unexpected events after the restart: ${reasonsAfter.join(', ')}`);

      // The restarted agent owns the adopted pod: deleting it tears the same zone down.
      const del = await k.ok('delete', 'pod', 'x');
      assert.match(del.stdout, /^pod "x" deleted$/m, k.explain(del));
      const gone = await pollUntil(() => {
        const h = readMockHost(dataDir);
        return !zoneOf(h, 'default/x') && !h.vnics.includes(zoneBefore.spec.network.vnic);
      }, 5_000, 50);
      assert.ok(gone, `the adopted zone was not torn down by kubectl delete\n${showHost(dataDir)}\n${k.logs()}`);
      t.diagnostic(`adopted zone ${zoneBefore.name} (id ${String(zoneBefore.zoneId)}) at ${ip}; ${samples} samples unchanged`);
    } finally {
      await current.stop();
      for (const p of procs) await p.kill9();
      k.cleanup();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it('serve + two agents: pods spread; a killed agent\'s node goes Unknown, the other stays Ready; it comes back', { timeout: 120_000 }, async (t) => {
    if (skipWithoutKubectl(t)) return;
    const graceS = GRACE_MS / 1000;
    const serve: ServeProcess = await startServe({ args: ['--node-monitor-grace-period', `${graceS}s`] });
    const procs: ChildHandle[] = [serve];
    const k = kubectl(serve.kubeconfig, { procs: () => procs });
    const agentDirs = { n1: makeTempDir('reddwarf-lifecycle-n1-'), n2: makeTempDir('reddwarf-lifecycle-n2-') };
    let failed = true;
    try {
      const [a1, a2] = await Promise.all((['n1', 'n2'] as const).map((n) => startAgent({ server: serve.url, nodeName: n, dataDir: agentDirs[n], args: FAST_HEARTBEAT })));
      let n2: AgentProcess = a2 as AgentProcess;
      procs.push(a1 as AgentProcess, n2);

      const nodes = async (): Promise<Map<string, NodeJson>> => new Map((await k.json<{ items: NodeJson[] }>('get', 'nodes')).items.map((n) => [n.metadata.name, n]));
      let seen = new Map<string, NodeJson>();
      const bothReady = await pollUntil(async () => {
        seen = await nodes();
        return readyOf(seen.get('n1'))?.status === 'True' && readyOf(seen.get('n2'))?.status === 'True';
      }, 15_000, 200);
      assert.ok(bothReady, `nodes not both Ready: n1 ${showReady(readyOf(seen.get('n1')))}, n2 ${showReady(readyOf(seen.get('n2')))}\n${k.logs()}`);

      // Six pods, one apply.
      const names = Array.from({ length: 6 }, (_, i) => `spread-${i}`);
      const podsFile = k.file('pods.yaml', names.map(podYaml).join('---\n'));
      const applied = await k.ok('apply', '-f', podsFile);
      for (const n of names) assert.match(applied.stdout, new RegExp(`^pod/${n} created$`, 'm'), k.explain(applied));

      let pods: PodJson[] = [];
      const allRunning = await pollUntil(async () => {
        pods = (await k.json<{ items: PodJson[] }>('get', 'pods', '-l', 'app=lifecycle')).items;
        return pods.length === names.length && pods.every((p) => p.status?.phase === 'Running' && p.status.podIP);
      }, 30_000, 250);
      const table = pods.map((p) => `${p.metadata.name} ${String(p.status?.phase)} ${String(p.spec.nodeName)} ${String(p.status?.podIP)}`).join('\n');
      assert.ok(allRunning, `not all 6 pods Running within 30 s:\n${table}\n${k.logs()}`);
      const byNode = new Map<string, string[]>();
      for (const p of pods) byNode.set(p.spec.nodeName ?? '', [...(byNode.get(p.spec.nodeName ?? '') ?? []), p.metadata.name]);
      assert.ok((byNode.get('n1')?.length ?? 0) >= 1 && (byNode.get('n2')?.length ?? 0) >= 1, `the pods are not spread over both nodes:\n${table}`);
      assert.deepEqual([...byNode.keys()].sort(), ['n1', 'n2'], `pods bound to unknown nodes:\n${table}`);
      // Each pod runs in a zone on its own node's (simulated) host, and only there.
      for (const p of pods) {
        const mine = p.spec.nodeName === 'n1' ? agentDirs.n1 : agentDirs.n2;
        const other = p.spec.nodeName === 'n1' ? agentDirs.n2 : agentDirs.n1;
        const z = zoneOf(readMockHost(mine), `default/${p.metadata.name}`);
        assert.equal(z?.state, 'running', `pod ${p.metadata.name} (on ${String(p.spec.nodeName)}) has no running zone there\n${showHost(mine)}`);
        assert.equal(z?.spec.network.ip, p.status?.podIP, `pod ${p.metadata.name}: zone address ${String(z?.spec.network.ip)}, pod reports ${String(p.status?.podIP)}`);
        assert.equal(zoneOf(readMockHost(other), `default/${p.metadata.name}`), undefined, `pod ${p.metadata.name} also has a zone on the other node\n${showHost(other)}`);
        assert.equal(badPodIP(p.status?.podIP ?? ''), undefined, `pod ${p.metadata.name}: ${String(badPodIP(p.status?.podIP ?? ''))}`);
      }
      const n2ZonesBefore = readMockHost(agentDirs.n2);

      // Node loss: n2's agent dies; after the grace period its node is Unknown, n1 stays Ready.
      await n2.kill9();
      const n1NotReady: string[] = [];
      let polls = 0;
      let n2Ready: Condition | undefined;
      const unknownWithin = GRACE_MS + 10_000;
      const lost = await pollUntil(async () => {
        const m = await nodes();
        const r1 = readyOf(m.get('n1'));
        polls++;
        if (r1?.status !== 'True') n1NotReady.push(`poll ${polls} after the kill: n1 Ready ${showReady(r1)}`);
        n2Ready = readyOf(m.get('n2'));
        return n2Ready?.status === 'Unknown';
      }, unknownWithin, 250);
      assert.ok(lost, `node n2 not Ready=Unknown within ${unknownWithin} ms of its agent's SIGKILL (grace ${graceS}s): Ready ${showReady(n2Ready)}\n${k.logs()}`);
      assert.equal(n2Ready?.reason, 'NodeStatusUnknown', `n2 Ready condition: ${JSON.stringify(n2Ready)}`);
      const hb = Date.parse(n2Ready?.lastHeartbeatTime ?? '');
      const tr = Date.parse(n2Ready?.lastTransitionTime ?? '');
      assert.ok(!Number.isNaN(hb) && !Number.isNaN(tr), `n2 Ready=Unknown lacks its times: ${JSON.stringify(n2Ready)}`);
      // Times are in whole seconds: allow for the truncation.
      assert.ok(tr - hb >= GRACE_MS - 1_500, `n2 marked Unknown ${tr - hb} ms after its last heartbeat, before the ${GRACE_MS} ms grace period: ${JSON.stringify(n2Ready)}`);
      assert.deepEqual(n1NotReady, [], `node n1 did not stay Ready while n2 went Unknown\n${k.logs()}`);
      const r1Now = readyOf((await nodes()).get('n1'));
      assert.equal(r1Now?.status, 'True', `node n1 Ready ${showReady(r1Now)} once n2 was Unknown`);

      // n2's agent comes back on the same data dir: Ready again, its zones adopted as they were.
      n2 = await startAgent({ server: serve.url, nodeName: 'n2', dataDir: agentDirs.n2, args: FAST_HEARTBEAT });
      procs.push(n2);
      let back: Condition | undefined;
      const ready = await pollUntil(async () => {
        back = readyOf((await nodes()).get('n2'));
        return back?.status === 'True';
      }, 15_000, 200);
      assert.ok(ready, `node n2 not Ready=True again within 15 s of its agent's restart: ${JSON.stringify(back)}\n${k.logs()}`);
      assert.equal(back?.reason, 'KubeletReady', JSON.stringify(back));
      const n2ZonesAfter = readMockHost(agentDirs.n2);
      for (const [name, z] of Object.entries(n2ZonesBefore.zones)) {
        assert.equal(n2ZonesAfter.zones[name]?.zoneId, z.zoneId, `zone ${name} on n2: id ${String(z.zoneId)} before the agent's restart, ${String(n2ZonesAfter.zones[name]?.zoneId)} after\n${showHost(agentDirs.n2)}`);
      }
      const still = (await k.json<{ items: PodJson[] }>('get', 'pods', '-l', 'app=lifecycle')).items;
      assert.deepEqual(still.filter((p) => p.status?.phase !== 'Running').map((p) => `${p.metadata.name}: ${String(p.status?.phase)}`), [], 'pods not Running after the node came back');
      t.diagnostic(`spread n1=${byNode.get('n1')?.length ?? 0} n2=${byNode.get('n2')?.length ?? 0}; n2 Unknown after ${polls} polls (grace ${graceS}s)`);
      failed = false;
    } finally {
      const codes: string[] = [];
      for (const p of [...procs.slice(1), serve]) {
        const killed = p.exited();
        const code = await p.stop();
        if (!killed && code !== 0) codes.push(`${p.label} exited with ${String(code)} on SIGTERM\n${p.stderrTail(10)}`);
      }
      k.cleanup();
      serve.cleanup();
      for (const d of Object.values(agentDirs)) rmSync(d, { recursive: true, force: true });
      if (!failed) assert.deepEqual(codes, [], 'a process did not exit cleanly on SIGTERM');
    }
  });

  it(
    'serve --node-monitor-grace-period 3s with 1s heartbeats: a healthy node stays Ready',
    { timeout: 60_000 },
    async (t) => {
      if (skipWithoutKubectl(t)) return;
      const serve = await startServe({ args: ['--node-monitor-grace-period', '3s'] });
      const procs: ChildHandle[] = [serve];
      const k = kubectl(serve.kubeconfig, { procs: () => procs });
      try {
        const a = await startAgent({ server: serve.url, nodeName: 'n1', args: FAST_HEARTBEAT });
        procs.push(a);
        const readyOfN1 = async (): Promise<Condition | undefined> => readyOf((await k.json<{ items: NodeJson[] }>('get', 'nodes')).items.find((n) => n.metadata.name === 'n1'));
        let r: Condition | undefined;
        assert.ok(await pollUntil(async () => (r = await readyOfN1())?.status === 'True', 10_000, 200), `n1 never Ready: ${JSON.stringify(r)}`);
        // Watch for longer than a heartbeat interval: a live node must never be marked Unknown.
        const flapped = await pollUntil(async () => ((r = await readyOfN1())?.status !== 'True' ? r : undefined), 3 * GRACE_MS, 250);
        assert.ok(flapped === undefined, `n1 (agent alive) went Ready ${showReady(flapped)} during the watch: ${JSON.stringify(flapped)}\n${k.logs()}`);
      } finally {
        for (const p of procs.slice(1)) await p.stop();
        await serve.stop();
        for (const p of procs.slice(1)) p.cleanup();
        k.cleanup();
        serve.cleanup();
      }
    },
  );
});
