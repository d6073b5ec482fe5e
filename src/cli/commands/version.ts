// `reddwarf version`: the program's version and the Kubernetes API level it serves.
import { createRequire } from 'node:module';
import { Command, Option } from 'clipanion';
import { readKubeconfig } from '../../client/kubeconfig.ts';
import { serverVersion } from '../client-command.ts';
import { realClock } from '../../time/clock.ts';
import { DEFAULT_KUBE_MINOR } from '../../server/api.ts';

export class VersionCommand extends Command {
  static override paths = [['version']];
  static override usage = Command.Usage({ description: 'print the version (and the server\'s, when reachable)' });
  kubeconfig = Option.String('--kubeconfig', { description: 'kubeconfig naming the server to ask' });

  async execute(): Promise<number> {
    const pkg = createRequire(import.meta.url)('../../../package.json') as { version: string };
    this.context.stdout.write(`client: reddwarf ${pkg.version} (Kubernetes API v1.${DEFAULT_KUBE_MINOR})\n`);
    let access;
    try {
      access = readKubeconfig(this.kubeconfig);
    } catch {
      this.context.stdout.write('server: no kubeconfig\n');
      return 0;
    }
    const v = await serverVersion(access, realClock);
    this.context.stdout.write(v.gitVersion ? `server: ${v.gitVersion} at ${access.server}\n` : `server: not reachable at ${access.server} (${v.error ?? 'unknown error'})\n`);
    return 0;
  }
}
