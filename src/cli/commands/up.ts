// `reddwarf up`: the single-host mode. Today it serves the control plane; the node agent joins it
// in the same process once the actor system lands.
import { Command } from 'clipanion';
import { ServeCommand } from './serve.ts';

export class UpCommand extends ServeCommand {
  static override paths = [['up']];
  static override usage = Command.Usage({
    description: 'run everything on this host: API server, controllers and (soon) the node agent',
    examples: [['Start on the default address', 'reddwarf up --data-dir ./reddwarf-data']],
  });

  protected override what = 'reddwarf (single host)';
}
