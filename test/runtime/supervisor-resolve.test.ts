// What a container runs: Kubernetes' command/args table, kubelet's $(VAR) expansion, the env
// merge with the image's, fieldRefs, and the user from securityContext or the image.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ContainerConfigError, expand, resolveArgv, resolveEnv, resolveUser, type PodContext } from '../../src/runtime/supervisor/bundle.ts';

const image = { entrypoint: ['/ep-1'], cmd: ['foo', 'bar'] };
const pod: PodContext = { name: 'web', namespace: 'default', uid: '1234-uid', nodeName: 'n1', podIP: '10.88.1.5', hostIP: '192.0.2.1', labels: { app: 'web' } };

describe('resolveArgv: the table in kubernetes.io define-command-argument-container#notes', () => {
  const rows: [string, { command?: string[]; args?: string[] }, string[]][] = [
    ['neither: Entrypoint + Cmd', {}, ['/ep-1', 'foo', 'bar']],
    ['command only: the image Cmd is ignored', { command: ['/ep-2'] }, ['/ep-2']],
    ['args only: Entrypoint + args', { args: ['zoo', 'boo'] }, ['/ep-1', 'zoo', 'boo']],
    ['both: command + args', { command: ['/ep-2'], args: ['zoo', 'boo'] }, ['/ep-2', 'zoo', 'boo']],
    ['empty lists count as not set', { command: [], args: [] }, ['/ep-1', 'foo', 'bar']],
  ];
  for (const [what, c, want] of rows) it(what, () => assert.deepEqual(resolveArgv({ name: 'c', ...c }, image), want));

  it('an image without Entrypoint runs Cmd, or args in its place', () => {
    assert.deepEqual(resolveArgv({ name: 'c' }, { cmd: ['sh'] }), ['sh']);
    assert.deepEqual(resolveArgv({ name: 'c', args: ['echo', 'hi'] }, { cmd: ['sh'] }), ['echo', 'hi']);
  });

  it('refuses a container with nothing to run', () => {
    assert.throws(() => resolveArgv({ name: 'c' }, {}), (e: unknown) => e instanceof ContainerConfigError && /no command specified/.test(e.message));
  });

  it('expands $(VAR) in command and args from the container env only, never re-splitting', () => {
    const c = {
      name: 'c', command: ['/bin/$(PROG)'], args: ['$(MSG)', '$(PATH)', '$$(MSG)', '$(UNSET)'],
      env: [{ name: 'PROG', value: 'echo' }, { name: 'MSG', value: 'a b $x' }],
    };
    // PATH comes from the image, which kubelet's expansion does not see.
    assert.deepEqual(resolveArgv(c, { env: ['PATH=/bin'] }), ['/bin/echo', 'a b $x', '$(PATH)', '$(MSG)', '$(UNSET)']);
  });
});

describe('expand: kubelet third_party/forked/golang/expansion', () => {
  const vars: Record<string, string> = { VAR_A: 'A', VAR_B: 'B', VAR_EMPTY: '' };
  const cases: [string, string][] = [
    ['$(VAR_A)', 'A'],
    ['___$(VAR_B)___', '___B___'],
    ['$(VAR_A)-$(VAR_A)', 'A-A'],
    ['$(VAR_DNE)', '$(VAR_DNE)'],
    ['$(VAR_EMPTY)', ''],
    ['$$(VAR_B)', '$(VAR_B)'],
    ['$$$(VAR_A)', '$A'],
    ['$$$$(VAR_A)', '$$(VAR_A)'],
    ['f000-$$VAR_A', 'f000-$VAR_A'],
    ['$VAR_A', '$VAR_A'],
    ['$(VAR_A', '$(VAR_A'],
    ['$(VAR_A$(VAR_B)', '$(VAR_A$(VAR_B)'],
    ['$', '$'],
    ['foo$', 'foo$'],
    ['$(VAR_A)$', 'A$'],
    ['$()', '$()'],
    ['$(VAR_A)(VAR_B)', 'A(VAR_B)'],
    ['no vars', 'no vars'],
    ['', ''],
  ];
  for (const [input, want] of cases) it(`${JSON.stringify(input)} → ${JSON.stringify(want)}`, () => assert.equal(expand(input, (n) => vars[n]), want));
});

