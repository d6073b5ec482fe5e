// `reddwarf describe pod NAME`: spec summary, status, conditions and the pod's events.
import { Command, Option, UsageError } from 'clipanion';
import { translateTimestampSince } from '../../api/wire/table.ts';
import type { CoreEvent, Pod } from '../../api/model/types.ts';
import { ClientCommand } from '../client-command.ts';
import { resourceType } from '../render/rows.ts';
import { podReason, podRestarts, podState, podZone } from '../render/state.ts';
import { alignTable } from '../render/table.ts';

const pairs = (m: Record<string, string> | undefined): string => Object.entries(m ?? {}).map(([k, v]) => `${k}=${v}`).join(', ') || '<none>';

export class DescribeCommand extends ClientCommand {
  static override paths = [['describe']];
  static override usage = Command.Usage({
    description: 'show a pod in detail, with its events',
    examples: [['Describe a pod', 'reddwarf describe pod web -n default']],
  });

  type = Option.String({ required: true });
  name = Option.String({ required: true });
  namespace = Option.String('-n,--namespace', { description: 'namespace (default: the kubeconfig context, else default)' });

  async run(): Promise<number> {
    if (resourceType(this.type) !== 'pods') throw new UsageError(`describe supports pods only (got "${this.type}")`);
    const ns = this.namespaceOr(this.namespace);
    const pod = await this.client.get<Pod>('pods', ns, this.name);
    const now = this.clock.now();
    const s = pod.status ?? {};
    const out: string[] = [];
    const line = (k: string, v: string | undefined) => out.push(`${(k + ':').padEnd(14)}${v || '<none>'}`);
    line('Name', pod.metadata.name);
    line('Namespace', pod.metadata.namespace);
    line('State', podState(pod));
    line('Phase', s.phase);
    const reason = podReason(pod);
    if (reason) line('Reason', reason);
    line('Node', pod.spec.nodeName);
    line('Zone', podZone(pod));
    line('IP', s.podIP);
    line('Host IP', s.hostIP);
    line('Created', pod.metadata.creationTimestamp ? `${pod.metadata.creationTimestamp} (${translateTimestampSince(pod.metadata.creationTimestamp, now)} ago)` : undefined);
    line('Started', s.startTime);
    line('Labels', pairs(pod.metadata.labels));
    line('Restart', pod.spec.restartPolicy ?? 'Always');
    line('Restarts', String(podRestarts(pod)));
    if (pod.metadata.deletionTimestamp) line('Deleting', `since ${pod.metadata.deletionTimestamp}`);
    out.push('Containers:');
    for (const c of pod.spec.containers) {
      out.push(`  ${c.name}:`);
      out.push(`    Image:      ${c.image ?? '<none>'}`);
      if (c.command?.length) out.push(`    Command:    ${c.command.join(' ')}`);
      if (c.args?.length) out.push(`    Args:       ${c.args.join(' ')}`);
      const req = c.resources?.requests;
      if (req) out.push(`    Requests:   ${pairs(req as Record<string, string>)}`);
    }
    out.push('Conditions:');
    const conds = s.conditions ?? [];
    if (conds.length === 0) out.push('  <none>');
    else out.push(...alignTable(['Type', 'Status', 'Reason'], conds.map((c) => [c.type, c.status, c.reason ?? ''])).trimEnd().split('\n').map((l) => `  ${l}`));
    const events = (await this.client.list<CoreEvent>('events', { namespace: ns, fieldSelector: `involvedObject.name=${this.name},involvedObject.namespace=${ns}` })).items
      .filter((e) => !e.involvedObject.uid || !pod.metadata.uid || e.involvedObject.uid === pod.metadata.uid)
      .sort((a, b) => (a.lastTimestamp ?? a.metadata.creationTimestamp ?? '').localeCompare(b.lastTimestamp ?? b.metadata.creationTimestamp ?? '') || Number(a.metadata.resourceVersion) - Number(b.metadata.resourceVersion));
    out.push('Events:');
    if (events.length === 0) out.push('  <none>');
    else {
      const rows = events.map((e) => [e.type ?? 'Normal', e.reason ?? '', translateTimestampSince(e.lastTimestamp ?? e.metadata.creationTimestamp, now), e.source?.component ?? e.reportingComponent ?? '', e.message ?? '']);
      out.push(...alignTable(['Type', 'Reason', 'Age', 'From', 'Message'], rows).trimEnd().split('\n').map((l) => `  ${l}`));
    }
    this.context.stdout.write(out.join('\n') + '\n');
    return 0;
  }
}
