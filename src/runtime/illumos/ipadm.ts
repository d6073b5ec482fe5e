// ipadm(8): addresses in the global zone: the pods' gateway on the etherstub (SPEC §6.2's gap:
// upstream never configured network + 1 anywhere, so pods had no router).
import { CommandError, run, type CommandRunner } from './command.ts';

/** An address as `ipadm show-addr -p -o addrobj,addr` prints it. */
export interface Address {
  addrobj: string;
  addr: string;
}

/** Parses `ipadm show-addr -p -o addrobj,addr`. */
export function parseAddrs(stdout: string): Address[] {
  return stdout.split('\n').filter((l) => l.trim()).map((l) => {
    const [addrobj = '', addr = ''] = l.trim().split(/(?<!\\):/).map((f) => f.replace(/\\:/g, ':'));
    return { addrobj, addr };
  });
}

/** The address object `addrobj` (e.g. `reddwarf_gw0/v4`), or undefined when absent. */
export async function showAddr(runner: CommandRunner, addrobj: string): Promise<Address | undefined> {
  try {
    return parseAddrs((await run(runner, ['ipadm', 'show-addr', '-p', '-o', 'addrobj,addr', addrobj])).stdout)[0];
  } catch (e) {
    if (e instanceof CommandError && /Address object not found|could not find|not found/i.test(e.stderr)) return undefined;
    throw e;
  }
}

/** `ipadm create-if <interface>` (an existing interface is fine). */
export async function createIf(runner: CommandRunner, iface: string): Promise<void> {
  try {
    await run(runner, ['ipadm', 'create-if', iface]);
  } catch (e) {
    if (!(e instanceof CommandError && /already exists/.test(e.stderr))) throw e;
  }
}

/** `ipadm create-addr -T static -a <cidr> <addrobj>`. */
export async function createStaticAddr(runner: CommandRunner, addrobj: string, cidr: string): Promise<void> {
  await run(runner, ['ipadm', 'create-addr', '-T', 'static', '-a', cidr, addrobj]);
}
