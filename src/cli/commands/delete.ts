// `reddwarf delete TYPE NAME`: deletes one object; `--wait` waits until it is gone (a pod's zone torn down).
import { Command, Option } from 'clipanion';
import { ClientError } from '../../client/client.ts';
import { ClientCommand, CliFailure } from '../client-command.ts';
import { parseDuration } from '../flags.ts';
import { NAMESPACED, resourceType } from '../render/rows.ts';
import { sleep } from '../../time/clock.ts';

export class DeleteCommand extends ClientCommand {
  static override paths = [['delete']];
  static override usage = Command.Usage({
    description: 'delete a pod (or node, service, namespace)',
    examples: [['Delete a pod and wait until its zone is gone', 'reddwarf delete pod web --wait']],
  });

  type = Option.String({ required: true });
  name = Option.String({ required: true });
  namespace = Option.String('-n,--namespace', { description: 'namespace (default: the kubeconfig context, else default)' });
  wait = Option.Boolean('--wait', false, { description: 'wait until the object is gone' });
  timeout = Option.String('--timeout', '120s', { description: 'how long --wait waits' });

  async run(): Promise<number> {
    const type = resourceType(this.type);
    const timeoutMs = parseDuration('--timeout', this.timeout);
    const ns = NAMESPACED[type] ? this.namespaceOr(this.namespace) : '';
    const singular = type.replace(/s$/, '');
    const gone = await this.client.delete(type, ns, this.name);
    this.context.stdout.write(`${singular} "${this.name}" deleted\n`);
    if (!this.wait) return 0;
    const deadline = this.clock.now() + timeoutMs;
    for (;;) {
      try {
        const live = await this.client.get(type, ns, this.name);
        if (gone.metadata.uid && live.metadata.uid !== gone.metadata.uid) break; // a new object of that name
      } catch (e) {
        if (e instanceof ClientError && e.code === 404) break;
        throw e;
      }
      if (this.clock.now() >= deadline) throw new CliFailure(`${singular} "${this.name}" still exists after ${Math.round(timeoutMs / 1000)}s`);
      await sleep(this.clock, 100);
    }
    this.context.stdout.write(`${singular} "${this.name}" is gone\n`);
    return 0;
  }
}
