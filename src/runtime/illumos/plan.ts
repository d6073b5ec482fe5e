// `reddwarf plan`: the exact commands and zonecfg text the illumos runtime would run for a pod —
// agent start, provisioning, deletion — produced by the runtime itself on a DryRunRunner.
import type { Pod } from '../../api/types.ts';
import { formatIpv4, parseCidr } from '../ipam.ts';
import type { StorageFlags } from '../storage.ts';
import { zoneSpecFor } from '../zonespec.ts';
import { DryRunRunner, type PlannedCommand } from './dryrun.ts';
import type { IllumosZoneSpec } from './runtime.ts';
import { illumosRuntime, podLink } from './start.ts';

export interface PlanOptions {
  storage: StorageFlags;
  etherstub: string;
  directNic?: string;
  podCidr: string;
  zonepathPrefix: string;
  /** The brands the planned node offers (the pod's default comes from them). */
  brands: readonly string[];
}

/** Shell-quotes an argument for display when it needs it. */
function quote(arg: string): string {
  return /^[A-Za-z0-9_./:=@,+$-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`;
}

function render(commands: PlannedCommand[]): string[] {
  const out: string[] = [];
  for (const c of commands) {
    if (c.file) {
      out.push(`# ${c.file.path}:`);
      for (const l of c.file.text.split('\n')) out.push(`#   ${l}`);
    }
    out.push(c.argv.map(quote).join(' '));
  }
  return out;
}

/** Persistent volumes of the pod: its PersistentVolumeClaims, one dataset each (`<ns>-<claim>`). */
function claimVolumes(pod: Pod): string[] {
  const volumes = (pod.spec as { volumes?: { persistentVolumeClaim?: { claimName?: string } }[] } | undefined)?.volumes ?? [];
  const ns = pod.metadata?.namespace || 'default';
  return volumes.flatMap((v) => (v.persistentVolumeClaim?.claimName ? [`${ns}-${v.persistentVolumeClaim.claimName}`] : []));
}

/** The plan text for `pod` (nothing is run). Throws PodSpecError for a pod that cannot be a zone. */
export async function planPod(pod: Pod, o: PlanOptions): Promise<string> {
  const runner = new DryRunRunner(o.directNic ? [o.directNic] : []);
  const cidr = parseCidr(o.podCidr);
  const ip = { ip: formatIpv4(cidr.first), prefixLen: cidr.prefixLen, gateway: formatIpv4(cidr.gateway) };
  const link = podLink(o);
  const spec: IllumosZoneSpec = zoneSpecFor(pod, { zonepathPrefix: o.zonepathPrefix, link: link.name, ip, brands: o.brands, lxNeedsImage: true });
  if (!spec.uid) spec.uid = '<pod uid>';
  const volumes = claimVolumes(pod);
  if (volumes.length > 0) spec.volumes = volumes;
  const rt = illumosRuntime({ storage: o.storage, etherstub: o.etherstub, podCidr: o.podCidr, runner, ...(o.directNic ? { directNic: o.directNic } : {}) });
  await rt.initialize();
  const start = runner.take();
  await rt.provision(spec);
  const provision = runner.take();
  await rt.deprovision(spec);
  const deletion = runner.take();
  const n = spec.network;
  return [
    `# reddwarf plan for pod ${spec.pod}: nothing was run.`,
    `# zone ${spec.zoneName} (brand ${spec.brand}), VNIC ${n.vnic} on ${link.kind} ${link.name}, address ${n.ip}/${n.prefixLen} via ${n.gateway}`,
    `# (the first free address of ${cidr.cidr}; the agent hands out the lowest free one)`,
    '',
    '## agent start (once per host)',
    ...render(start),
    '',
    '## apply: provision',
    ...render(provision),
    '',
    '## delete: deprovision (persistent volumes are kept)',
    ...render(deletion),
    '',
  ].join('\n');
}
