// Pods run their workloads end to end: `reddwarf up --runtime illumos` on the simulated illumos host
// (real zone roots, the zone supervisor as init running real busybox processes), images pulled from a
// real registry (Debian's docker-registry on 127.0.0.1), driven by the real kubectl.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { kubectl, kubectlMissing } from '../helpers/kubectl.ts';
import { freePort, makeTempDir, pollUntil, startUp, type UpProcess } from '../helpers/process.ts';
import { buildImage, busyboxLayer, pushImage, registryAvailable, startRegistry, type TestRegistry } from '../helpers/registry.ts';
import { FakeIllumosHost } from '../fakes/host.ts';
import { realZoneSkipReason } from '../helpers/realzone.ts';
import type { Pod } from '../../src/api/model/types.ts';

const WAIT_MS = 45_000;

/** Why this suite cannot run here (it needs root for zones, the registry, busybox and a C compiler), or undefined. */
function missing(): string | undefined {
  const why = realZoneSkipReason({ compiler: true }) ?? (registryAvailable('workload end-to-end tests') ? undefined : 'docker-registry is not installed') ?? kubectlMissing(33) ?? kubectlMissing(27);
  if (why) console.error(`\n*** SKIPPED workloads on the simulated illumos host: ${why} ***\n`);
  return why;
}

type ContainerStatus = { name: string; image: string; imageID: string; ready: boolean; restartCount: number; state: Record<string, Record<string, unknown>>; lastState?: Record<string, Record<string, unknown>> };

