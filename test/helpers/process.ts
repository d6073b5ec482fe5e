// Runs the real `reddwarf serve`, `up` and `agent` (bin/reddwarf.mjs) as child processes on
// 127.0.0.1, for end-to-end tests: a free port, a temp data dir, readiness by polling /readyz (and,
// for `up` and `agent`, their "running" log line), SIGTERM/SIGKILL, and stderr kept for diagnostics.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const BIN = join(REPO_ROOT, 'bin', 'reddwarf.mjs');

export const SERVE_TRANSPORTS = ['uws', 'node'] as const;
export type ServeTransport = (typeof SERVE_TRANSPORTS)[number];

/** Keeps at most this many characters of each output stream. */
const MAX_CAPTURE = 256 * 1024;

export interface ServeOptions {
  transport?: ServeTransport;
  /** Reuse this data directory (e.g. to restart on the same store); otherwise a fresh temp dir. */
  dataDir?: string;
  kubeMinor?: number;
  /** How long to wait for /readyz to answer 200. */
  readyTimeoutMs?: number;
  /** More command-line flags (e.g. `--node-monitor-grace-period 3s`). */
  args?: string[];
}

export interface ServeProcess extends ChildHandle {
  readonly url: string;
  readonly port: number;
  readonly kubeconfig: string;
  readonly transport: ServeTransport;
}

const live = new Set<ChildProcess>();
let exitHookInstalled = false;

/** Never leave a server behind if the test runner exits while one is still up. */
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const c of live) {
      try {
        c.kill('SIGKILL');
      } catch {
        // already gone
      }
    }
  });
}

/** A port nobody listens on right now (listen on 0, read it, close). */
export function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const srv = createServer();
    srv.unref();
    srv.once('error', reject);
    srv.listen(0, host, () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close((err) => (err ? reject(err) : port ? resolvePort(port) : reject(new Error('no port from listen(0)'))));
    });
  });
}

/** A fresh temporary directory. */
export function makeTempDir(prefix = 'reddwarf-e2e-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Polls `check` every `stepMs` until it returns a truthy value or `timeoutMs` passes (then returns undefined). */
export async function pollUntil<T>(check: () => T | Promise<T>, timeoutMs: number, stepMs = 50): Promise<T | undefined> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v) return v;
    if (Date.now() >= deadline) return undefined;
    await sleep(Math.min(stepMs, Math.max(1, deadline - Date.now())));
  }
}

function tail(s: string, lines: number): string {
  return s.split('\n').slice(-lines - 1).join('\n');
}

/** Starts `reddwarf serve` and resolves once /readyz answers 200; retries on a lost port race. */
export async function startServe(opts: ServeOptions = {}): Promise<ServeProcess> {
  return retryOnPortRace(() => startServing('serve', opts));
}

export interface UpOptions extends ServeOptions {
  /** `--node-name` (default `e2e-up`: the host name may not be a valid node name). */
  nodeName?: string;
}

export interface UpProcess extends ServeProcess {
  readonly nodeName: string;
}

/**
 * Starts `reddwarf up` (API server, scheduler, node liveness and the node agent in one process)
 * and resolves once /readyz answers 200 and the process has logged that it is up (its node is
 * registered and the pods bound to it are adopted).
 */
export async function startUp(opts: UpOptions = {}): Promise<UpProcess> {
  const nodeName = opts.nodeName ?? 'e2e-up';
  const p = await retryOnPortRace(() => startServing('up', { ...opts, args: ['--node-name', nodeName, ...(opts.args ?? [])] }));
  return Object.assign(p, { nodeName });
}

export interface AgentOptions {
  /** The API server's URL (`--server`). */
  server: string;
  nodeName: string;
  /** Reuse this data directory (a restarted agent); otherwise a fresh temp dir. */
  dataDir?: string;
  args?: string[];
  /** More environment variables (e.g. REDDWARF_TOKEN). */
  env?: Record<string, string>;
  /** How long to wait for the agent to say it is running (its Node registered). */
  readyTimeoutMs?: number;
}

export interface AgentProcess extends ChildHandle {
  readonly server: string;
  readonly nodeName: string;
}

/** Starts `reddwarf agent --server … --node-name …` and resolves once it logs that it is running. */
export async function startAgent(opts: AgentOptions): Promise<AgentProcess> {
  const ownDir = opts.dataDir === undefined;
  const dataDir = opts.dataDir ?? makeTempDir('reddwarf-e2e-agent-');
  // Several agents share this host in tests: their node APIs take any free port unless told.
  const apiPort = (opts.args ?? []).includes('--node-api-port') ? [] : ['--node-api-port', '0'];
  const args = ['agent', '--server', opts.server, '--node-name', opts.nodeName, '--data-dir', dataDir, ...apiPort, ...(opts.args ?? [])];
  const h = spawnReddwarf(args, dataDir, ownDir, `reddwarf agent ${opts.nodeName}`, opts.env);
  const running = `agent for node ${opts.nodeName} is running`;
  // Generous: on a 2-core CI box running other test files, a process may wait seconds for CPU
  // before its first line; the wait ends as soon as it is ready.
  const timeoutMs = opts.readyTimeoutMs ?? 45_000;
  const ready = await pollUntil(() => (h.exited() ? 'exited' : h.stderr().includes(running) ? 'ready' : undefined), timeoutMs, 50);
  if (ready !== 'ready') {
    await h.kill9();
    h.cleanup();
    const why = ready === 'exited' ? `exited early (code ${String(h.exitCode())})` : `did not log "${running}" within ${timeoutMs} ms`;
    throw new Error(`${h.label} against ${opts.server} ${why}; stderr:\n${h.stderrTail(40)}`);
  }
  return Object.assign(h, { server: opts.server, nodeName: opts.nodeName });
}

