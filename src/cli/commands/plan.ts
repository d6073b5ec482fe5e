// `reddwarf plan -f pod.yaml`: prints what the illumos runtime would run and write for a pod; runs and pulls nothing.
import { readFile } from 'node:fs/promises';
import { Command, Option, UsageError } from 'clipanion';
import { parse } from 'yaml';
import type { Pod } from '../../api/model/types.ts';
import { planPod } from '../../runtime/illumos/plan.ts';
import { defaultZonepathPrefix, storagePoolConfig, type StorageFlags } from '../../runtime/storage.ts';
import { PodSpecError } from '../../runtime/zonespec.ts';
import { agentFlags, parseBrands, withFlags } from '../flags.ts';
import { detectBrands, podBrandsOf } from '../../runtime/brands.ts';

function planBrands(): string[] {
  const found = podBrandsOf(detectBrands());
  return found.length > 0 ? found : ['sparse'];
}

export class PlanCommand extends withFlags(agentFlags) {
  static override paths = [['plan']];
  static override usage = Command.Usage({
    description: 'print the commands, zonecfg text and zone supervisor bundle the illumos runtime would run and write for a pod, and for its deletion, without running or pulling anything',
    examples: [['Plan a pod', 'reddwarf plan -f pod.yaml --storage-pool tank']],
  });

  file = Option.String('-f,--filename', { required: true, description: 'the Pod manifest (YAML or JSON)' });

  async execute(): Promise<number> {
    let pod: Pod;
    try {
      pod = parse(await readFile(this.file, 'utf8')) as Pod;
    } catch (e) {
      throw new UsageError(`-f ${this.file}: ${(e as Error).message}`);
    }
    if (!pod || typeof pod !== 'object' || (pod as { kind?: string }).kind !== 'Pod') throw new UsageError(`-f ${this.file}: not a Pod manifest`);
    const storage: StorageFlags = { pool: this.storagePool, ...(this.zonesDataset ? { zonesDataset: this.zonesDataset } : {}), ...(this.imagesDataset ? { imagesDataset: this.imagesDataset } : {}), ...(this.volumesDataset ? { volumesDataset: this.volumesDataset } : {}) };
    let zonepathPrefix: string;
    try {
      zonepathPrefix = this.zonepathPrefix ?? defaultZonepathPrefix(storagePoolConfig(storage));
    } catch (e) {
      throw new UsageError((e as Error).message);
    }
    // A plan is made for an illumos host, maybe elsewhere: auto takes this host's brands, else sparse
    // (a plain OmniOS host: lx is a separate package), so a pod without an lx image still plans.
    const brands = this.supportedBrands.trim() === 'auto' ? planBrands() : parseBrands(this.supportedBrands);
    try {
      this.context.stdout.write(await planPod(pod, { storage, etherstub: this.etherstubName, podCidr: this.podCidr, zonepathPrefix, brands, ...(this.directNic ? { directNic: this.directNic } : {}) }));
    } catch (e) {
      if (e instanceof PodSpecError) {
        this.context.stderr.write(`${e.message}\n`);
        return 1;
      }
      throw e;
    }
    return 0;
  }
}
