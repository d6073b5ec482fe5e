// zfs(8): datasets for zones, images and volumes, read with `zfs list -H` (TAB-separated, no header).
import { CommandError, run, type CommandRunner } from './command.ts';

const ABSENT = /dataset does not exist/;
const EXISTS = /dataset already exists/;

export interface CreateOptions {
  /** `-p`: create missing parents, and succeed when the dataset exists. */
  parents?: boolean;
  /** Properties set at creation (`-o k=v`), e.g. quota, mountpoint. */
  props?: Record<string, string>;
  signal?: AbortSignal;
}

/** The argv of `zfs create`. */
export function createArgv(dataset: string, opts: CreateOptions = {}): string[] {
  const argv = ['zfs', 'create'];
  if (opts.parents) argv.push('-p');
  for (const [k, v] of Object.entries(opts.props ?? {})) argv.push('-o', `${k}=${v}`);
  argv.push(dataset);
  return argv;
}

/** Creates a dataset; 'exists' when it was already there. */
export async function createDataset(runner: CommandRunner, dataset: string, opts: CreateOptions = {}): Promise<'created' | 'exists'> {
  try {
    await run(runner, createArgv(dataset, opts), { ...(opts.signal ? { signal: opts.signal } : {}) });
    return 'created';
  } catch (e) {
    if (e instanceof CommandError && EXISTS.test(e.stderr)) return 'exists';
    throw e;
  }
}

/** `zfs destroy -r <dataset>`; 'absent' when it did not exist. A busy dataset throws. */
export async function destroyDataset(runner: CommandRunner, dataset: string, signal?: AbortSignal): Promise<'destroyed' | 'absent'> {
  try {
    await run(runner, ['zfs', 'destroy', '-r', dataset], { ...(signal ? { signal } : {}) });
    return 'destroyed';
  } catch (e) {
    if (e instanceof CommandError && ABSENT.test(e.stderr)) return 'absent';
    throw e;
  }
}

/** `zfs set <prop>=<value> <dataset>`. */
export async function setProperty(runner: CommandRunner, dataset: string, prop: string, value: string): Promise<void> {
  await run(runner, ['zfs', 'set', `${prop}=${value}`, dataset]);
}

/** `zfs snapshot <dataset>@<name>`. */
export async function snapshot(runner: CommandRunner, dataset: string, name: string): Promise<void> {
  await run(runner, ['zfs', 'snapshot', `${dataset}@${name}`]);
}

/** `zfs clone <snapshot> <dataset>`. */
export async function cloneDataset(runner: CommandRunner, snap: string, dataset: string, props: Record<string, string> = {}): Promise<void> {
  const argv = ['zfs', 'clone'];
  for (const [k, v] of Object.entries(props)) argv.push('-o', `${k}=${v}`);
  await run(runner, [...argv, snap, dataset]);
}

/**
 * `zfs list -H -o <fields> [-r] <dataset>`: one record per line, fields split on TAB; [] when the
 * dataset does not exist.
 */
export async function listDatasets(runner: CommandRunner, dataset: string, fields: string[], opts: { recursive?: boolean } = {}): Promise<Record<string, string>[]> {
  try {
    const r = await run(runner, ['zfs', 'list', '-H', '-o', fields.join(','), ...(opts.recursive ? ['-r'] : []), dataset]);
    return r.stdout.split('\n').filter((l) => l.length > 0).map((l) => {
      const cells = l.split('\t');
      return Object.fromEntries(fields.map((f, i) => [f, cells[i] ?? '']));
    });
  } catch (e) {
    if (e instanceof CommandError && ABSENT.test(e.stderr)) return [];
    throw e;
  }
}
