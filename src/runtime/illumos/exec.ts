// The real CommandRunner: execFile without a shell, tools found through PATH, a timeout on each.
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CommandError, QUICK_TIMEOUT_MS, type CommandResult, type CommandRunner, type RunOptions } from './command.ts';
import { realClock, type Clock } from '../../time/clock.ts';

export interface ExecRunnerOptions {
  /** Environment of the tools (default: this process's); tests put a simulated host first on PATH. */
  env?: NodeJS.ProcessEnv;
  /** Called with every command before it runs (for logs). */
  onCommand?: (argv: string[]) => void;
  /** Times each command's timeout (default realClock). */
  clock?: Clock;
}

/** Runs the tools on this host. */
export class ExecRunner implements CommandRunner {
  constructor(private readonly opts: ExecRunnerOptions = {}) {}

  run(argv: string[], opts: RunOptions = {}): Promise<CommandResult> {
    const [file, ...args] = argv;
    if (!file) return Promise.reject(new Error('empty command'));
    this.opts.onCommand?.(argv);
    opts.signal?.throwIfAborted();
    const clock = this.opts.clock ?? realClock;
    return new Promise((resolve, reject) => {
      // A command past its timeout gets SIGTERM, as execFile's own `timeout` would send.
      const timer = clock.setTimeout(() => child.kill('SIGTERM'), opts.timeoutMs ?? QUICK_TIMEOUT_MS);
      const child = execFile(
        file,
        args,
        { env: this.opts.env ?? process.env, maxBuffer: 16 * 1024 * 1024, encoding: 'utf8', ...(opts.signal ? { signal: opts.signal } : {}) },
        (err, stdout, stderr) => {
          clock.clearTimeout(timer);
          if (err && opts.signal?.aborted) return reject(opts.signal.reason instanceof Error ? opts.signal.reason : err);
          // A numeric code is the exit status; anything else (ENOENT, a signal, a timeout) is −1 as upstream.
          const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : -1) : 0;
          const errText = err && code === -1 ? `${stderr}${stderr ? '\n' : ''}${err.message}` : stderr;
          const result: CommandResult = { argv, exitCode: code, stdout, stderr: errText };
          if (code !== 0 && opts.check !== false) return reject(new CommandError(argv, code, errText, stdout));
          resolve(result);
        },
      );
    });
  }

  async withTempFile<T>(name: string, text: string, use: (path: string) => Promise<T>): Promise<T> {
    // A private directory: upstream's predictable /tmp/zonecfg-<zone>.cmd invited symlink races.
    const dir = await mkdtemp(join(tmpdir(), 'reddwarf-'));
    try {
      const path = join(dir, name);
      await writeFile(path, text, { mode: 0o600 });
      return await use(path);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }
}
