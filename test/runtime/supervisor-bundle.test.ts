// The pod bundle files (the layout of src/runtime/supervisor/bundle.ts) and the supervisor build: cached by hash, one
// compiler run for concurrent callers, a typed error without a compiler.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  logDir, podConf, readStatuses, requestRestart, requestStop, writeBundle, writeContainer, type BundleContainer,
} from '../../src/runtime/supervisor/bundle.ts';
import { isStaticElf } from '../helpers/realzone.ts';
import { buildSupervisor, compileFlags, findCompiler, NO_COMPILER_MESSAGE, SupervisorBuildError } from '../../src/runtime/supervisor/build.ts';

const dirs: string[] = [];
const temp = (p = 'reddwarf-bundle-') => {
  const d = mkdtempSync(join(tmpdir(), p));
  dirs.push(d);
  return d;
};
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const web: BundleContainer = { name: 'web', argv: ['/bin/echo', 'a b', '$X'], env: [['PATH', '/bin'], ['X', 'y=z']], root: '/.reddwarf/containers/web/rootfs', cwd: '/srv', uid: 101, gid: 102 };

describe('pod bundle', () => {
  it('lays out init, pod.conf and each container\'s argv, env, root, cwd, user', async () => {
    const root = temp();
    const bin = join(temp(), 'init');
    writeFileSync(bin, '#!/bin/sh\n');
    mkdirSync(join(root, '.reddwarf/control'), { recursive: true });
    writeFileSync(join(root, '.reddwarf/control/stop'), '30\n');
    mkdirSync(join(root, '.reddwarf/logs/web'), { recursive: true });
    writeFileSync(join(root, '.reddwarf/logs/web/3.log'), 'stale\n');
    await writeBundle(root, { restartPolicy: 'OnFailure', backoffMs: 10_000, logMaxBytes: 10485760, logMaxFiles: 5, initContainers: [{ ...web, name: 'setup' }], containers: [web] }, bin);
    const b = join(root, '.reddwarf');
    assert.equal(statSync(join(b, 'init')).mode & 0o777, 0o755);
    assert.equal(readFileSync(join(b, 'pod.conf'), 'utf8'), 'restartPolicy OnFailure\nbackoffMs 10000\nlogMaxBytes 10485760\nlogMaxFiles 5\ninit setup\ncontainer web\n');
    assert.equal(readFileSync(join(b, 'containers/web/argv'), 'utf8'), '/bin/echo\0a b\0$X\0');
    assert.equal(readFileSync(join(b, 'containers/web/env'), 'utf8'), 'PATH=/bin\0X=y=z\0');
    assert.equal(readFileSync(join(b, 'containers/web/root'), 'utf8'), '/.reddwarf/containers/web/rootfs\n');
    assert.equal(readFileSync(join(b, 'containers/web/cwd'), 'utf8'), '/srv\n');
    assert.equal(readFileSync(join(b, 'containers/web/user'), 'utf8'), '101:102\n');
    assert.deepEqual(readdirSync(join(b, 'control')), [], 'a stop request of an earlier boot is gone');
    assert.deepEqual(readdirSync(join(b, 'logs')), [], 'logs of an earlier boot are gone');
    assert.equal(logDir(root, 'web'), join(b, 'logs/web'));
    assert.equal(podConf({ restartPolicy: 'Always', backoffMs: 0.4, logMaxBytes: 1, logMaxFiles: 0, initContainers: [], containers: [] }), 'restartPolicy Always\nbackoffMs 1\nlogMaxBytes 1\nlogMaxFiles 1\n');
  });

  it('puts the pod\'s network first in pod.conf, and refuses one the supervisor could not configure', () => {
    const b = { restartPolicy: 'Always' as const, backoffMs: 10_000, logMaxBytes: 1, logMaxFiles: 1, initContainers: [], containers: [web] };
    const network = { link: 'rd_default_web_2733004254', address: '10.88.0.2', prefixLen: 16, gateway: '10.88.0.1' };
    assert.equal(podConf({ ...b, network }), 'network rd_default_web_2733004254 10.88.0.2/16 10.88.0.1\nrestartPolicy Always\nbackoffMs 10000\nlogMaxBytes 1\nlogMaxFiles 1\ncontainer web\n');
    assert.throws(() => podConf({ ...b, network: { ...network, link: 'net 0' } }), /invalid link name/);
    assert.throws(() => podConf({ ...b, network: { ...network, address: '10.88.0.256' } }), /address "10.88.0.256" is not an IPv4 address/);
    assert.throws(() => podConf({ ...b, network: { ...network, gateway: '' } }), /gateway/);
    assert.throws(() => podConf({ ...b, network: { ...network, prefixLen: 33 } }), /prefix length 33/);
  });

  it('refuses what the supervisor could not run safely', async () => {
    const root = temp();
    await assert.rejects(writeContainer(root, { ...web, name: '../x' }), /not a DNS label/);
    await assert.rejects(writeContainer(root, { ...web, argv: [] }), /empty argv/);
    await assert.rejects(writeContainer(root, { ...web, argv: ['a\0b'] }), /NUL/);
    await assert.rejects(writeContainer(root, { ...web, env: [['A=B', 'c']] }), /invalid env name/);
    await assert.rejects(writeContainer(root, { ...web, cwd: 'rel' }), /absolute/);
    await assert.rejects(writeContainer(root, { ...web, uid: -1 }), /uid/);
    await assert.rejects(writeBundle(root, { restartPolicy: 'Always', backoffMs: 1, logMaxBytes: 1, logMaxFiles: 1, initContainers: [web], containers: [web] }, '/bin/sh'), /used twice/);
    const many = Array.from({ length: 65 }, (_, i) => ({ ...web, name: `c${i}` }));
    await assert.rejects(writeBundle(root, { restartPolicy: 'Always', backoffMs: 1, logMaxBytes: 1, logMaxFiles: 1, initContainers: [], containers: many }, '/bin/sh'), /at most 64/);
  });

  it('reads statuses in pod.conf order, none for a container never started', async () => {
    const root = temp();
    await writeBundle(root, { restartPolicy: 'Always', backoffMs: 1, logMaxBytes: 1, logMaxFiles: 1, initContainers: [{ ...web, name: 'a' }], containers: [{ ...web, name: 'b' }, { ...web, name: 'c' }] }, '/bin/sh');
    assert.deepEqual(await readStatuses(root), []);
    const c = { name: 'c', instance: 0, restartCount: 0, state: 'running', pid: 7, startedAt: '2026-01-01T00:00:00.000000001Z', last: null };
    const a = { name: 'a', instance: 1, restartCount: 1, state: 'terminated', reason: 'Completed', exitCode: 0, signal: 0, last: { exitCode: 1, signal: 0, startedAt: 's', finishedAt: 'f', reason: 'Error' } };
    writeFileSync(join(root, '.reddwarf/containers/c/status.json'), JSON.stringify(c));
    writeFileSync(join(root, '.reddwarf/containers/a/status.json'), JSON.stringify(a));
    assert.deepEqual(await readStatuses(root), [a, c]);
    assert.deepEqual(await readStatuses(temp()), []);
  });

  it('writes control requests atomically with the grace in seconds', async () => {
    const root = temp();
    await requestStop(root, 30);
    await requestRestart(root, 'web', 2.7);
    const ctl = join(root, '.reddwarf/control');
    assert.deepEqual(readdirSync(ctl).sort(), ['restart-web', 'stop']);
    assert.equal(readFileSync(join(ctl, 'stop'), 'utf8'), '30\n');
    assert.equal(readFileSync(join(ctl, 'restart-web'), 'utf8'), '2\n');
    await assert.rejects(requestRestart(root, 'a/b', 1), /DNS label/);
  });
});

