// `reddwarf watch pods|nodes`: one line per change, until interrupted.
import { Command, Option, UsageError } from 'clipanion';
import type { KubeObject, Node, Pod } from '../../api/model/types.ts';
import { ClientCommand } from '../client-command.ts';
import { resourceType } from '../render/rows.ts';
import { podState } from '../render/state.ts';

const pad = (s: string, n: number) => (s.length >= n ? s : s.padEnd(n));

/** One line for a watch event: time, type, name, phase, node, IP. */
export function watchLine(type: string, kind: 'pods' | 'nodes', o: KubeObject, now: number): string {
  const time = new Date(now).toISOString().slice(11, 19);
  if (kind === 'pods') {
    const p = o as Pod;
    const name = p.metadata.namespace && p.metadata.namespace !== 'default' ? `${p.metadata.namespace}/${p.metadata.name ?? ''}` : (p.metadata.name ?? '');
    return [time, pad(type, 8), pad(name, 24), pad(podState(p), 16), pad(p.spec.nodeName || '-', 12), p.status?.podIP || '-'].join('  ').trimEnd();
  }
  const n = o as Node;
  const ready = n.status?.conditions?.find((c) => c.type === 'Ready')?.status;
  const ip = n.status?.addresses?.find((a) => a.type === 'InternalIP')?.address ?? '-';
  return [time, pad(type, 8), pad(n.metadata.name ?? '', 24), pad(ready === 'True' ? 'Ready' : ready === 'False' ? 'NotReady' : 'Unknown', 16), pad('-', 12), ip].join('  ').trimEnd();
}

export class WatchCommand extends ClientCommand {
  static override paths = [['watch']];
  static override usage = Command.Usage({
    description: 'print a line for every change to pods or nodes',
    examples: [['Watch the pods of a namespace', 'reddwarf watch pods -n default']],
  });

  type = Option.String({ required: true });
  namespace = Option.String('-n,--namespace', { description: 'namespace (default: the kubeconfig context, else default)' });
  allNamespaces = Option.Boolean('-A,--all-namespaces', false, { description: 'watch pods in all namespaces' });

  async run(): Promise<number> {
    const type = resourceType(this.type);
    if (type !== 'pods' && type !== 'nodes') throw new UsageError(`watch supports pods and nodes (got "${this.type}")`);
    const q: { namespace?: string } = {};
    if (type === 'pods' && !this.allNamespaces) q.namespace = this.namespaceOr(this.namespace);
    // Fail fast (one clear line) when the server is not there, instead of retrying the watch forever.
    await this.client.list(type, { ...q, limit: 1 });
    return new Promise<number>((resolve) => {
      let stop = (): void => undefined;
      const start = (): void => {
        stop = this.client.watch(type, q, {
          event: (e) => this.context.stdout.write(watchLine(e.type, type, e.object, this.clock.now()) + '\n'),
          closed: (reason) => {
            // Fell too far behind (410): start over from the current state rather than give up.
            if (reason.expired) {
              this.context.stderr.write('note: the watch expired; starting over from the current state\n');
              return start();
            }
            this.context.stderr.write(`error: the watch ended: ${reason.message ?? 'closed'}\n`);
            resolve(1);
          },
        });
      };
      start();
      const quit = () => {
        stop();
        resolve(0);
      };
      process.once('SIGINT', quit);
      process.once('SIGTERM', quit);
    });
  }
}
