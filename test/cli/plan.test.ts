// `reddwarf plan`: the illumos commands and zonecfg text for a pod, checked against a fixture.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PassThrough } from 'node:stream';
import { Cli } from 'clipanion';
import { PlanCommand } from '../../src/cli/commands/plan.ts';

const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), 'fixtures');

async function plan(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const cli = new Cli({ binaryName: 'reddwarf' });
  cli.register(PlanCommand);
  const out = new PassThrough();
  const err = new PassThrough();
  let stdout = '';
  let stderr = '';
  out.on('data', (d: Buffer) => (stdout += d.toString()));
  err.on('data', (d: Buffer) => (stderr += d.toString()));
  const code = await cli.run(['plan', ...args], { stdout: out, stderr: err });
  return { code, stdout, stderr };
}

describe('reddwarf plan', () => {
  it('prints the commands, zonecfg text and supervisor bundle of a two-container pod with limits, then of its deletion', async () => {
    const r = await plan('-f', join(FIXTURES, 'plan-pod.yaml'));
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, readFileSync(join(FIXTURES, 'plan-pod.expected.txt'), 'utf8'));
  });

  it('follows the node flags: pool, datasets, direct NIC, pod CIDR', async () => {
    const r = await plan('-f', join(FIXTURES, 'plan-pod.yaml'), '--storage-pool', 'tank', '--zones-dataset', 'tank/z', '--direct-nic', 'ixgbe0', '--pod-cidr', '192.168.10.0/24');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^zfs create -p tank\/z$/m);
    assert.match(r.stdout, /^zfs create -p tank\/volumes$/m);
    assert.match(r.stdout, /^dladm show-link -p -o link,class,over ixgbe0$/m);
    assert.doesNotMatch(r.stdout, /create-etherstub/);
    assert.match(r.stdout, /^dladm create-vnic -l ixgbe0 rd_default_web_\d{10}$/m);
    assert.match(r.stdout, /# {3}set zonepath=\/tank\/z\/reddwarf-default-web/);
    assert.match(r.stdout, /# {3}set allowed-address=192\.168\.10\.2\/24\n# {3}set defrouter=192\.168\.10\.1/);
  });

  it('plans an lx pod: installed from its first image, supervisor as init, the bundle with expanded env, argv, cwd, user and a container root per image', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'reddwarf-plan-'));
    try {
      const file = join(dir, 'lx.yaml');
      writeFileSync(file, [
        'apiVersion: v1', 'kind: Pod', 'metadata:', '  name: l', '  annotations:', '    reddwarf.io/zone-brand: lx', 'spec:', '  restartPolicy: OnFailure',
        '  initContainers:', '  - name: setup', '    image: busybox:1.36', '    command: [sh, -c, "echo a b > /x"]',
        '  containers:', '  - name: c', '    image: registry.example:5000/team/app:v2', '    args: [--port, "$(PORT)"]', '    workingDir: /srv', '    securityContext: {runAsUser: 1000}',
        '    env:', '    - {name: MODE, value: "two words"}', '    - {name: PORT, value: "8080"}', '    - {name: IP, valueFrom: {fieldRef: {fieldPath: status.podIP}}}', '',
      ].join('\n'));
      const r = await plan('-f', file);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /^# {3}<image1> stands for the top layer chain of busybox:1\.36/m);
      assert.match(r.stdout, /^# {3}<image2> stands for the top layer chain of registry\.example:5000\/team\/app:v2/m);
      assert.match(r.stdout, /# {3}set brand=lx\n# {3}set zonepath=\S+\n# {3}set ip-type=exclusive\n# {3}set bootargs="-i \/\.reddwarf\/init"\n# {3}set max-lwps=10000\n/);
      assert.match(r.stdout, /# {3}add attr\n# {3}set name=kernel-version\n# {3}set type=string\n# {3}set value=4\.4\n# {3}end/);
      assert.match(r.stdout, /^zoneadm -z reddwarf-default-l install -s 'rpool\/images\/<image1>@final'$/m);
      assert.match(r.stdout, /^zfs clone -o 'mountpoint=\/rpool\/zones\/reddwarf-default-l\/root\/\.reddwarf\/containers\/c\/<image2>' 'rpool\/images\/<image2>@final' 'rpool\/zones\/reddwarf-default-l\/c-c-<image2>'$/m);
      const bundle = r.stdout.slice(r.stdout.indexOf("# write the zone supervisor's bundle"), r.stdout.indexOf('\nzoneadm -z reddwarf-default-l boot'));
      assert.equal(bundle, [
        "# write the zone supervisor's bundle into /rpool/zones/reddwarf-default-l/root/.reddwarf/ (files, not commands):",
        '#   init      <- <data-dir>/supervisor/init-<hash>, the lx build (ld.so.1 and libraries from /native) (src/runtime/supervisor/init.c, built with the node\'s C compiler; zone init by bootargs -i)',
        '#   pod.conf:',
        '#     network rd_default_l_' + /rd_default_l_(\d+)/.exec(r.stdout)?.[1] + ' 10.88.0.2/16 10.88.0.1',
        '#     restartPolicy OnFailure',
        '#     backoffMs 10000',
        '#     logMaxBytes 10485760',
        '#     logMaxFiles 5',
        '#     init setup',
        '#     container c',
        '#   containers/setup/  (init container)',
        "#     argv  sh -c 'echo a b > /x'",
        '#     env   HOSTNAME=l',
        '#     root  /.reddwarf/containers/setup/<image1> (a clone of busybox:1.36 (<image1>))',
        '#     cwd   /',
        '#     user  0:0',
        '#   containers/c/  (container)',
        '#     argv  <Entrypoint of registry.example:5000/team/app:v2> --port 8080',
        "#     env   HOSTNAME=l 'MODE=two words' PORT=8080 IP=10.88.0.2",
        '#     root  /.reddwarf/containers/c/<image2> (a clone of registry.example:5000/team/app:v2 (<image2>))',
        '#     cwd   /srv',
        '#     user  1000:0',
        '#   control/, logs/  (empty: requests to the supervisor; CRI logs logs/<container>/<instance>.log)',
      ].join('\n'));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses an lx pod without an image, or a container the agent could not start, before planning anything', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'reddwarf-plan-'));
    try {
      const file = join(dir, 'lx.yaml');
      writeFileSync(file, 'apiVersion: v1\nkind: Pod\nmetadata:\n  name: l\n  annotations:\n    reddwarf.io/zone-brand: lx\nspec:\n  containers:\n  - name: c\n    command: [/bin/true]\n');
      const r = await plan('-f', file);
      assert.equal(r.code, 1);
      assert.equal(r.stdout, '');
      assert.match(r.stderr, /brand lx installs from a container image or the annotation reddwarf\.io\/lx-image/);
      // What the agent could not start either (CreateContainerConfigError) is refused the same way.
      writeFileSync(file, 'apiVersion: v1\nkind: Pod\nmetadata:\n  name: s\nspec:\n  containers:\n  - name: c\n    image: i\n    env:\n    - {name: P, valueFrom: {secretKeyRef: {name: s, key: k}}}\n');
      const bad = await plan('-f', file);
      assert.equal(bad.code, 1);
      assert.equal(bad.stdout, '');
      assert.equal(bad.stderr, 'pod default/s: container c: env P: only valueFrom.fieldRef is supported\n');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
