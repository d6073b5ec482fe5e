// `reddwarf get TYPE [NAME]`: pods, nodes, services, namespaces or runtimeclasses as an aligned table, JSON or YAML.
import { Command, Option, UsageError } from 'clipanion';
import type { KubeObject } from '../../api/model/types.ts';
import { ClientCommand } from '../client-command.ts';
import { NAMESPACED, resourceType, tableFor } from '../render/rows.ts';
import { alignTable, renderObjects } from '../render/table.ts';

/** `-o` values. */
export function outputFormat(v: string): 'table' | 'wide' | 'json' | 'yaml' {
  if (v === 'table' || v === 'wide' || v === 'json' || v === 'yaml') return v;
  throw new UsageError(`-o must be wide, json or yaml (got ${JSON.stringify(v)})`);
}

export class GetCommand extends ClientCommand {
  static override paths = [['get']];
  static override usage = Command.Usage({
    description: 'list pods, nodes, services, namespaces or runtimeclasses (the zone brands offered)',
    details: 'Pods show their STATE (Pending, Provisioning, Running, CrashLoopBackOff, Failed, Terminating), NODE, IP and illumos ZONE.',
    examples: [
      ['Pods in the default namespace', 'reddwarf get pods'],
      ['Every pod, with more columns', 'reddwarf get pods -A -o wide'],
      ['One node as YAML', 'reddwarf get node n1 -o yaml'],
    ],
  });

  type = Option.String({ required: true });
  name = Option.String({ required: false });
  namespace = Option.String('-n,--namespace', { description: 'namespace (default: the kubeconfig context, else default)' });
  allNamespaces = Option.Boolean('-A,--all-namespaces', false, { description: 'list across all namespaces' });
  selector = Option.String('-l,--selector', { description: 'label selector, e.g. app=web' });
  output = Option.String('-o,--output', 'table', { description: 'wide, json or yaml' });

  async run(): Promise<number> {
    const type = resourceType(this.type);
    const format = outputFormat(this.output);
    if (this.name && this.allNamespaces) throw new UsageError('a name cannot be combined with -A');
    const namespaced = NAMESPACED[type];
    const ns = namespaced && !this.allNamespaces ? this.namespaceOr(this.namespace) : undefined;
    let objs: KubeObject[];
    if (this.name) {
      objs = [await this.client.get(type, ns ?? '', this.name)];
    } else {
      const q: { namespace?: string; labelSelector?: string } = {};
      if (ns !== undefined) q.namespace = ns;
      if (this.selector) q.labelSelector = this.selector;
      objs = (await this.client.list(type, q)).items;
    }
    if (format === 'json' || format === 'yaml') {
      this.context.stdout.write(renderObjects(this.name ? objs[0]! : objs, format));
      return 0;
    }
    if (objs.length === 0) {
      this.context.stderr.write(ns !== undefined ? `No resources found in ${ns} namespace.\n` : 'No resources found\n');
      return 0;
    }
    const { header, rows } = tableFor(type, objs, { wide: format === 'wide', withNamespace: namespaced && this.allNamespaces, now: this.clock.now() });
    this.context.stdout.write(alignTable(header, rows));
    return 0;
  }
}
