// The `application/*` properties of svc:/system/reddwarf: one per flag of `reddwarf up` and
// `reddwarf agent`, read from the commands' own clipanion definitions so a new flag gets its
// property (and its place in the method script) without anyone remembering to add it.
import { Cli } from 'clipanion';
import { AgentCommand } from '../cli/commands/agent.ts';
import { UpCommand } from '../cli/commands/up.ts';
import { TOKEN_ENV } from '../cli/flags.ts';

/** What `application/mode` selects: the subcommand the service runs. */
export const MODES = { up: UpCommand, agent: AgentCommand } as const;
export type Mode = keyof typeof MODES;

/** The mode of an empty `application/mode`: everything on one host. */
export const DEFAULT_MODE: Mode = 'up';

/** One flag as an SMF property. */
export interface SmfProperty {
  /** Property name under `application/`: the flag without `--`, dashes as underscores (`data_dir`). */
  name: string;
  /** The long flag, e.g. `--data-dir`. */
  flag: string;
  /** `false` for a boolean flag (`--tls`): the property holds `true` or `false`. */
  takesValue: boolean;
  /** A secret: passed in this environment variable, not as an argument (arguments show in `ps` to every local user). */
  env?: string;
  /** The modes whose command has this flag, each with that command's description of it. */
  modes: Partial<Record<Mode, { description: string; required: boolean }>>;
}

/** Properties passed through the environment, and the variable the command reads each from. */
const SECRETS: Partial<Record<string, string>> = { token: TOKEN_ENV };

/** `--bind #0` or `--tls`, optionally after a short name (`-n,--name #0`). */
const DEFINITION = /^(?:-[a-zA-Z],)?(--[a-z][a-z0-9-]*)( #0)?$/;

/**
 * The properties of every flag of `up` and `agent`, in the commands' flag order (`up` first).
 * @example smfProperties().find((p) => p.name === 'data_dir')?.modes // { up: …, agent: … }
 */
export function smfProperties(): SmfProperty[] {
  const byFlag = new Map<string, SmfProperty>();
  for (const mode of Object.keys(MODES) as Mode[]) {
    const [definition] = Cli.from([MODES[mode]]).definitions();
    for (const option of definition?.options ?? []) {
      const m = DEFINITION.exec(option.definition);
      // A flag of another shape (several values, no long name) needs the method script taught first.
      if (!m?.[1]) throw new Error(`reddwarf ${mode}: cannot map the flag ${JSON.stringify(option.definition)} to an SMF property`);
      const flag = m[1];
      const name = flag.slice(2).replaceAll('-', '_');
      const property = byFlag.get(flag) ?? { name, flag, takesValue: m[2] !== undefined, ...(SECRETS[name] ? { env: SECRETS[name] } : {}), modes: {} };
      property.modes[mode] = { description: option.description ?? '', required: option.required };
      byFlag.set(flag, property);
    }
  }
  return [...byFlag.values()];
}
