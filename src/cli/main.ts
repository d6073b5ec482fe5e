// The `reddwarf` command line.
import { Builtins, Cli, type Command } from 'clipanion';
import { ServeCommand } from './commands/serve.ts';
import { UpCommand } from './commands/up.ts';
import { VersionCommand } from './commands/version.ts';
import { AgentCommand } from './commands/agent.ts';
import { PlanCommand } from './commands/plan.ts';
import { GetCommand } from './commands/get.ts';
import { DescribeCommand } from './commands/describe.ts';
import { ApplyCommand } from './commands/apply.ts';
import { DeleteCommand } from './commands/delete.ts';
import { WatchCommand } from './commands/watch.ts';
import { TokenCreateCommand } from './commands/token.ts';
import { MachinesCommand } from './commands/machines.ts';
import { SmfManifestCommand, SmfMethodCommand } from './commands/smf.ts';
import { ImagesCommand, ImagesPruneCommand } from './commands/images.ts';

const cli = new Cli({ binaryName: 'reddwarf', binaryLabel: 'reddwarf — Kubernetes-style control plane for illumos zones', binaryVersion: '0.1.0' });
cli.register(UpCommand);
cli.register(ServeCommand);
cli.register(AgentCommand);
cli.register(PlanCommand);
cli.register(VersionCommand);
cli.register(GetCommand);
cli.register(DescribeCommand);
cli.register(ApplyCommand);
cli.register(DeleteCommand);
cli.register(WatchCommand);
cli.register(TokenCreateCommand);
cli.register(MachinesCommand);
cli.register(SmfManifestCommand);
cli.register(SmfMethodCommand);
cli.register(ImagesCommand);
cli.register(ImagesPruneCommand);
cli.register(Builtins.HelpCommand);
cli.register(Builtins.VersionCommand);

// Exit explicitly: a stopped server may leave native handles (uWS) that would keep the loop alive.
const argv = process.argv.slice(2);
// Arguments clipanion cannot parse (unknown command or flag) are usage errors: exit 2, not 1.
// So are bad flag values found when the command starts (usageFailed).
let command: Command | undefined;
try {
  command = cli.process(argv);
} catch {
  // cli.run prints it
}
const code = await cli.run(command ?? argv);
const usage = command === undefined || (command as Command & { usageFailed?: boolean }).usageFailed === true;
process.exit(usage && code === 1 ? 2 : code);
