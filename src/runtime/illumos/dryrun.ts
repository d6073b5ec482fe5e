// A CommandRunner that runs nothing: it records each command (and the zonecfg file it would
// write) and answers as a fresh illumos host would, so the runtime's own logic produces the plan.
import type { ZoneState } from '../runtime.ts';
import { CommandError, type CommandResult, type CommandRunner, type RunOptions } from './command.ts';

/** One command the runtime would run, with the file it writes for it. */
export interface PlannedCommand {
  /** Empty for a note: something the runtime does that is no command (files it writes). */
  argv: string[];
  file?: { path: string; text: string };
  note?: string[];
}

/** Where the real runner's private temporary directory would be. */
export const DRY_RUN_TMP = '$TMPDIR/reddwarf-XXXXXX';

/** Records commands against a simulated fresh host. */
export class DryRunRunner implements CommandRunner {
  readonly commands: PlannedCommand[] = [];
  private readonly zones = new Map<string, ZoneState>();
  private readonly links = new Set<string>();
  private pendingFile: { path: string; text: string } | undefined;

  /** `physicalLinks`: the NICs the host is assumed to have (a `--direct-nic`). */
  constructor(physicalLinks: string[] = []) {
    for (const l of physicalLinks) this.links.add(l);
  }

  async run(argv: string[], opts: RunOptions = {}): Promise<CommandResult> {
    const planned: PlannedCommand = { argv };
    if (this.pendingFile && argv.includes(this.pendingFile.path)) planned.file = this.pendingFile;
    this.commands.push(planned);
    const { stdout, stderr, exitCode } = this.answer(argv);
    if (exitCode !== 0 && opts.check !== false) throw new CommandError(argv, exitCode, stderr, stdout);
    return { argv, exitCode, stdout, stderr };
  }

  async withTempFile<T>(name: string, text: string, use: (path: string) => Promise<T>): Promise<T> {
    this.pendingFile = { path: `${DRY_RUN_TMP}/${name}`, text };
    try {
      return await use(this.pendingFile.path);
    } finally {
      this.pendingFile = undefined;
    }
  }

  /** Records what the runtime does between commands that is no command (e.g. files written into a zone root). */
  note(lines: string[]): void {
    this.commands.push({ argv: [], note: lines });
  }

  /** Forgets the commands recorded so far (the host model stays). */
  take(): PlannedCommand[] {
    return this.commands.splice(0);
  }

  private answer(argv: string[]): { stdout: string; stderr: string; exitCode: number } {
    const ok = (stdout = '') => ({ stdout, stderr: '', exitCode: 0 });
    const [tool, a1 = '', a2 = '', a3 = ''] = argv;
    if (tool === 'zoneadm' && a1 === '-z') {
      const state = this.zones.get(a2) ?? 'absent';
      if (state === 'absent') return { stdout: '', stderr: `zoneadm: ${a2}: No such zone configured`, exitCode: 1 };
      const next: Partial<Record<string, ZoneState>> = { install: 'installed', boot: 'running', shutdown: 'installed', halt: 'installed', uninstall: 'configured' };
      if (a3 === 'list') return ok(`${state === 'running' ? '1' : '-'}:${a2}:${state}:/::reddwarf:excl\n`);
      const to = next[a3];
      if (to) this.zones.set(a2, to);
      return ok();
    }
    if (tool === 'zonecfg' && a1 === '-z') {
      if (a3 === '-f') this.zones.set(a2, 'configured');
      else if (!this.zones.has(a2)) return { stdout: '', stderr: `${a2}: No such zone configured`, exitCode: 1 };
      else if (a3 === 'delete') this.zones.delete(a2);
      return ok();
    }
    if (tool === 'dladm') {
      const name = argv.at(-1) ?? '';
      if (a1 === 'show-link') return this.links.has(name) ? ok(`${name}:phys:\n`) : { stdout: '', stderr: `dladm: invalid link name '${name}'`, exitCode: 1 };
      if (a1.startsWith('create-')) this.links.add(name);
      if (a1.startsWith('delete-')) this.links.delete(name);
      return ok();
    }
    if (tool === 'ipadm' && a1 === 'show-addr') return { stdout: '', stderr: 'ipadm: Address object not found', exitCode: 1 };
    return ok();
  }
}
