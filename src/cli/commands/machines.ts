// `reddwarf machines`: each machine's definition as JSON, for the Stately editor.
import { Command } from 'clipanion';
import { clusterMachine } from '../../../machines/cluster.ts';
import { nodeMachine } from '../../../machines/node.ts';
import { podMachine } from '../../../machines/pod.ts';

export class MachinesCommand extends Command {
  static override paths = [['machines']];
  static override usage = Command.Usage({ description: 'print the pod, node and cluster machine definitions as JSON (for the Stately editor)' });

  async execute(): Promise<number> {
    const defs = { pod: podMachine.toJSON(), node: nodeMachine.toJSON(), cluster: clusterMachine.toJSON() };
    this.context.stdout.write(`${JSON.stringify(defs, null, 2)}\n`);
    return 0;
  }
}
