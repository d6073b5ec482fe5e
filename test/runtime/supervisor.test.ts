// The zone supervisor for real: init.c compiled with the host's cc, booted as a zone's init on the
// simulated illumos host (chroot + PID namespace, as root), running busybox containers. Every
// assertion reads the files the supervisor writes (status.json, CRI logs), polled with deadlines.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FakeIllumosHost } from '../fakes/host.ts';
import { pollUntil } from '../helpers/process.ts';
import { configureZone, realZoneSkipReason, skipLoudly, tool } from '../helpers/realzone.ts';
import { buildSupervisor } from '../../src/runtime/supervisor/build.ts';
import {
  logDir, readStatuses, requestRestart, requestStop, writeBundle, writeContainer, type Bundle, type BundleContainer, type ContainerRuntimeStatus,
} from '../../src/runtime/supervisor/bundle.ts';

const skip = skipLoudly('zone supervisor tests', realZoneSkipReason({ compiler: true }));
const DEADLINE_MS = 20_000;
const CRI_LINE = /^(\S+) (stdout|stderr) (F|P) (.*)$/;

let initBinary = '';
let buildDir = '';
const hosts: FakeIllumosHost[] = [];

function sh(name: string, script: string, more: Partial<BundleContainer> = {}): BundleContainer {
  return { name, argv: ['/bin/sh', '-c', script], env: [['PATH', '/usr/bin:/bin']], root: '/', cwd: '/', uid: 0, gid: 0, ...more };
}

interface Pod {
  host: FakeIllumosHost;
  zone: string;
  root: string;
  status(name: string): Promise<ContainerRuntimeStatus | undefined>;
  waitStatus(name: string, ok: (s: ContainerRuntimeStatus) => boolean, what: string): Promise<ContainerRuntimeStatus>;
  log(name: string, instance?: number): { stream: string; tag: string; text: string; time: string }[];
  waitLog(name: string, text: string, instance?: number): Promise<void>;
}

/** A native zone with the bundle written and the supervisor booted as its init. */
async function startPod(b: Partial<Bundle> & { containers: BundleContainer[] }, prepare?: (root: string) => void): Promise<Pod> {
  const host = FakeIllumosHost.create();
  hosts.push(host);
  const zone = `pod${hosts.length}`;
  await configureZone(host, zone, { brand: 'sparse', bootargs: '-i /.reddwarf/init' });
  await tool(host, ['zoneadm', '-z', zone, 'install']);
  const root = host.zoneRoot(zone);
  prepare?.(root);
  await writeBundle(root, { restartPolicy: 'Always', backoffMs: 100, logMaxBytes: 1 << 20, logMaxFiles: 5, initContainers: [], ...b }, initBinary);
  await tool(host, ['zoneadm', '-z', zone, 'boot']);
  const status = async (name: string) => (await readStatuses(root)).find((s) => s.name === name);
  const log = (name: string, instance?: number) => {
    const dir = logDir(root, name);
    const n = instance ?? Math.max(-1, ...(existsSync(dir) ? readdirSync(dir) : []).map((f) => /^(\d+)\.log$/.exec(f)?.[1]).filter(Boolean).map(Number));
    const path = join(dir, `${n}.log`);
    if (!existsSync(path)) return [];
    return readFileSync(path, 'utf8').split('\n').filter(Boolean).map((l) => {
      const m = CRI_LINE.exec(l);
      assert.ok(m, `not a CRI log line: ${JSON.stringify(l)}`);
      return { time: m[1] as string, stream: m[2] as string, tag: m[3] as string, text: m[4] as string };
    });
  };
  return {
    host, zone, root, status, log,
    async waitStatus(name, ok, what) {
      const s = await pollUntil(async () => { const x = await status(name); return x && ok(x) ? x : undefined; }, DEADLINE_MS, 20);
      assert.ok(s, `${name}: ${what} within ${DEADLINE_MS} ms; last status ${JSON.stringify(await status(name))}; console: ${host.console(zone)}`);
      return s;
    },
    async waitLog(name, text, instance) {
      const ok = await pollUntil(() => log(name, instance).some((l) => l.text === text), DEADLINE_MS, 20);
      assert.ok(ok, `${name}: log line ${JSON.stringify(text)} within ${DEADLINE_MS} ms; log: ${JSON.stringify(log(name, instance))}`);
    },
  };
}

