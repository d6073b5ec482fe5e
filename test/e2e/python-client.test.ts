// End to end: the official Python client (Debian's python3-kubernetes, under /usr/bin/python3)
// against a spawned `reddwarf serve`: list, create, a watch stream (ADDED/MODIFIED/DELETED), delete.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { REPO_ROOT, startServe } from '../helpers/process.ts';

const PYTHON = process.env['REDDWARF_E2E_PYTHON'] || '/usr/bin/python3';

function moduleMissing(): string | undefined {
  try {
    execFileSync(PYTHON, ['-c', 'import kubernetes'], { stdio: 'pipe', timeout: 20_000 });
    return undefined;
  } catch (e) {
    return (e as Error).message.split('\n')[0];
  }
}

describe('python3-kubernetes against reddwarf serve', () => {
  it('lists, creates, watches and deletes', { timeout: 60_000 }, async (t) => {
    const missing = moduleMissing();
    if (missing) {
      console.warn(`SKIPPING python client e2e: ${PYTHON} cannot import kubernetes (${missing}); install python3-kubernetes`);
      t.skip('python3-kubernetes is not installed');
      return;
    }
    const server = await startServe();
    try {
      const out = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
        execFile(PYTHON, [join(REPO_ROOT, 'test', 'e2e', 'python_client.py'), server.kubeconfig, 'default'], { timeout: 45_000, killSignal: 'SIGKILL' }, (err, stdout, stderr) => {
          const e = err as (Error & { code?: number }) | null;
          resolve({ code: e ? (typeof e.code === 'number' ? e.code : -1) : 0, stdout: String(stdout), stderr: String(stderr) });
        });
      });
      const explain = `exit ${out.code}\n--- stdout ---\n${out.stdout}\n--- stderr ---\n${out.stderr}\n--- server ---\n${server.stderrTail(15)}`;
      assert.equal(out.code, 0, explain);
      assert.match(out.stdout, /^list ok/m, explain);
      assert.match(out.stdout, /^create ok/m, explain);
      assert.match(out.stdout, /^delete ok/m, explain);
    } finally {
      await server.stop();
      server.cleanup();
    }
  });
});
