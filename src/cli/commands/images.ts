// `reddwarf images [prune]`: the images a node's agent has stored under `<data-dir>/images`
// (reference, digest, size, the pods using each), and removing those no pod uses.
import { Command, Option, UsageError } from 'clipanion';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { ImageStore } from '../../images/store.ts';
import { ExecRunner } from '../../runtime/illumos/exec.ts';

/** Sizes as crictl prints them (decimal units). */
export function humanSize(bytes: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB'];
  let v = bytes;
  let u = 0;
  while (v >= 1000 && u < units.length - 1) {
    v /= 1000;
    u++;
  }
  return u === 0 ? `${v}B` : `${v.toFixed(v < 10 ? 2 : v < 100 ? 1 : 0)}${units[u]}`;
}

const shortDigest = (d: string): string => d.replace(/^sha256:/, '').slice(0, 12);

/** The agent's store in `dataDir`, or undefined when it has none yet. */
async function openAgentStore(dataDir: string): Promise<ImageStore | undefined> {
  const dir = join(dataDir, 'images');
  if (!existsSync(join(dir, 'index.json'))) return undefined;
  // The backend (dir or ZFS dataset) is recorded in the index; ZFS goes through the host's tools.
  return ImageStore.open({ dir, runner: new ExecRunner() });
}

export class ImagesCommand extends Command {
  static override paths = [['images']];
  static override usage = Command.Usage({
    description: "list the images stored on this node",
    details: "Reads the node agent's image store in `<data-dir>/images`: reference, digest, size and the pods using each image.",
    examples: [['List', 'reddwarf images --data-dir ./reddwarf-agent'], ['As JSON', 'reddwarf images -o json']],
  });

  dataDir = Option.String('--data-dir', './reddwarf-agent', { description: "the node agent's data directory" });
  output = Option.String('-o,--output', 'table', { description: 'table or json' });

  async execute(): Promise<number> {
    if (this.output !== 'table' && this.output !== 'json') throw new UsageError(`-o ${this.output}: use table or json`);
    const store = await openAgentStore(this.dataDir);
    const list = store?.list() ?? [];
    if (this.output === 'json') {
      this.context.stdout.write(`${JSON.stringify(list, null, 2)}\n`);
      return 0;
    }
    if (list.length === 0) {
      this.context.stdout.write(`No images in ${join(this.dataDir, 'images')}.\n`);
      return 0;
    }
    const rows = [['REFERENCE', 'DIGEST', 'SIZE', 'PODS'], ...list.map((i) => [i.ref, shortDigest(i.digest), humanSize(i.size), i.users.join(',') || '<none>'])];
    const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
    this.context.stdout.write(rows.map((r) => r.map((cell, c) => (c === r.length - 1 ? cell : cell.padEnd(widths[c]!))).join('   ')).join('\n') + '\n');
    return 0;
  }
}

export class ImagesPruneCommand extends Command {
  static override paths = [['images', 'prune']];
  static override usage = Command.Usage({
    description: 'remove the images no pod uses',
    details: 'Removes every stored image no pod on this node uses, with the layer chains and blobs nothing else needs.',
    examples: [['Prune', 'reddwarf images prune --data-dir ./reddwarf-agent']],
  });

  dataDir = Option.String('--data-dir', './reddwarf-agent', { description: "the node agent's data directory" });

  async execute(): Promise<number> {
    const store = await openAgentStore(this.dataDir);
    const removed = store ? await store.prune() : [];
    for (const i of removed) this.context.stdout.write(`deleted ${i.ref} (${i.digest}, ${humanSize(i.size)})\n`);
    this.context.stdout.write(`${removed.length} image${removed.length === 1 ? '' : 's'} removed, ${humanSize(removed.reduce((s, i) => s + i.size, 0))} freed\n`);
    return 0;
  }
}