/** What every spawned reddwarf process offers (ServeProcess and AgentProcess add to it). */
export interface ChildHandle {
  /** e.g. `reddwarf serve (uws)`, `reddwarf agent n1`: for messages. */
  readonly label: string;
  readonly dataDir: string;
  readonly child: ChildProcess;
  readonly pid: number;
  /** Everything the process wrote on stderr so far (its log). */
  stderr(): string;
  stdout(): string;
  /** The last `lines` lines of stderr, for assertion messages. */
  stderrTail(lines?: number): string;
  /** Whether the process has exited. */
  exited(): boolean;
  exitCode(): number | null;
  /** SIGTERM, then SIGKILL if it has not exited after `graceMs`. Resolves with the exit code (null if signalled). */
  stop(graceMs?: number): Promise<number | null>;
  /** SIGKILL at once (a crash), resolves when the process is gone. */
  kill9(): Promise<void>;
  /** Removes the data directory if this helper created it (call after stop/kill9). */
  cleanup(): void;
}

async function retryOnPortRace<T>(start: () => Promise<T>): Promise<T> {
  let lastError: Error | undefined;
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      return await start();
    } catch (e) {
      lastError = e as Error;
      // Someone took the port between freePort() and the server's bind: pick another.
      if (!/EADDRINUSE|address already in use/i.test(lastError.message)) throw lastError;
    }
  }
  throw lastError ?? new Error('start failed');
}

/** Spawns `node bin/reddwarf.mjs <args>` and keeps its output. */
function spawnReddwarf(args: string[], dataDir: string, ownDir: boolean, label: string, env: Record<string, string> = {}): ChildHandle {
  installExitHook();
  const child = spawn(process.execPath, [BIN, ...args], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NO_COLOR: '1', ...env } });
  live.add(child);
  let err = '';
  let out = '';
  child.stderr?.setEncoding('utf8');
  child.stdout?.setEncoding('utf8');
  child.stderr?.on('data', (d: string) => {
    err = (err + d).slice(-MAX_CAPTURE);
  });
  child.stdout?.on('data', (d: string) => {
    out = (out + d).slice(-MAX_CAPTURE);
  });
  let exited = false;
  let code: number | null = null;
  let signal: NodeJS.Signals | null = null;
  const exitPromise = new Promise<void>((r) => {
    child.once('exit', (c, s) => {
      exited = true;
      code = c;
      signal = s;
      live.delete(child);
      r();
    });
  });
  child.once('error', (e) => {
    err += `\n[spawn error] ${e.message}`;
  });
  const waitExit = async (ms: number): Promise<boolean> => {
    if (exited) return true;
    return (await pollUntil(() => exited, ms, 20)) ?? false;
  };
  return {
    label,
    dataDir,
    child,
    pid: child.pid ?? -1,
    stderr: () => err,
    stdout: () => out,
    stderrTail: (lines = 30) => tail(err, lines) + (exited ? `\n[${label} exited: code ${String(code)}, signal ${String(signal)}]` : ''),
    exited: () => exited,
    exitCode: () => code,
    async stop(graceMs = 5_000) {
      if (!exited) {
        child.kill('SIGTERM');
        if (!(await waitExit(graceMs))) {
          child.kill('SIGKILL');
          await exitPromise;
        }
      }
      return code;
    },
    async kill9() {
      if (!exited) child.kill('SIGKILL');
      await exitPromise;
    },
    cleanup() {
      if (ownDir) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** `serve` or `up` on a free port: ready once /readyz answers 200 (and, for `up`, the agent is up). */
async function startServing(command: 'serve' | 'up', opts: ServeOptions): Promise<ServeProcess> {
  const transport = opts.transport ?? 'uws';
  const ownDir = opts.dataDir === undefined;
  const dataDir = opts.dataDir ?? makeTempDir();
  const port = await freePort();
  const args = [command, '--bind', `127.0.0.1:${port}`, '--data-dir', dataDir, '--http', transport];
  if (opts.kubeMinor !== undefined) args.push('--kube-minor', String(opts.kubeMinor));
  args.push(...(opts.args ?? []));
  const label = `reddwarf ${command} (${transport})`;
  const h = spawnReddwarf(args, dataDir, ownDir, label);
  const url = `http://127.0.0.1:${port}`;
  const kubeconfig = join(dataDir, 'kubeconfig');
  const proc: ServeProcess = Object.assign(h, { url, port, kubeconfig, transport });

  // `up` logs this once its agent has registered the node and adopted its pods.
  const upLine = `reddwarf is up on ${url}`;
  const timeoutMs = opts.readyTimeoutMs ?? (command === 'up' ? 60_000 : 45_000);
  const ready = await pollUntil(
    async () => {
      if (h.exited()) return 'exited';
      if (command === 'up' && !h.stderr().includes(upLine)) return undefined;
      try {
        const res = await fetch(`${url}/readyz`, { signal: AbortSignal.timeout(1_000) });
        await res.arrayBuffer();
        return res.status === 200 && existsSync(kubeconfig) ? 'ready' : undefined;
      } catch {
        return undefined;
      }
    },
    timeoutMs,
    50,
  );
  if (ready !== 'ready') {
    await proc.kill9();
    proc.cleanup();
    const why = ready === 'exited' ? `exited early (code ${String(h.exitCode())})` : command === 'up' ? `not up within ${timeoutMs} ms (no 200 from /readyz or no "${upLine}" log line)` : `no 200 from /readyz within ${timeoutMs} ms`;
    throw new Error(`${label} on ${url} ${why}; stderr:\n${tail(h.stderr(), 40)}`);
  }
  return proc;
}