describe('supervisor build', () => {
  it('links statically on Linux only', () => {
    assert.deepEqual(compileFlags('linux'), ['-static', '-O2']);
    assert.deepEqual(compileFlags('sunos'), ['-O2', '-Wl,-z,now']);
    assert.ok(compileFlags('sunos', 'lx').includes('-Wl,-I,/native/usr/lib/ld.so.1'));
    assert.deepEqual(compileFlags('linux', 'lx'), ['-static', '-O2']);
  });

  it('says which package to install when the node has no C compiler', async () => {
    assert.equal(findCompiler({ PATH: '/nonexistent' }), undefined);
    await assert.rejects(buildSupervisor({ dir: temp(), env: { PATH: '/nonexistent' } }), (e: unknown) =>
      e instanceof SupervisorBuildError && e.reason === 'no-compiler' && e.message === NO_COMPILER_MESSAGE);
    await assert.rejects(buildSupervisor({ dir: temp(), env: { PATH: '/usr/bin:/bin', CC: '/nonexistent/cc' } }), (e: unknown) =>
      e instanceof SupervisorBuildError && e.reason === 'no-compiler' && e.message.startsWith(NO_COMPILER_MESSAGE));
  });

  it('compiles once for concurrent callers and caches by source hash; a broken source is a compile-failed error', { skip: findCompiler() ? false : 'no C compiler' }, async () => {
    const dir = temp();
    const tools = temp();
    const counter = join(tools, 'count');
    const cc = join(tools, 'counting-cc');
    writeFileSync(cc, `#!/bin/sh\necho x >> '${counter}'\nexec ${findCompiler()} "$@"\n`, { mode: 0o755 });
    const env = { ...process.env, CC: cc };
    const paths = await Promise.all([1, 2, 3].map(() => buildSupervisor({ dir, env })));
    assert.equal(new Set(paths).size, 1);
    assert.match(paths[0] as string, /\/init-[0-9a-f]{16}$/);
    assert.equal(readFileSync(counter, 'utf8'), 'x\n');
    assert.equal(await buildSupervisor({ dir, env }), paths[0]);
    assert.equal(readFileSync(counter, 'utf8'), 'x\n', 'cached');
    assert.equal(statSync(paths[0] as string).mode & 0o111, 0o111);
    if (process.platform === 'linux') assert.ok(isStaticElf(paths[0] as string), 'statically linked: it runs in any zone root');
    assert.deepEqual(readdirSync(dir).filter((f) => f.endsWith('.tmp')), []);

    const bad = join(tools, 'bad.c');
    writeFileSync(bad, 'int main(void) { return nope; }\n');
    await assert.rejects(buildSupervisor({ dir, env, source: bad }), (e: unknown) => e instanceof SupervisorBuildError && e.reason === 'compile-failed' && /nope/.test(e.message));
  });
});