/** Live processes whose root directory is inside `root` (what the fake zoneadm halt kills). */
function processesRootedIn(root: string): number[] {
  return readdirSync('/proc').filter((n) => /^\d+$/.test(n)).filter((n) => {
    try {
      const r = readlinkSync(`/proc/${n}/root`);
      return (r === root || r.startsWith(`${root}/`)) && !/\) Z /.test(readFileSync(`/proc/${n}/stat`, 'utf8'));
    } catch {
      return false;
    }
  }).map(Number);
}

describe('zone supervisor', { skip }, () => {
  before(async () => {
    buildDir = mkdtempSync(join(tmpdir(), 'reddwarf-supervisor-'));
    initBinary = await buildSupervisor({ dir: buildDir });
  });
  after(() => {
    rmSync(buildDir, { recursive: true, force: true });
    FakeIllumosHost.disposeAll(hosts);
  });

  it('writes stdout and stderr as CRI lines with the right streams and parseable RFC3339Nano timestamps', async () => {
    const pod = await startPod({ restartPolicy: 'Never', containers: [sh('c', 'echo out1; echo err1 >&2; echo out2; printf tail')] });
    const s = await pod.waitStatus('c', (x) => x.state === 'terminated', 'terminated');
    assert.equal(s.exitCode, 0);
    assert.equal(s.reason, 'Completed');
    const lines = pod.log('c', 0);
    assert.deepEqual(lines.filter((l) => l.stream === 'stdout').map((l) => [l.tag, l.text]), [['F', 'out1'], ['F', 'out2'], ['P', 'tail']]);
    assert.deepEqual(lines.filter((l) => l.stream === 'stderr').map((l) => [l.tag, l.text]), [['F', 'err1']]);
    for (const l of lines) {
      assert.match(l.time, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z$/);
      const t = Date.parse(l.time);
      assert.ok(Number.isFinite(t) && Math.abs(t - Date.now()) < 600_000, l.time);
    }
    assert.ok(Date.parse(s.startedAt as string) <= Date.parse(s.finishedAt as string));
  });

  it('splits a line longer than 16 KiB into P parts and loses nothing of a burst', async () => {
    const pod = await startPod({
      restartPolicy: 'Never',
      containers: [sh('long', "head -c 40000 /dev/zero | tr '\\0' a; echo"), sh('burst', 'seq 1 20000')],
    });
    await pod.waitStatus('long', (x) => x.state === 'terminated', 'terminated');
    assert.deepEqual(pod.log('long', 0).map((l) => [l.tag, l.text.length]), [['P', 16384], ['P', 16384], ['F', 40000 - 2 * 16384]]);
    assert.ok(pod.log('long', 0).every((l) => /^a*$/.test(l.text)));
    await pod.waitStatus('burst', (x) => x.state === 'terminated', 'terminated');
    const burst = pod.log('burst', 0).map((l) => l.text);
    assert.equal(burst.length, 20000);
    assert.ok(burst.every((t, i) => t === String(i + 1)));
  });

  it('records exit 3, restarts with a doubling back-off under Always, and keeps lastState', async () => {
    const pod = await startPod({ restartPolicy: 'Always', backoffMs: 100, containers: [sh('c', 'echo run; sleep 0.2; exit 3')] });
    // Pair each run's finish (lastState) with the next start, as the statuses go by.
    const gaps = new Map<number, number>();
    const s = await pod.waitStatus('c', (x) => {
      if (x.state === 'running' && x.last) gaps.set(x.instance, Date.parse(x.startedAt as string) - Date.parse(x.last.finishedAt));
      return x.restartCount >= 4;
    }, 'restartCount 4');
    assert.ok(s.last, 'lastState kept');
    assert.equal(s.last.exitCode, 3);
    assert.equal(s.last.reason, 'Error');
    const waiting = await pod.waitStatus('c', (x) => x.state === 'waiting', 'waiting in back-off');
    assert.equal(waiting.reason, 'CrashLoopBackOff');
    assert.equal(waiting.last?.exitCode, 3);
    // Lower bounds only: run k+1 starts no sooner than 100·2^k ms after run k ended.
    for (const [instance, gap] of gaps) assert.ok(gap >= 100 * 2 ** (instance - 1) - 5, `instance ${instance} started ${gap} ms after the last exit`);
    assert.ok(gaps.size >= 2, `saw ${gaps.size} restarts running`);
  });

  it('OnFailure restarts a failing container only; Never restarts nothing', async () => {
    const pod = await startPod({ restartPolicy: 'OnFailure', containers: [sh('ok', 'exit 0'), sh('bad', 'exit 1')] });
    await pod.waitStatus('bad', (x) => x.restartCount >= 2, 'bad restarted twice');
    const ok = await pod.status('ok');
    assert.equal(ok?.state, 'terminated');
    assert.equal(ok?.restartCount, 0);
    assert.equal(ok?.exitCode, 0);

    const never = await startPod({ restartPolicy: 'Never', containers: [sh('bad', 'exit 1'), sh('killed', 'kill -9 $$')] });
    const bad = await never.waitStatus('bad', (x) => x.state === 'terminated', 'terminated');
    assert.deepEqual([bad.exitCode, bad.reason, bad.restartCount, bad.last], [1, 'Error', 0, null]);
    const killed = await never.waitStatus('killed', (x) => x.state === 'terminated', 'terminated');
    assert.deepEqual([killed.exitCode, killed.signal, killed.reason], [137, 9, 'Error']);
  });

  it('runs init containers first, in order, and a failing one blocks the app containers', async () => {
    const pod = await startPod({
      initContainers: [sh('i1', 'echo i1 >> /tmp/order'), sh('i2', 'echo i2 >> /tmp/order')],
      containers: [sh('app', 'echo app >> /tmp/order; exec sleep 1000')],
    });
    await pod.waitStatus('app', (x) => x.state === 'running', 'app running');
    await pollUntil(() => readFileSync(join(pod.root, 'tmp/order'), 'utf8').includes('app'), DEADLINE_MS, 20);
    assert.equal(readFileSync(join(pod.root, 'tmp/order'), 'utf8'), 'i1\ni2\napp\n');
    assert.equal((await pod.status('i1'))?.reason, 'Completed');

    const never = await startPod({ restartPolicy: 'Never', initContainers: [sh('i1', 'exit 2'), sh('i2', 'true')], containers: [sh('app', 'true')] });
    const i1 = await never.waitStatus('i1', (x) => x.state === 'terminated', 'terminated');
    assert.equal(i1.exitCode, 2);
    assert.equal(await never.status('i2'), undefined);
    assert.equal(await never.status('app'), undefined);

    // Under Always an init container is retried (back-off) until it succeeds; the apps wait.
    const retry = await startPod({ restartPolicy: 'Always', initContainers: [sh('i1', 'exit 2')], containers: [sh('app', 'true')] });
    const r = await retry.waitStatus('i1', (x) => x.restartCount >= 2 && x.state === 'waiting', 'retried');
    assert.equal(r.reason, 'CrashLoopBackOff');
    assert.equal(await retry.status('app'), undefined);
  });

  it('passes argv to execve exactly: spaces, quotes, $ and globs reach the program unchanged', async () => {
    const args = ['a b', "it's", '"q"', '$HOME', '$(x)', '*', ' lead', 'tab\there', ''];
    const pod = await startPod({ restartPolicy: 'Never', containers: [{ ...sh('c', ''), argv: ['/bin/sh', '-c', 'for a in "$@"; do echo "[$a]"; done', 'sh', ...args] }] });
    await pod.waitStatus('c', (x) => x.state === 'terminated', 'terminated');
    assert.deepEqual(pod.log('c', 0).map((l) => l.text), args.map((a) => `[${a}]`));
  });

  it('applies env, cwd (created when missing) and uid/gid', async () => {
    const pod = await startPod({
      restartPolicy: 'Never',
      containers: [sh('c', 'id -u; id -g; id -G; pwd; env', { env: [['PATH', '/bin'], ['FOO', 'a b=c'], ['EMPTY', '']], cwd: '/tmp/work/dir', uid: 1234, gid: 5678 })],
    });
    await pod.waitStatus('c', (x) => x.state === 'terminated', 'terminated');
    const out = pod.log('c', 0).map((l) => l.text);
    assert.deepEqual(out.slice(0, 4), ['1234', '5678', '5678', '/tmp/work/dir']);
    const env = out.slice(4).filter((l) => !/^(PWD|SHLVL|_)=/.test(l)).sort();
    // HOME as runc sets it when the env has none: from the root's /etc/passwd, else /.
    assert.deepEqual(env, ['EMPTY=', 'FOO=a b=c', 'HOME=/', 'PATH=/bin']);
  });

  it('sets HOME from /etc/passwd unless the env has one', async () => {
    const pod = await startPod({ restartPolicy: 'Never', containers: [sh('root', 'echo $HOME'), sh('own', 'echo $HOME', { env: [['HOME', '/srv']] })] });
    await pod.waitStatus('root', (x) => x.state === 'terminated', 'terminated');
    await pod.waitStatus('own', (x) => x.state === 'terminated', 'terminated');
    assert.deepEqual(pod.log('root', 0).map((l) => l.text), ['/root']);
    assert.deepEqual(pod.log('own', 0).map((l) => l.text), ['/srv']);
  });

  it('runs a container in its own root, searching PATH there; a missing program exits 127 with runc\'s message', async () => {
    const rootfs = (root: string) => {
      const r = join(root, '.reddwarf/containers/c/rootfs');
      mkdirSync(join(r, 'bin'), { recursive: true });
      copyFileSync('/bin/busybox', join(r, 'bin/busybox'));
      for (const a of ['echo', 'cat', 'sh']) symlinkSync('busybox', join(r, 'bin', a));
      mkdirSync(join(r, 'etc'));
      writeFileSync(join(r, 'etc/marker'), 'only in this root\n');
    };
    const pod = await startPod({
      restartPolicy: 'Never',
      containers: [
        { name: 'c', argv: ['sh', '-c', 'echo hi; cat /etc/marker; [ ! -e /usr/bin/busybox ] && echo own-root'], env: [['PATH', '/bin']], root: '/.reddwarf/containers/c/rootfs', cwd: '/', uid: 0, gid: 0 },
        { name: 'missing', argv: ['nosuch-program', 'x'], env: [['PATH', '/bin:/usr/bin']], root: '/', cwd: '/', uid: 0, gid: 0 },
      ],
    }, rootfs);
    await pod.waitStatus('c', (x) => x.state === 'terminated', 'terminated');
    const out = pod.log('c', 0).map((l) => l.text);
    assert.deepEqual(out, ['hi', 'only in this root', 'own-root']);
    const m = await pod.waitStatus('missing', (x) => x.state === 'terminated', 'terminated');
    assert.equal(m.exitCode, 127);
    const err = pod.log('missing', 0).filter((l) => l.stream === 'stderr').map((l) => l.text);
    assert.deepEqual(err, ['exec failed: unable to start container process: exec: "nosuch-program": executable file not found in $PATH']);
  });

  it('stop: SIGTERM reaches the containers, one ignoring it is killed after the grace, nothing restarts', async () => {
    const pod = await startPod({
      restartPolicy: 'Always',
      containers: [
        sh('polite', "trap 'echo got TERM; exit 0' TERM; echo ready; while true; do sleep 0.05; done"),
        sh('stubborn', "trap '' TERM; echo ready; while true; do sleep 0.05; done"),
      ],
    });
    await pod.waitLog('polite', 'ready', 0);
    await pod.waitLog('stubborn', 'ready', 0);
    await requestStop(pod.root, 3);
    const polite = await pod.waitStatus('polite', (x) => x.state === 'terminated', 'terminated');
    assert.equal(polite.exitCode, 0);
    // Inside its 3 s grace the one that ignored TERM still runs; after it, it is killed.
    assert.equal((await pod.status('stubborn'))?.state, 'running', 'the stubborn container was killed inside its grace');
    await pod.waitLog('polite', 'got TERM', 0);
    const stubborn = await pod.waitStatus('stubborn', (x) => x.state === 'terminated', 'terminated');
    assert.deepEqual([stubborn.exitCode, stubborn.signal], [137, 9]);
    assert.equal(polite.restartCount, 0);
    assert.equal((await pod.status('stubborn'))?.restartCount, 0);
  });

  it('stop turns a container waiting in back-off into terminated with its last exit', async () => {
    const pod = await startPod({ restartPolicy: 'Always', backoffMs: 60_000, containers: [sh('crash', 'exit 4')] });
    await pod.waitStatus('crash', (x) => x.state === 'waiting', 'waiting');
    await requestStop(pod.root, 1);
    const s = await pod.waitStatus('crash', (x) => x.state === 'terminated', 'terminated');
    assert.deepEqual([s.exitCode, s.reason, s.restartCount], [4, 'Error', 0]);
  });

  it('SIGTERM to the supervisor stops the containers as a stop request does', async () => {
    const pod = await startPod({ containers: [sh('polite', "trap 'echo got TERM; exit 0' TERM; echo ready; while true; do sleep 0.05; done")] });
    await pod.waitLog('polite', 'ready', 0);
    const init = pod.host.zones()[pod.zone]?.init;
    assert.ok(init);
    // With namespaces the supervisor is the namespace's init, the child of unshare --fork; else it is the chroot'd process itself.
    const supervisor = init.namespaces ? Number(readFileSync(`/proc/${init.pid}/task/${init.pid}/children`, 'utf8').trim().split(/\s+/)[0]) : init.pid;
    process.kill(supervisor, 'SIGTERM');
    const s = await pod.waitStatus('polite', (x) => x.state === 'terminated', 'terminated');
    assert.equal(s.exitCode, 0);
    await pod.waitLog('polite', 'got TERM', 0);
  });

  it('restart-<name> with a changed argv starts a new instance running the new argv', async () => {
    const pod = await startPod({ containers: [sh('c', 'echo v1; while true; do sleep 0.05; done')] });
    await pod.waitLog('c', 'v1', 0);
    await writeContainer(pod.root, sh('c', 'echo v2; while true; do sleep 0.05; done'));
    await requestRestart(pod.root, 'c', 5);
    const s = await pod.waitStatus('c', (x) => x.instance === 1 && x.state === 'running', 'instance 1 running');
    assert.equal(s.restartCount, 1);
    assert.equal(s.last?.signal, 15);
    await pod.waitLog('c', 'v2', 1);
    assert.deepEqual(pod.log('c', 0).map((l) => l.text), ['v1']);
    assert.ok(!existsSync(join(pod.root, '.reddwarf/control/restart-c')), 'the request file is consumed');
  });

  it('a container in its own root gets /dev and /proc bound in, and a restart onto a new root releases the old one', async () => {
    const rootfs = (root: string, name: string) => {
      const r = join(root, '.reddwarf/containers/c', name);
      mkdirSync(join(r, 'bin'), { recursive: true });
      copyFileSync('/bin/busybox', join(r, 'bin/busybox'));
      for (const a of ['sh', 'echo', 'sleep', 'cat', 'ls']) symlinkSync('busybox', join(r, 'bin', a));
      return `/.reddwarf/containers/c/${name}`;
    };
    let a = '';
    let b = '';
    const c = (root: string, msg: string): BundleContainer => ({ name: 'c', argv: ['sh', '-c', `echo ${msg} > /dev/null && echo ${msg}; while true; do sleep 0.05; done`], env: [['PATH', '/bin']], root, cwd: '/', uid: 0, gid: 0 });
    const pod = await startPod({ containers: [c('/', 'on-zone')] }, (root) => {
      a = rootfs(root, 'rootfs-a');
      b = rootfs(root, 'rootfs-b');
    });
    await pod.waitLog('c', 'on-zone', 0);
    await writeContainer(pod.root, c(a, 'on-a'));
    await requestRestart(pod.root, 'c', 5);
    await pod.waitLog('c', 'on-a', 1);
    const init = pod.host.zones()[pod.zone]?.init;
    assert.ok(init);
    const supervisor = init.namespaces ? Number(readFileSync(`/proc/${init.pid}/task/${init.pid}/children`, 'utf8').trim().split(/\s+/)[0]) : init.pid;
    const mounted = () => readFileSync(`/proc/${supervisor}/mounts`, 'utf8').split('\n').map((l) => l.split(' ')[1]).filter((p) => p?.startsWith('/.reddwarf/'));
    assert.deepEqual(mounted().sort(), [`${a}/dev`, `${a}/proc`]);
    await writeContainer(pod.root, c(b, 'on-b'));
    await requestRestart(pod.root, 'c', 5);
    await pod.waitLog('c', 'on-b', 2);
    assert.deepEqual(mounted().sort(), [`${b}/dev`, `${b}/proc`]);
  });

  it('rotates a log at logMaxBytes keeping at most logMaxFiles files, and keeps only the current and previous instance', async () => {
    const line = 'x'.repeat(40);
    const pod = await startPod({
      restartPolicy: 'Never', logMaxBytes: 1000, logMaxFiles: 3,
      containers: [sh('c', `i=0; while [ $i -lt 200 ]; do i=$((i+1)); echo "$i ${line}"; done`)],
    });
    await pod.waitStatus('c', (x) => x.state === 'terminated', 'terminated');
    const files = readdirSync(logDir(pod.root, 'c')).sort();
    assert.deepEqual(files, ['0.log', '0.log.1', '0.log.2']);
    for (const f of files) assert.ok(statSync(join(logDir(pod.root, 'c'), f)).size <= 1000, `${f} at most logMaxBytes`);
    const kept = ['0.log.2', '0.log.1', '0.log'].flatMap((f) => readFileSync(join(logDir(pod.root, 'c'), f), 'utf8').split('\n').filter(Boolean));
    const numbers = kept.map((l) => Number(CRI_LINE.exec(l)?.[4]?.split(' ')[0]));
    assert.equal(numbers.at(-1), 200);
    numbers.forEach((n, i) => assert.equal(n, 200 - numbers.length + 1 + i, 'contiguous up to the last line'));

    const crashing = await startPod({ restartPolicy: 'Always', containers: [sh('c', 'echo once; exit 1')] });
    await crashing.waitStatus('c', (x) => x.restartCount >= 3, 'restartCount 3');
    const ok = await pollUntil(async () => {
      const before = (await crashing.status('c'))?.instance;
      const instances = readdirSync(logDir(crashing.root, 'c')).map((f) => Number(/^(\d+)\.log/.exec(f)?.[1]));
      const after = (await crashing.status('c'))?.instance;
      return before === after && before !== undefined && instances.every((n) => n === before || n === before - 1) && instances.includes(before - 1) ? true : undefined;
    }, DEADLINE_MS, 20);
    assert.ok(ok, `logs: ${readdirSync(logDir(crashing.root, 'c'))}`);
  });

  it('records the pod\'s network in /.reddwarf/network before the first container starts', async () => {
    const network = { link: 'rd_default_web_1', address: '10.88.0.7', prefixLen: 16, gateway: '10.88.0.1' };
    const pod = await startPod({ network, restartPolicy: 'Never', initContainers: [sh('setup', 'cat /.reddwarf/network')], containers: [sh('c', 'echo up')] });
    const s = await pod.waitStatus('setup', (x) => x.state === 'terminated', 'terminated');
    const file = join(pod.root, '.reddwarf/network');
    assert.equal(readFileSync(file, 'utf8'), 'link rd_default_web_1\naddress 10.88.0.7/16\ngateway 10.88.0.1\n');
    assert.deepEqual(pod.log('setup', 0).map((l) => l.text), ['link rd_default_web_1', 'address 10.88.0.7/16', 'gateway 10.88.0.1'], 'the first container saw it');
    assert.ok(Date.parse(s.startedAt as string) >= Math.floor(statSync(file).mtimeMs), 'written before the first start');
    await pod.waitLog('c', 'up', 0);
  });

  it('without its network no container starts: each waits with NetworkNotReady, and starts once a retry succeeds', async () => {
    const network = { link: 'net0', address: '10.88.0.8', prefixLen: 24, gateway: '10.88.0.1' };
    // A directory where the record goes makes recording (the simulated host's configuring) fail.
    const blocker = (root: string) => mkdirSync(join(root, '.reddwarf/network/x'), { recursive: true });
    const pod = await startPod({ network, backoffMs: 100, initContainers: [sh('setup', 'echo setup')], containers: [sh('c', 'echo up; exec sleep 1000')] }, blocker);
    for (const name of ['setup', 'c']) {
      const w = await pod.waitStatus(name, (x) => x.state === 'waiting', 'waiting');
      assert.equal(w.reason, 'NetworkNotReady');
      assert.match(w.message ?? '', /^network is not ready: recording \/\.reddwarf\/network: /);
      assert.equal(w.restartCount, 0);
    }
    assert.ok(!existsSync(logDir(pod.root, 'c')) || readdirSync(logDir(pod.root, 'c')).length === 0, 'nothing ran');
    assert.match(pod.host.console(pod.zone), /network: recording \/\.reddwarf\/network: .*NetworkNotReady/);
    rmSync(join(pod.root, '.reddwarf/network'), { recursive: true });
    const up = await pod.waitStatus('c', (x) => x.state === 'running', 'running once the network is up');
    assert.equal(up.restartCount, 0);
    assert.equal(up.instance, 0);
    await pod.waitLog('setup', 'setup', 0);
    assert.match(readFileSync(join(pod.root, '.reddwarf/network'), 'utf8'), /^link net0\naddress 10\.88\.0\.8\/24\n/);
  });

  it('halting the zone kills the supervisor and every container process', async () => {
    const pod = await startPod({ containers: [sh('c', 'echo up; sleep 1000 & exec sleep 1000')] });
    await pod.waitLog('c', 'up', 0);
    await tool(pod.host, ['zoneadm', '-z', pod.zone, 'halt']);
    assert.deepEqual(processesRootedIn(pod.root), []);
    assert.match(await tool(pod.host, ['zoneadm', '-z', pod.zone, 'list', '-p']), /:installed:/);
  });
});
