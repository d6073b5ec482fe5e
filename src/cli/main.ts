// The `reddwarf` command line.
import { Builtins, Cli } from 'clipanion';
import { ServeCommand } from './commands/serve.ts';
import { UpCommand } from './commands/up.ts';
import { VersionCommand } from './commands/version.ts';
import { AgentCommand } from './commands/agent.ts';

const cli = new Cli({ binaryName: 'reddwarf', binaryLabel: 'reddwarf — Kubernetes-style control plane for illumos zones', binaryVersion: '0.1.0' });
cli.register(UpCommand);
cli.register(ServeCommand);
cli.register(AgentCommand);
cli.register(VersionCommand);
cli.register(Builtins.HelpCommand);
cli.register(Builtins.VersionCommand);

// Exit explicitly: a stopped server may leave native handles (uWS) that would keep the loop alive.
process.exit(await cli.run(process.argv.slice(2)));
