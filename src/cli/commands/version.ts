// `reddwarf version`: the program's version and the Kubernetes API level it serves.
import { createRequire } from 'node:module';
import { Command } from 'clipanion';
import { DEFAULT_KUBE_MINOR } from '../../server/api.ts';

export class VersionCommand extends Command {
  static override paths = [['version']];
  static override usage = Command.Usage({ description: 'print the version' });

  async execute(): Promise<number> {
    const pkg = createRequire(import.meta.url)('../../../package.json') as { version: string };
    this.context.stdout.write(`reddwarf ${pkg.version} (Kubernetes API v1.${DEFAULT_KUBE_MINOR})\n`);
    return 0;
  }
}
