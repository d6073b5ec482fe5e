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
  it('prints the commands and zonecfg text of a two-container pod with limits, then of its deletion', async () => {
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

  it('refuses an lx pod without an image before planning anything', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'reddwarf-plan-'));
    try {
      const file = join(dir, 'lx.yaml');
      writeFileSync(file, 'apiVersion: v1\nkind: Pod\nmetadata:\n  name: l\n  annotations:\n    reddwarf.io/zone-brand: lx\nspec:\n  containers:\n  - name: c\n    image: i\n');
      const r = await plan('-f', file);
      assert.equal(r.code, 1);
      assert.equal(r.stdout, '');
      assert.match(r.stderr, /brand lx needs the annotation reddwarf\.io\/lx-image/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
