// `reddwarf smf manifest` and `reddwarf smf method`: the SMF service svc:/system/reddwarf:default,
// printed for the operator to install.
import { Command, Option, UsageError } from 'clipanion';
import { DEFAULT_METHOD_PATH, manifest } from '../../smf/manifest.ts';
import { methodScript } from '../../smf/method.ts';

export class SmfManifestCommand extends Command {
  static override paths = [['smf', 'manifest']];
  static override usage = Command.Usage({
    description: 'print the SMF manifest of svc:/system/reddwarf:default (for svccfg import)',
    details: 'Each flag of `reddwarf up` and `reddwarf agent` is a property application/<flag with underscores>, empty meaning the default; application/mode chooses the command. The start method is the script `reddwarf smf method` prints, installed at --method-path.',
    examples: [['Install the service', 'reddwarf smf method > /opt/reddwarf/lib/svc/method/reddwarf && chmod 555 /opt/reddwarf/lib/svc/method/reddwarf && reddwarf smf manifest > /tmp/reddwarf.xml && svccfg import /tmp/reddwarf.xml']],
  });

  methodPath = Option.String('--method-path', DEFAULT_METHOD_PATH, { description: 'where the method script is installed' });

  async execute(): Promise<number> {
    // svc.startd splits the exec string on blanks and expands %-tokens in it.
    if (!/^\/[^\s%]+$/.test(this.methodPath)) throw new UsageError(`--method-path must be an absolute path without blanks or % (got ${JSON.stringify(this.methodPath)})`);
    this.context.stdout.write(manifest({ methodPath: this.methodPath }));
    return 0;
  }
}

export class SmfMethodCommand extends Command {
  static override paths = [['smf', 'method']];
  static override usage = Command.Usage({ description: 'print the SMF start method script of svc:/system/reddwarf (install it mode 0555 at the manifest\'s --method-path)' });

  async execute(): Promise<number> {
    this.context.stdout.write(methodScript());
    return 0;
  }
}
