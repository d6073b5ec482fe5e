// zlogin(1): runs a command in a zone. A non-zero exit is a result, not an error (probes read it).
import { type CommandRunner } from './command.ts';

export interface ExecResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

/**
 * `zlogin <zone> <argv…>`. zlogin joins its arguments into one command line for the zone's shell,
 * so an argument with spaces is split again there (SPEC §5.6).
 */
export async function zlogin(runner: CommandRunner, zone: string, argv: string[], opts: { timeoutMs?: number; signal?: AbortSignal } = {}): Promise<ExecResult> {
  const r = await runner.run(['zlogin', zone, ...argv], { check: false, ...opts });
  return { exitCode: r.exitCode, stdout: r.stdout, stderr: r.stderr };
}