describe('workloads on the simulated illumos host (registry images, real processes, kubectl 1.27 and 1.33)', { concurrency: false }, () => {
  const why = missing();
  let reg: TestRegistry;
  let host: FakeIllumosHost;
  let up: UpProcess;
  let dataDir: string;
  let savedEnv: Record<string, string | undefined>;
  let k33: ReturnType<typeof kubectl>;
  let k27: ReturnType<typeof kubectl>;
  const image = (name: string): string => `${reg.host}/test/${name}`;

  before(async () => {
    if (why) return;
    reg = await startRegistry();
    const sh = (script: string, env: string[] = []) => buildImage({ layers: [busyboxLayer()], config: { Entrypoint: ['/bin/sh', '-c'], Cmd: [script], Env: ['PATH=/bin', ...env] }, index: true });
    // Prints to both streams and exits 3: a crashing container.
    await pushImage(reg, 'test/printer', 'v1', sh('echo "hello from printer"; echo "to stderr" >&2; exit 3'));
    // Long-running servers, two versions told apart by what they print.
    await pushImage(reg, 'test/server', 'v1', sh('echo "server $VERSION up"; while true; do sleep 1; done', ['VERSION=v1']));
    await pushImage(reg, 'test/server', 'v2', sh('echo "server $VERSION up"; while true; do sleep 1; done', ['VERSION=v2']));
    await pushImage(reg, 'test/once', 'v1', sh('echo "init ran"; exit 0'));
    // One that leaves on SIGTERM, one that ignores it (busybox sh runs the trap between sleeps).
    await pushImage(reg, 'test/polite', 'v1', sh('trap \'echo "got TERM"; exit 0\' TERM; echo ready; while true; do sleep 1; done'));
    await pushImage(reg, 'test/stubborn', 'v1', sh('trap \'echo "ignoring TERM"\' TERM; echo ready; while true; do sleep 1; done'));
    host = FakeIllumosHost.create({ realRoot: true });
    savedEnv = { PATH: process.env['PATH'], REDDWARF_FAKE_HOST: process.env['REDDWARF_FAKE_HOST'] };
    Object.assign(process.env, host.env());
    dataDir = makeTempDir('reddwarf-workloads-');
    up = await startUp({
      dataDir,
      nodeName: 'zone-host',
      args: ['--runtime', 'illumos', '--image-pulls', 'real', '--insecure-registry', reg.host, '--zonepath-prefix', host.mountpoint('rpool/zones'), '--node-ip', '127.0.0.2', '--supported-brands', 'lx,sparse'],
    });
    k33 = kubectl(up.kubeconfig, { minor: 33, procs: () => [up] });
    k27 = kubectl(up.kubeconfig, { minor: 27, procs: () => [up] });
  });

  after(async () => {
    if (why) return;
    await up?.stop();
    up?.cleanup();
    k33?.cleanup();
    k27?.cleanup();
    host?.dispose();
    await reg?.stop();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
    for (const [name, v] of Object.entries(savedEnv ?? {})) {
      if (v === undefined) delete process.env[name];
      else process.env[name] = v;
    }
  });

  const getPod = async (name: string): Promise<Pod> => {
    const r = await k33.run('get', 'pod', name, '-o', 'json');
    assert.equal(r.code, 0, r.stderr);
    return JSON.parse(r.stdout) as Pod;
  };
  const statuses = (p: Pod, key = 'containerStatuses'): ContainerStatus[] => (p.status?.[key] as ContainerStatus[] | undefined) ?? [];
  const waitFor = async <T>(what: string, name: string, check: (p: Pod) => T | undefined): Promise<T> => {
    let last: Pod | undefined;
    const got = await pollUntil(async () => {
      last = await getPod(name);
      return check(last) ?? undefined;
    }, WAIT_MS, 250);
    assert.ok(got !== undefined, `${what}: pod ${name} is\n${JSON.stringify(last?.status, null, 1)}\n${up.stderrTail(30)}`);
    return got;
  };
  const podYaml = (name: string, containers: string, extra = ''): string => `apiVersion: v1
kind: Pod
metadata:
  name: ${name}
  annotations: {reddwarf.io/zone-brand: lx}
spec:
  terminationGracePeriodSeconds: 5
${extra}  containers:
${containers}`;

  it('runs a crashing image in an lx zone: exit code 3 recorded, restartCount climbs with back-off', { skip: why }, async () => {
    const applied = await k33.run('apply', '-f', k33.file('printer.yaml', podYaml('printer', `  - name: app\n    image: ${image('printer:v1')}\n`)));
    assert.equal(applied.code, 0, applied.stderr);
    const last = await waitFor('a restart after exit 3', 'printer', (p) => {
      const c = statuses(p)[0];
      return c && c.restartCount >= 1 && c.lastState?.['terminated'] ? c : undefined;
    });
    assert.equal(last.lastState?.['terminated']?.['exitCode'], 3);
    assert.equal(last.lastState?.['terminated']?.['reason'], 'Error');
    assert.match(last.imageID, new RegExp(`^${reg.host.replace(/\./g, '\\.')}/test/printer@sha256:[0-9a-f]{64}$`));
    // The zone really is an lx zone installed from the image, with the supervisor as init; the
    // container's root is a clone of the image's top layer chain, not a copy of its own.
    const zone = host.zones()['reddwarf-default-printer'];
    assert.equal(zone?.brand, 'lx');
    assert.match(zone?.text ?? '', /set bootargs="-i \/\.reddwarf\/init"/);
    const clones = Object.entries(host.state().datasets).filter(([n]) => n.startsWith('rpool/zones/reddwarf-default-printer/c-app-'));
    assert.equal(clones.length, 1, `container root datasets: ${JSON.stringify(clones)}`);
    assert.match(clones[0]?.[1].origin ?? '', /^rpool\/images\/[0-9a-f]+@final$/);
    // The supervisor brought up the pod's address on its VNIC before the container started (the
    // simulated host records it in /.reddwarf/network instead of configuring anything).
    const podIP = (await k33.run('get', 'pod', 'printer', '-o', 'jsonpath={.status.podIP}')).stdout;
    const vnic = /set physical=(\S+)/.exec(zone?.text ?? '')?.[1];
    assert.equal(readFileSync(join(host.zoneRoot('reddwarf-default-printer'), '.reddwarf/network'), 'utf8'), `link ${vnic}\naddress ${podIP}/16\ngateway 10.88.0.1\n`);
    // Both streams reach `kubectl logs`, on 1.33 and 1.27; -p shows the instance before.
    for (const k of [k33, k27]) {
      const logs = await k.run('logs', 'printer');
      assert.equal(logs.code, 0, logs.stderr);
      assert.match(logs.stdout, /hello from printer\n/);
      assert.match(logs.stdout, /to stderr\n/);
      const prev = await k.run('logs', '-p', 'printer', '--timestamps');
      assert.equal(prev.code, 0, prev.stderr);
      assert.match(prev.stdout, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+Z hello from printer$/m);
    }
    const events = (await k33.run('get', 'events', '--field-selector', 'involvedObject.name=printer', '-o', 'jsonpath={range .items[*]}{.reason}:{.message}{"\\n"}{end}')).stdout;
    assert.match(events, /Pulling:Pulling image/);
    assert.match(events, /Pulled:Successfully pulled image "[^"]+printer:v1" in [\d.]+s \([\d.]+s including waiting\)\. Image size: \d+ bytes\./);
  });

  it('runs a server, and `kubectl set image` restarts it on the new image', { skip: why }, async () => {
    assert.equal((await k33.run('run', 'web', `--image=${image('server:v1')}`, '--annotations=reddwarf.io/zone-brand=lx')).code, 0);
    const first = await waitFor('web ready', 'web', (p) => (statuses(p)[0]?.ready ? statuses(p)[0] : undefined));
    assert.equal(first.restartCount, 0);
    const set = await k27.run('set', 'image', 'pod/web', `web=${image('server:v2')}`);
    assert.equal(set.code, 0, set.stderr);
    const second = await waitFor('web restarted on v2', 'web', (p) => {
      const c = statuses(p)[0];
      return c && c.restartCount === 1 && c.ready && c.imageID !== first.imageID ? c : undefined;
    });
    assert.equal(second.image, image('server:v2'));
    const logs = await pollUntil(async () => {
      const r = await k33.run('logs', 'web');
      return /server v2 up/.test(r.stdout) ? r.stdout : undefined;
    }, WAIT_MS, 250);
    assert.ok(logs, 'the new instance logs from the new image');
    assert.match((await k27.run('logs', '-p', 'web')).stdout, /server v1 up/);
    const events = (await k33.run('get', 'events', '--field-selector', 'involvedObject.name=web', '-o', 'jsonpath={range .items[*]}{.reason}:{.message}{"\\n"}{end}')).stdout;
    assert.match(events, /Killing:Container web definition changed, will be restarted/);
  });

  it('runs init containers first, then two containers from different images side by side', { skip: why }, async () => {
    const yaml = podYaml('multi', `  - name: a\n    image: ${image('server:v1')}\n  - name: b\n    image: ${image('server:v2')}\n`, `  initContainers:\n  - name: setup\n    image: ${image('once:v1')}\n`);
    assert.equal((await k33.run('apply', '-f', k33.file('multi.yaml', yaml))).code, 0);
    const p = await waitFor('both containers ready', 'multi', (x) => (statuses(x).length === 2 && statuses(x).every((c) => c.ready) ? x : undefined));
    const init = statuses(p, 'initContainerStatuses')[0];
    assert.equal(init?.state['terminated']?.['exitCode'], 0);
    assert.equal(init?.state['terminated']?.['reason'], 'Completed');
    const initDone = Date.parse(String(init?.state['terminated']?.['finishedAt']));
    for (const c of statuses(p)) assert.ok(Date.parse(String(c.state['running']?.['startedAt'])) >= initDone - 1000, `${c.name} started before the init container finished`);
    assert.notEqual(statuses(p)[0]?.imageID, statuses(p)[1]?.imageID);
    const ready = p.status?.conditions?.find((c) => c.type === 'Ready');
    assert.equal(ready?.status, 'True');
    // Logs per container: each from its own image (without -c kubectl picks the first).
    const noName = await k33.run('logs', 'multi');
    assert.match(noName.stdout, /server v1 up/);
    assert.match((await k33.run('logs', 'multi', '-c', 'a')).stdout, /server v1 up/);
    assert.match((await k33.run('logs', 'multi', '-c', 'b')).stdout, /server v2 up/);
    assert.match((await k27.run('logs', 'multi', '-c', 'setup')).stdout, /init ran/);
    const all = await k33.run('logs', 'multi', '--all-containers', '--prefix');
    assert.match(all.stdout, /\[pod\/multi\/a\] server v1 up/);
    assert.match(all.stdout, /\[pod\/multi\/b\] server v2 up/);
  });

  it('tells a missing image and an unreachable registry apart, each within 30 s, and creates nothing on the host', { skip: why }, async () => {
    const closed = await freePort('127.0.0.1');
    const cases = [
      { name: 'missing', image: image('nothere:v1'), message: /not found/ },
      { name: 'baddigest', image: `${image('server')}@sha256:${'0'.repeat(64)}`, message: /not found|manifest unknown/ },
      { name: 'unreachable', image: `127.0.0.1:${closed}/test/server:v1`, message: /unreachable/ },
    ];
    for (const c of cases) assert.equal((await k33.run('run', c.name, `--image=${c.image}`, '--annotations=reddwarf.io/zone-brand=lx')).code, 0);
    for (const c of cases) {
      const waiting = await waitFor(`${c.name} waiting on its image`, c.name, (p) => {
        const w = statuses(p)[0]?.state['waiting'];
        return w && (w['reason'] === 'ErrImagePull' || w['reason'] === 'ImagePullBackOff') ? w : undefined;
      });
      assert.match(String(waiting['message']), c.message, `${c.name}: ${JSON.stringify(waiting)}`);
      assert.equal(host.zones()[`reddwarf-default-${c.name}`], undefined, `${c.name}: a zone was made before its image was there`);
    }
    const events = (await k33.run('get', 'events', '--field-selector', 'involvedObject.name=unreachable', '-o', 'jsonpath={range .items[*]}{.reason}:{.message}{"\\n"}{end}')).stdout;
    assert.match(events, /Failed:Failed to pull image "127\.0\.0\.1:\d+\/test\/server:v1": registry unreachable/);
  });

  it('stops a pod with SIGTERM first, and halts what ignores it only after the grace period', { skip: why }, async () => {
    const polite = podYaml('polite', `  - name: app\n    image: ${image('polite:v1')}\n`).replace('terminationGracePeriodSeconds: 5', 'terminationGracePeriodSeconds: 30');
    const stubborn = podYaml('stubborn', `  - name: app\n    image: ${image('stubborn:v1')}\n`).replace('terminationGracePeriodSeconds: 5', 'terminationGracePeriodSeconds: 4');
    assert.equal((await k33.run('apply', '-f', k33.file('polite.yaml', polite), '-f', k33.file('stubborn.yaml', stubborn))).code, 0);
    for (const name of ['polite', 'stubborn']) await waitFor(`${name} ready`, name, (p) => (statuses(p)[0]?.ready ? true : undefined));
    // The polite container hears SIGTERM (its log says so while it is followed) and the pod goes
    // long before its 30 s grace; the stubborn one is killed with its zone only after its 4 s.
    const follow = k33.run('logs', '-f', 'polite');
    await pollUntil(async () => /ready/.test((await k33.run('logs', 'polite')).stdout), WAIT_MS, 200);
    // Gone within 25 s: the 30 s grace was not waited out.
    assert.equal((await k33.run('delete', 'pod', 'polite', '--wait=true', '--timeout=25s')).code, 0);
    assert.match((await follow).stdout, /got TERM/);
    // Inside its grace the stubborn pod is still there, Terminating, its zone up; then it goes.
    assert.equal((await k33.run('delete', 'pod', 'stubborn', '--wait=false')).code, 0);
    const terminating = await getPod('stubborn');
    assert.ok(terminating.metadata.deletionTimestamp, 'the stubborn pod went at once, without its 4 s grace');
    assert.notEqual(host.zones()['reddwarf-default-stubborn'], undefined, 'the stubborn pod\'s zone went at once, without its 4 s grace');
    assert.equal((await k33.run('wait', '--for=delete', 'pod/stubborn', '--timeout=40s')).code, 0);
    assert.equal(host.zones()['reddwarf-default-stubborn'], undefined);
  });

  it('stops containers with SIGTERM on delete and removes the zone, its clones and its address', { skip: why }, async () => {
    const deleted = await k33.run('delete', 'pod', 'web', '--wait=true', '--timeout=40s');
    assert.equal(deleted.code, 0, deleted.stderr);
    const gone = await pollUntil(() => !host.zones()['reddwarf-default-web'] && !host.datasets().some((d) => d.startsWith('rpool/zones/reddwarf-default-web')), WAIT_MS, 200);
    assert.ok(gone, `zone or datasets left: ${JSON.stringify(host.datasets())}`);
  });
});
