// Runs the real kubectl (gcloud's per-minor binaries) against a test server, bounded in time.
import { execFile } from 'node:child_process';
import { accessSync, constants, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeTempDir } from './process.ts';

/** The kubectl binary of a minor version, as installed with the Google Cloud SDK. */
export const kubectlPath = (minor = 31): string => `/usr/lib/google-cloud-sdk/bin/kubectl.1.${minor}`;

/** Why kubectl cannot run here, or undefined when it can. */
export function kubectlMissing(minor = 31): string | undefined {
  try {
    accessSync(kubectlPath(minor), constants.X_OK);
    return undefined;
  } catch (e) {
    return `kubectl 1.${minor} not found at ${kubectlPath(minor)}: ${(e as Error).message}`;
  }
}

export interface KubectlRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** A kubectl bound to one kubeconfig and a fresh discovery cache. */
export function kubectl(kubeconfig: string, minor = 31) {
  const cacheDir = makeTempDir('reddwarf-kubectl-cache-');
  return {
    cacheDir,
    /** Runs kubectl with `args`; never longer than 30 s. */
    run(...args: string[]): Promise<KubectlRun> {
      return new Promise((resolve) => {
        execFile(kubectlPath(minor), ['--kubeconfig', kubeconfig, '--cache-dir', cacheDir, ...args], { timeout: 30_000 }, (err, stdout, stderr) => {
          const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : 1) : 0;
          resolve({ code, stdout, stderr });
        });
      });
    },
    /** Writes `text` to a file in the cache dir and returns its path (for `-f`). */
    file(name: string, text: string): string {
      const p = join(cacheDir, name);
      writeFileSync(p, text);
      return p;
    },
  };
}
