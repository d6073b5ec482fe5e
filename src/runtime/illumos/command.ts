// The command-runner seam of the illumos runtime: every tool call goes through a CommandRunner, so
// the real host (exec.ts), a dry run (dryrun.ts, for `reddwarf plan`) and tests can stand behind it.

/** How one command is run. */
export interface RunOptions {
  /** Kill the command after this long (ms). */
  timeoutMs?: number;
  /** Kill the command when this aborts (a stopped actor must not leave zoneadm running). */
  signal?: AbortSignal;
  /** Without `check`, a non-zero exit is returned instead of thrown (zlogin). */
  check?: boolean;
}

export interface CommandResult {
  argv: string[];
  exitCode: number;
  stdout: string;
  stderr: string;
}

/** Runs illumos tools by name. */
export interface CommandRunner {
  run(argv: string[], opts?: RunOptions): Promise<CommandResult>;
  /**
   * Calls `use` with the path of a private temporary file holding `text`, removed afterwards
   * (zonecfg -f needs a command file).
   */
  withTempFile<T>(name: string, text: string, use: (path: string) => Promise<T>): Promise<T>;
}

/** A command that failed: names the command, its exit code (−1: not spawned, killed or timed out) and stderr. */
export class CommandError extends Error {
  constructor(readonly argv: string[], readonly exitCode: number, readonly stderr: string, readonly stdout = '') {
    super(`${argv.join(' ')} exited ${exitCode}: ${firstLine(stderr) || '(no stderr)'}`);
    this.name = 'CommandError';
  }
}

/** Default timeout of quick commands (list, create-vnic, zfs create). */
export const QUICK_TIMEOUT_MS = 60_000;
/** zoneadm install/boot/shutdown can take minutes on a loaded host. */
export const SLOW_TIMEOUT_MS = 15 * 60_000;

/** The first non-empty line of a tool's stderr. */
export function firstLine(s: string): string {
  return s.split('\n').map((l) => l.trim()).find(Boolean) ?? '';
}

/** Runs `argv` and throws CommandError on a non-zero exit. */
export async function run(runner: CommandRunner, argv: string[], opts: RunOptions = {}): Promise<CommandResult> {
  const r = await runner.run(argv, { timeoutMs: QUICK_TIMEOUT_MS, ...opts, check: opts.check ?? true });
  return r;
}
