// `reddwarf token create`: a join token for a node agent (`reddwarf agent --token …`), kept as a
// hash in `<data-dir>/join-tokens.json` on the server, which picks it up without a restart.
import { Command, Option, UsageError } from 'clipanion';
import { mkdirSync } from 'node:fs';
import { createJoinToken } from '../../server/auth.ts';

export class TokenCreateCommand extends Command {
  static override paths = [['token', 'create']];
  static override usage = Command.Usage({
    description: 'create a join token for a node agent',
    details: 'Prints a token for `reddwarf agent --token`. The agent then acts as `system:node:<name>`: it may read and update its own Node and the pods bound to it, and nothing else. A token made with `--node` works for that node only; one made without is bound to the first node that uses it.',
    examples: [['Create a token for node-2', 'reddwarf token create --data-dir ./reddwarf-data --node node-2']],
  });

  dataDir = Option.String('--data-dir', './reddwarf-data', { description: "the server's data directory" });
  node = Option.String('--node', { description: 'bind the token to this node name' });

  async execute(): Promise<number> {
    if (this.node !== undefined && !/^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/.test(this.node)) throw new UsageError(`--node ${JSON.stringify(this.node)} is not a valid node name`);
    mkdirSync(this.dataDir, { recursive: true, mode: 0o700 });
    this.context.stdout.write(`${createJoinToken(this.dataDir, this.node)}\n`);
    return 0;
  }
}
