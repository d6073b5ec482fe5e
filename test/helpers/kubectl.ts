// Runs the real kubectl (gcloud's per-minor binaries) against a test server, bounded in time.
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { accessSync, constants, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeTempDir, type ChildHandle } from './process.ts';

/** Where the Google Cloud SDK installs kubectl.1.NN; REDDWARF_E2E_KUBECTL_DIR points elsewhere. */
const DIR = process.env['REDDWARF_E2E_KUBECTL_DIR'] || '/usr/lib/google-cloud-sdk/bin';

/** The kubectl binary of a minor version; without one, 1.31 (or REDDWARF_E2E_KUBECTL). */
export const kubectlPath = (minor?: number): string => (minor === undefined && process.env['REDDWARF_E2E_KUBECTL']) || join(DIR, `kubectl.1.${minor ?? 31}`);

/** Why kubectl cannot run here, or undefined when it can. */
export function kubectlMissing(minor?: number): string | undefined {
  try {
    accessSync(kubectlPath(minor), constants.X_OK);
    return undefined;
  } catch (e) {
    return `kubectl 1.${minor ?? 31} not found at ${kubectlPath(minor)}: ${(e as Error).message}`;
  }
}

export interface KubectlOptions {
  /** The kubectl minor version (see kubectlPath). */
  minor?: number;
  /** Upper bound for any single command. */
  timeoutMs?: number;
  /** The processes whose logs explain() and logs() show. */
  procs?: () => ChildHandle[];
}

export interface KubectlRun {
  args: string[];
  /** -1 when kubectl did not exit by itself (killed on timeout, or not started). */
  code: number;
  signal: string | null;
  stdout: string;
  stderr: string;
  ms: number;
}

/**
 * A kubectl bound to one kubeconfig, with a fresh directory that is its working directory (for
 * file()) and holds its discovery cache.
 */
export function kubectl(kubeconfig: string, opts: KubectlOptions = {}) {
  const bin = kubectlPath(opts.minor);
  const timeout = opts.timeoutMs ?? 30_000;
  const dir = makeTempDir('reddwarf-kubectl-');
  const argv = (args: string[]) => ['--kubeconfig', kubeconfig, '--cache-dir', join(dir, 'cache'), ...args];
  const env = (more: Record<string, string>) => ({ ...process.env, KUBECONFIG: '', ...more });

  const exec = (args: string[], more: Record<string, string> = {}): Promise<KubectlRun> => {
    const start = Date.now();
    return new Promise((resolve) => {
      const child = execFile(bin, argv(args), { timeout, killSignal: 'SIGKILL', cwd: dir, maxBuffer: 16 * 1024 * 1024, env: env(more) }, (err, stdout, stderr) => {
        const e = err as (Error & { code?: number | string; signal?: string | null }) | null;
        resolve({
          args,
          code: e ? (typeof e.code === 'number' ? e.code : -1) : 0,
          signal: e?.signal ?? null,
          stdout: String(stdout),
          stderr: String(stderr) + (e && typeof e.code !== 'number' && !e.signal ? `\n[exec error] ${e.message}` : ''),
          ms: Date.now() - start,
        });
      });
      // Without credentials kubectl asks for a user name on stdin: let it read EOF, not hang.
      child.stdin?.end();
    });
  };

  const logs = (): string =>
    (opts.procs?.() ?? []).map((p) => `--- ${p.label} (pid ${p.pid}${p.exited() ? ', exited' : ''}) stderr (tail) ---\n${p.stderrTail(15)}`).join('\n');

  const explain = (r: KubectlRun): string =>
    [`${bin} ${r.args.join(' ')} → exit ${r.code}${r.signal ? ` (${r.signal})` : ''} in ${r.ms} ms`, `--- stdout ---\n${r.stdout}`, `--- stderr ---\n${r.stderr}`, logs()].join('\n');

  const ok = async (...args: string[]): Promise<KubectlRun> => {
    const r = await exec(args);
    assert.equal(r.code, 0, explain(r));
    return r;
  };

  return {
    dir,
    /** Runs kubectl with `args`. */
    run: (...args: string[]): Promise<KubectlRun> => exec(args),
    /** run() with more environment variables (e.g. KUBE_EDITOR). */
    runWithEnv: (more: Record<string, string>, ...args: string[]): Promise<KubectlRun> => exec(args, more),
    /** run(), asserting exit code 0. */
    ok,
    /** ok() with `-o json`, parsed. */
    async json<T>(...args: string[]): Promise<T> {
      const r = await ok(...args, '-o', 'json');
      try {
        return JSON.parse(r.stdout) as T;
      } catch {
        assert.fail(`kubectl ${args.join(' ')} -o json printed no JSON\n${explain(r)}`);
      }
    },
    /** Starts a long-running kubectl (a watch), killed at the latest after the timeout. */
    spawn(...args: string[]) {
      const child = spawn(bin, argv(args), { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'], env: env({}), timeout, killSignal: 'SIGKILL' });
      let stdout = '';
      let stderr = '';
      let exited = false;
      child.stdout.setEncoding('utf8');
      child.stderr.setEncoding('utf8');
      child.stdout.on('data', (d: string) => (stdout += d));
      child.stderr.on('data', (d: string) => (stderr += d));
      const done = new Promise<void>((r) => child.once('exit', () => ((exited = true), r())));
      return {
        stdout: () => stdout,
        stderr: () => stderr,
        exited: () => exited,
        async kill() {
          if (!exited) child.kill('SIGKILL');
          await done;
        },
      };
    },
    /** Explains a run for an assertion message, with the processes' recent logs. */
    explain,
    /** The last lines of every process's stderr. */
    logs,
    /** Writes `text` to `name` in the working directory and returns `name` (for `-f`). */
    file(name: string, text: string): string {
      writeFileSync(join(dir, name), text);
      return name;
    },
    cleanup(): void {
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export type Kubectl = ReturnType<typeof kubectl>;
