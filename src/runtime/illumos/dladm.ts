// dladm(8): the etherstub (or physical link) pods sit on and one VNIC per pod (SPEC §6.2).
import { CommandError, run, type CommandRunner } from './command.ts';

/** A datalink as `dladm show-link -p -o link,class,over` prints it. */
export interface Link {
  link: string;
  /** `phys`, `etherstub`, `vnic`, … */
  class: string;
  over: string;
}

const ABSENT = /object not found|invalid link name|not found/;
const EXISTS = /object already exists/;

/** Parses `dladm show-link -p -o link,class,over` (one `:`-separated line per link). */
export function parseLinks(stdout: string): Link[] {
  return stdout.split('\n').filter((l) => l.trim()).map((l) => {
    const [link = '', cls = '', over = ''] = l.trim().split(/(?<!\\):/).map((f) => f.replace(/\\:/g, ':'));
    return { link, class: cls, over };
  });
}

/** The link named `name`, or undefined when it does not exist. */
export async function showLink(runner: CommandRunner, name: string, signal?: AbortSignal): Promise<Link | undefined> {
  try {
    const r = await run(runner, ['dladm', 'show-link', '-p', '-o', 'link,class,over', name], { ...(signal ? { signal } : {}) });
    return parseLinks(r.stdout)[0];
  } catch (e) {
    if (e instanceof CommandError && ABSENT.test(e.stderr)) return undefined;
    throw e;
  }
}

/** `dladm create-etherstub <name>`; 'exists' when a link of that name is already there. */
export async function createEtherstub(runner: CommandRunner, name: string): Promise<'created' | 'exists'> {
  try {
    await run(runner, ['dladm', 'create-etherstub', name]);
    return 'created';
  } catch (e) {
    if (e instanceof CommandError && EXISTS.test(e.stderr)) return 'exists';
    throw e;
  }
}

/** `dladm create-vnic -l <link> <vnic>`; 'exists' when the VNIC is already there (adopted). */
export async function createVnic(runner: CommandRunner, link: string, vnic: string, signal?: AbortSignal): Promise<'created' | 'exists'> {
  try {
    await run(runner, ['dladm', 'create-vnic', '-l', link, vnic], { ...(signal ? { signal } : {}) });
    return 'created';
  } catch (e) {
    if (e instanceof CommandError && EXISTS.test(e.stderr)) return 'exists';
    throw e;
  }
}

/** `dladm delete-vnic <vnic>`; 'absent' when there was none. A busy link throws. */
export async function deleteVnic(runner: CommandRunner, vnic: string, signal?: AbortSignal): Promise<'deleted' | 'absent'> {
  try {
    await run(runner, ['dladm', 'delete-vnic', vnic], { ...(signal ? { signal } : {}) });
    return 'deleted';
  } catch (e) {
    if (e instanceof CommandError && ABSENT.test(e.stderr)) return 'absent';
    throw e;
  }
}
