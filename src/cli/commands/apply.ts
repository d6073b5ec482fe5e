// `reddwarf apply -f FILE|-`: create each object in a YAML/JSON file, or replace it when it exists;
// `--wait` follows the pods until they run.
import { readFileSync } from 'node:fs';
import { Command, Option, UsageError } from 'clipanion';
import { parseAllDocuments } from 'yaml';
import { apiVersionOf, kindDef } from '../../api/model/resources.ts';
import type { KubeObject } from '../../api/model/types.ts';
import { ClientError } from '../../client/client.ts';
import { ClientCommand, CliFailure } from '../client-command.ts';
import { parseDuration } from '../flags.ts';
import { followPod } from '../render/progress.ts';

const isRecord = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

/** The objects in a YAML or JSON text (several documents, `kind: List` expanded). */
export function parseManifests(text: string, source: string): KubeObject[] {
  const out: KubeObject[] = [];
  const docs = parseAllDocuments(text);
  for (const [i, doc] of (Array.isArray(docs) ? docs : [docs]).entries()) {
    const err = doc.errors[0];
    if (err) throw new CliFailure(`${source}: not valid YAML or JSON (document ${i + 1}): ${err.message.split('\n')[0]}`);
    const v: unknown = doc.toJS({ maxAliasCount: 100 });
    if (v === null || v === undefined) continue;
    const items = isRecord(v) && v.kind === 'List' && Array.isArray(v.items) ? (v.items as unknown[]) : [v];
    for (const item of items) {
      if (!isRecord(item) || typeof item.kind !== 'string' || !isRecord(item.metadata)) {
        throw new CliFailure(`${source}: document ${i + 1} is not a Kubernetes object (it needs kind and metadata)`);
      }
      out.push(item as KubeObject);
    }
  }
  if (out.length === 0) throw new CliFailure(`${source}: no objects in it`);
  return out;
}

/** Whether everything `want` says is already so in `have` (server-filled fields aside). */
export function isSubset(want: unknown, have: unknown): boolean {
  if (Array.isArray(want)) return Array.isArray(have) && want.length === have.length && want.every((w, i) => isSubset(w, have[i]));
  if (isRecord(want)) return isRecord(have) && Object.entries(want).every(([k, v]) => isSubset(v, have[k]));
  return want === have;
}

/** `want` laid over `live`: mappings merge, lists of mappings of the same length merge item by item. */
export function overlay(live: unknown, want: unknown): unknown {
  if (isRecord(want) && isRecord(live)) {
    const out: Record<string, unknown> = { ...live };
    for (const [k, v] of Object.entries(want)) out[k] = overlay(live[k], v);
    return out;
  }
  if (Array.isArray(want) && Array.isArray(live) && want.length === live.length && want.every(isRecord)) return want.map((w, i) => overlay(live[i], w));
  return want;
}

export class ApplyCommand extends ClientCommand {
  static override paths = [['apply']];
  static override usage = Command.Usage({
    description: 'create or replace the objects in a YAML or JSON file',
    details: 'Objects that exist are replaced at their live resourceVersion. With `--wait`, follows each pod through Pending → Provisioning → Running and prints its IP; exits 1 if one fails or the timeout passes.',
    examples: [
      ['Apply a file and wait for its pods', 'reddwarf apply -f pod.yaml --wait'],
      ['Apply from standard input', 'cat pod.yaml | reddwarf apply -f -'],
    ],
  });

  file = Option.String('-f,--filename', { required: true, description: 'file to apply, or - for standard input' });
  namespace = Option.String('-n,--namespace', { description: 'namespace for objects that name none' });
  wait = Option.Boolean('--wait', false, { description: 'wait for the applied pods to run' });
  timeout = Option.String('--timeout', '120s', { description: 'how long --wait waits' });

  async run(): Promise<number> {
    const timeoutMs = parseDuration('--timeout', this.timeout);
    let text: string;
    try {
      text = readFileSync(this.file === '-' ? 0 : this.file, 'utf8');
    } catch (e) {
      throw new CliFailure(`cannot read ${this.file}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message}`);
    }
    const objs = parseManifests(text, this.file === '-' ? 'standard input' : this.file);
    const defs = objs.map((o) => {
      const def = kindDef(o.kind ?? '', o.apiVersion ?? 'v1');
      if (!def) throw new UsageError(`unknown kind "${o.kind}" in ${o.apiVersion ?? 'v1'} (reddwarf serves Pod, Node, Namespace, Service, Event and Secret in v1, RuntimeClass in node.k8s.io/v1, Lease in coordination.k8s.io/v1)`);
      if (!o.metadata.name) throw new CliFailure(`${def.singular} without metadata.name`);
      return def;
    });
    const pods: { ns: string; name: string }[] = [];
    for (const [i, obj] of objs.entries()) {
      const def = defs[i]!;
      obj.apiVersion ??= apiVersionOf(def);
      const ns = def.namespaced ? (obj.metadata.namespace ?? this.namespaceOr(this.namespace)) : '';
      if (def.namespaced) obj.metadata.namespace = ns;
      const verb = await this.createOrReplace(def.resource, ns, obj);
      this.context.stdout.write(`${def.singular}/${obj.metadata.name} ${verb}\n`);
      if (def.resource === 'pods') pods.push({ ns, name: obj.metadata.name! });
    }
    if (!this.wait) return 0;
    const tty = Boolean((this.context.stdout as { isTTY?: boolean }).isTTY);
    let ok = true;
    for (const p of pods) {
      const r = await followPod(this.client, p.ns, p.name, { timeoutMs, out: this.context.stdout, tty, clock: this.clock });
      ok &&= r.ok;
    }
    return ok ? 0 : 1;
  }

  /** Creates, or replaces at the live resourceVersion (once more after a race). */
  private async createOrReplace(resource: string, ns: string, obj: KubeObject): Promise<'created' | 'configured' | 'unchanged'> {
    for (let attempt = 0; ; attempt++) {
      let live: KubeObject | undefined;
      try {
        live = await this.client.get(resource, ns, obj.metadata.name!);
      } catch (e) {
        if (!(e instanceof ClientError && e.code === 404)) throw e;
      }
      try {
        if (!live) {
          delete obj.metadata.resourceVersion;
          await this.client.create(resource, obj);
          return 'created';
        }
        const { status: _status, ...want } = obj;
        if (isSubset(want, live)) return 'unchanged';
        // Keep what the server filled in (nodeName, defaults): kinds such as Pod refuse to lose it.
        const next = overlay(live, want) as KubeObject;
        next.metadata.resourceVersion = live.metadata.resourceVersion;
        await this.client.update(resource, next);
        return 'configured';
      } catch (e) {
        if (attempt < 2 && e instanceof ClientError && (e.code === 409)) continue;
        throw e;
      }
    }
  }
}