describe('resolveEnv', () => {
  it('puts HOSTNAME, then the image Env, then the container env replacing same names in place', () => {
    const env = resolveEnv(
      { name: 'c', env: [{ name: 'X', value: '2' }, { name: 'Y', value: 'y=$(X)' }] },
      { env: ['PATH=/usr/bin:/bin', 'X=1', 'Z=z=z'] },
      { ...pod, hostname: 'web' },
    );
    assert.deepEqual(env, [['HOSTNAME', 'web'], ['PATH', '/usr/bin:/bin'], ['X', '2'], ['Z', 'z=z'], ['Y', 'y=2']]);
  });

  it('expands a value only against variables defined before it', () => {
    const env = resolveEnv({ name: 'c', env: [{ name: 'A', value: 'a' }, { name: 'B', value: '$(A)-$(C)' }, { name: 'C', value: 'c' }, { name: 'D', value: '$$(A)' }] });
    assert.deepEqual(env, [['A', 'a'], ['B', 'a-$(C)'], ['C', 'c'], ['D', '$(A)']]);
  });

  it('fills valueFrom.fieldRef from the pod, usable in later $(VAR) and in args', () => {
    const fields = ['metadata.name', 'metadata.namespace', 'metadata.uid', 'status.podIP', 'spec.nodeName', 'status.hostIP', "metadata.labels['app']"];
    const c = {
      name: 'c',
      env: [...fields.map((f, i) => ({ name: `F${i}`, valueFrom: { fieldRef: { fieldPath: f } } })), { name: 'URL', value: 'http://$(F3):80' }],
      args: ['$(F0)'],
    };
    const env = resolveEnv(c, {}, pod);
    assert.deepEqual(env.map(([, v]) => v), ['web', 'default', '1234-uid', '10.88.1.5', 'n1', '192.0.2.1', 'web', 'http://10.88.1.5:80']);
    assert.deepEqual(resolveArgv(c, { entrypoint: ['/x'] }, pod), ['/x', 'web']);
  });

  it('refuses fieldRefs and valueFrom kinds it cannot fill', () => {
    assert.throws(() => resolveEnv({ name: 'c', env: [{ name: 'X', valueFrom: { fieldRef: { fieldPath: 'spec.nope' } } }] }, {}, pod), ContainerConfigError);
    assert.throws(() => resolveEnv({ name: 'c', env: [{ name: 'X', valueFrom: { secretKeyRef: { name: 's', key: 'k' } } }] }, {}, pod), /only valueFrom.fieldRef/);
  });
});

describe('resolveUser', () => {
  const withRoot = async (fn: (root: string) => Promise<void>) => {
    const root = mkdtempSync(join(tmpdir(), 'reddwarf-rootfs-'));
    try {
      mkdirSync(join(root, 'etc'));
      writeFileSync(join(root, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/sh\nnginx:x:101:102:nginx:/nonexistent:/bin/false\nnumbered:x:1000:1001::/home/n:/bin/sh\n');
      writeFileSync(join(root, 'etc/group'), 'root:x:0:\nnginx:x:102:\nwww-data:x:33:\n');
      await fn(root);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  };

  it('takes the image user: empty → root; uid; uid:gid; name (primary group); name:group', () => withRoot(async (root) => {
    const u = (user?: string) => resolveUser({ name: 'c' }, { user }, root);
    assert.deepEqual(await u(undefined), { uid: 0, gid: 0 });
    assert.deepEqual(await u('1000'), { uid: 1000, gid: 1001 });
    assert.deepEqual(await u('4242'), { uid: 4242, gid: 0 });
    assert.deepEqual(await u('5:6'), { uid: 5, gid: 6 });
    assert.deepEqual(await u('nginx'), { uid: 101, gid: 102 });
    assert.deepEqual(await u('nginx:www-data'), { uid: 101, gid: 33 });
    assert.deepEqual(await u('1000:www-data'), { uid: 1000, gid: 33 });
    await assert.rejects(u('nobody-here'), (e: unknown) => e instanceof ContainerConfigError && /unable to find user nobody-here/.test(e.message));
    await assert.rejects(u('nginx:nogroup'), /unable to find group nogroup/);
  }));

  it('securityContext wins over the image: the container level over the pod level, runAsGroup over any group', () => withRoot(async (root) => {
    const img = { user: 'nginx' };
    assert.deepEqual(await resolveUser({ name: 'c', securityContext: { runAsUser: 1000 } }, img, root), { uid: 1000, gid: 1001 });
    assert.deepEqual(await resolveUser({ name: 'c', securityContext: { runAsUser: 7 } }, img, root), { uid: 7, gid: 0 });
    assert.deepEqual(await resolveUser({ name: 'c', securityContext: { runAsGroup: 9 } }, img, root), { uid: 101, gid: 9 });
    const p = { ...pod, securityContext: { runAsUser: 2000, runAsGroup: 3000 } };
    assert.deepEqual(await resolveUser({ name: 'c' }, img, root, p), { uid: 2000, gid: 3000 });
    assert.deepEqual(await resolveUser({ name: 'c', securityContext: { runAsUser: 5 } }, img, root, p), { uid: 5, gid: 3000 });
  }));

  it('does not follow an /etc/passwd symlink out of the container root', () => withRoot(async (root) => {
    rmSync(join(root, 'etc/passwd'));
    symlinkSync('/etc/passwd', join(root, 'etc/passwd'));
    await assert.rejects(resolveUser({ name: 'c' }, { user: 'root' }, root), /unable to find user root/);
  }));
});
