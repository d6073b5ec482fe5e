// The agent's pod host: the cluster actor with one pod actor per pod bound to this node, fed by
// the pod watch, and the runtime effects those actors invoke (provide()d here, in one place).
import { createActor, fromPromise, type ActorOptions, type AnyActorLogic, type InspectionEvent, type Observer } from 'xstate';
import { clusterMachine, podId } from '../../machines/cluster.ts';
import { podMachine, type Adoption, type PodEventRecord, type PodReport, type ZoneHealth, type ZoneUp } from '../../machines/pod.ts';
import type { Pod } from '../api/types.ts';
import { ClientError, type Client } from '../client/client.ts';
import type { Ipam, IpAllocation } from '../runtime/ipam.ts';
import { vnicName, zoneName } from '../runtime/names.ts';
import type { ZoneBrand, ZoneRuntime, ZoneSpec } from '../runtime/runtime.ts';
import { defaultBrandOn } from '../scheduler/brands.ts';
import { zoneSpecFor, type ZoneSpecOptions } from '../runtime/zonespec.ts';
import { eventFor, statusFor } from './report.ts';

export interface PodHostOptions {
  client: Client;
  node: string;
  hostIP?: string;
  runtime: ZoneRuntime;
  ipam: Ipam;
  zone: Omit<ZoneSpecOptions, 'ip'>;
  reconcileMs?: number;
  now?: () => number;
  clock?: ActorOptions<AnyActorLogic>['clock'];
  inspect?: Observer<InspectionEvent>;
  log: (m: string) => void;
}

export interface PodHost {
  actor: ReturnType<typeof createActor<typeof clusterMachine>>;
  /** Resolves once the first list of this node's pods has been adopted. */
  ready: Promise<void>;
  /** Stops the actors; resolves when the effects they aborted have wound down (≤ 5 s). */
  stop(): Promise<void>;
}

const keyOf = (pod: Pod): string => `${pod.metadata.namespace}/${pod.metadata.name}`;

/** Starts hosting the pods bound to `node` until stop(). Zones are left as they are on stop. */
export function startPodHost(o: PodHostOptions): PodHost {
  const now = o.now ?? Date.now;
  const pods = new Map<string, Pod>();
  const ns = (key: string): [string, string] => key.split('/') as [string, string];

  const pod = (key: string): Pod => {
    const p = pods.get(key);
    if (!p) throw new Error(`pod ${key} is no longer known to this agent`);
    return p;
  };

  const specFor = (p: Pod, ip: IpAllocation): ZoneSpec => zoneSpecFor(p, { ...o.zone, ip });

  /** A spec good enough to remove what a pod may have left, even if the pod cannot become a zone. */
  const cleanupSpec = (key: string): ZoneSpec => {
    const [namespace, name] = ns(key);
    const ip = o.ipam.lookup(key) ?? { ip: '0.0.0.0', prefixLen: 0, gateway: '0.0.0.0' };
    const p = pods.get(key);
    if (p) {
      try {
        return specFor(p, ip);
      } catch {
        // An lx pod without image, an unknown brand: nothing was built from it, names suffice.
      }
    }
    const zone = zoneName(namespace, name);
    // The brand does not matter to deprovisioning; the node's default stands in.
    const brand = (defaultBrandOn(o.zone.brands) ?? 'lx') as ZoneBrand;
    return { pod: key, uid: p?.metadata.uid ?? '', zoneName: zone, brand, zonepath: `${o.zone.zonepathPrefix}/${zone}`, network: { vnic: vnicName(namespace, name), link: o.zone.link, ...ip }, processes: [] };
  };

  const provision = async (key: string, signal: AbortSignal): Promise<ZoneUp> => {
    const p = pod(key);
    const ip = await o.ipam.allocate(key);
    try {
      const spec = specFor(p, ip);
      // Whatever a crash mid-provisioning left behind goes first.
      if ((await o.runtime.state(spec.zoneName)) !== 'absent') await o.runtime.deprovision(spec, signal);
      await o.runtime.provision(spec, signal);
      return { podIP: ip.ip };
    } catch (e) {
      // Provisioning leaves nothing behind, the address included (SPEC §11.6).
      await o.ipam.release(key);
      throw e;
    }
  };

  // Status writes are serialised per pod and coalesced: only the newest report matters.
  const pending = new Map<string, { report: PodReport; podIP?: string; restartCount: number }>();
  const writing = new Set<string>();
  const writeStatus = async (key: string): Promise<void> => {
    if (writing.has(key)) return;
    writing.add(key);
    try {
      for (let r = pending.get(key); r; r = pending.get(key)) {
        pending.delete(key);
        const [namespace, name] = ns(key);
        for (let attempt = 0; attempt < 5; attempt++) {
          try {
            const current = await o.client.get<Pod>('pods', namespace, name);
            const status = statusFor(current, r.report, { podIP: r.podIP, hostIP: o.hostIP, restartCount: r.restartCount, now: now() });
            await o.client.updateStatus<Pod>('pods', { ...current, status });
            break;
          } catch (e) {
            if (e instanceof ClientError && e.code === 404) break;
            if (!(e instanceof ClientError && e.code === 409) || attempt === 4) {
              o.log(`pod ${key}: status write failed: ${(e as Error).message}`);
              break;
            }
          }
        }
      }
    } finally {
      writing.delete(key);
    }
  };

  // Effects still running when the host stops (an aborted provision releasing its address):
  // stop() waits for them, so the agent does not close IPAM under their feet.
  const inflight = new Set<Promise<unknown>>();
  const track = <T>(p: Promise<T>): Promise<T> => {
    inflight.add(p);
    const forget = (): void => {
      inflight.delete(p);
    };
    p.then(forget, forget);
    return p;
  };

  const hosted = podMachine.provide({
    actors: {
      provisionZone: fromPromise<ZoneUp, { key: string }>(({ input, signal }) => track(provision(input.key, signal))),
      checkZone: fromPromise<ZoneHealth, { key: string }>(async ({ input }) => {
        const state = await o.runtime.state(cleanupSpec(input.key).zoneName);
        return state === 'running' ? 'running' : state === 'absent' ? 'absent' : 'stopped';
      }),
      restartZone: fromPromise<ZoneUp, { key: string }>(({ input, signal }) => track((async () => {
        const spec = cleanupSpec(input.key);
        // A vanished zone is built again; a stopped one is booted.
        if ((await o.runtime.state(spec.zoneName)) === 'absent') return provision(input.key, signal);
        await o.runtime.boot(spec.zoneName, signal);
        return { podIP: spec.network.ip };
      })())),
      shutdownZone: fromPromise<void, { key: string }>(({ input, signal }) => o.runtime.shutdown(cleanupSpec(input.key).zoneName, signal)),
      haltZone: fromPromise<void, { key: string }>(({ input, signal }) => o.runtime.halt(cleanupSpec(input.key).zoneName, signal)),
      deprovisionZone: fromPromise<{ problems: string[] }, { key: string }>(({ input, signal }) => track((async () => {
        const report = await o.runtime.deprovision(cleanupSpec(input.key), signal);
        await o.ipam.release(input.key);
        return report;
      })())),
      finalizePod: fromPromise<void, { key: string; uid: string }>(async ({ input }) => {
        const [namespace, name] = ns(input.key);
        try {
          await o.client.finalize('pods', namespace, name, { uid: input.uid });
        } catch (e) {
          if (!(e instanceof ClientError && e.code === 404)) throw e;
        }
      }),
    },
    actions: {
      report: ({ context }, r: PodReport) => {
        pending.set(context.key, { report: r, podIP: context.podIP, restartCount: context.restartCount });
        void writeStatus(context.key);
      },
      record: ({ context }, e: PodEventRecord) => {
        const p = pods.get(context.key);
        if (!p) return;
        o.client.create('events', eventFor(p, e, o.node, now())).catch((err: unknown) => o.log(`pod ${keyOf(p)}: could not record event ${e.reason}: ${(err as Error).message}`));
      },
    },
  });

  const logic = clusterMachine.provide({
    actors: { pod: hosted },
    actions: {
      childFailed: (_, { actorId, error }) => o.log(`actor ${actorId} failed: ${error instanceof Error ? error.message : String(error)}`),
    },
  });
  const host: PodHost = {
    actor: createActor(logic, { systemId: 'cluster', ...(o.clock ? { clock: o.clock } : {}), ...(o.inspect ? { inspect: o.inspect } : {}) }),
    ready: Promise.resolve(),
    async stop() {
      stopped = true;
      stopWatch();
      host.actor.stop();
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([Promise.allSettled([...inflight]), new Promise((r) => (timer = setTimeout(r, 5000)))]);
      clearTimeout(timer);
    },
  };
  host.actor.subscribe({ error: (e) => o.log(`pod host actor failed: ${String(e)}`) });
  host.actor.start();

  const graceLeft = (p: Pod): number => {
    const deadline = Date.parse(p.metadata.deletionTimestamp ?? '');
    return Number.isNaN(deadline) ? (p.metadata.deletionGracePeriodSeconds ?? 30) * 1000 : Math.max(0, deadline - now());
  };

  /** How a pod found at (re)start should resume: never re-provision a zone that runs. */
  const adoption = async (p: Pod): Promise<Adoption> => {
    if (p.metadata.deletionTimestamp) return 'terminating';
    const phase = p.status?.phase;
    if (phase === 'Failed' || phase === 'Succeeded') return 'failed';
    const state = await o.runtime.state(cleanupSpec(keyOf(p)).zoneName).catch(() => 'absent' as const);
    if (state === 'running') return 'running';
    // A pod that ran before gets its restart policy; one that never ran is provisioned (again).
    return phase === 'Running' ? 'stopped' : 'new';
  };

  const spawning = new Set<string>();
  const onPod = async (p: Pod): Promise<void> => {
    const key = keyOf(p);
    pods.set(key, p);
    const ref = host.actor.system.get(podId(key));
    if (ref) {
      if (p.metadata.deletionTimestamp) host.actor.send({ type: 'POD_DELETING', key, graceMs: graceLeft(p) });
      return;
    }
    if (spawning.has(key)) return;
    spawning.add(key);
    try {
      const adopt = await adoption(p);
      if (stopped || host.actor.system.get(podId(key)) || !pods.has(key)) return;
      const latest = pods.get(key) as Pod;
      const restartCount = (latest.status?.containerStatuses?.[0] as { restartCount?: number } | undefined)?.restartCount ?? 0;
      host.actor.send({
        type: 'POD_BOUND',
        input: { key, uid: latest.metadata.uid ?? '', restartPolicy: latest.spec.restartPolicy ?? 'Always', restartCount, adopt, graceMs: graceLeft(latest), podIP: latest.status?.podIP, reconcileMs: o.reconcileMs },
      });
      if (latest.metadata.deletionTimestamp && adopt !== 'terminating') host.actor.send({ type: 'POD_DELETING', key, graceMs: graceLeft(latest) });
    } finally {
      spawning.delete(key);
    }
  };

  let stopped = false;
  let stopWatch = (): void => {};
  let resolveReady: () => void = () => {};
  host.ready = new Promise((r) => (resolveReady = r));
  const watch = (): void => {
    const initial: Promise<void>[] = [];
    let listing = true;
    stopWatch = o.client.watch<Pod>('pods', { fieldSelector: `spec.nodeName=${o.node}` }, {
      event(e) {
        const key = keyOf(e.object);
        if (e.type === 'DELETED') {
          pods.delete(key);
          host.actor.send({ type: 'POD_REMOVED', key });
          return;
        }
        const done = onPod(e.object).catch((err: unknown) => o.log(`pod ${key}: ${(err as Error).message}`));
        if (listing) initial.push(done);
      },
      closed({ expired }) {
        if (stopped) return;
        o.log(`pod watch ended${expired ? ' (expired): relisting' : ''}`);
        setTimeout(watch, expired ? 0 : 1000).unref();
      },
    });
    listing = false;
    void Promise.all(initial).then(() => resolveReady());
  };
  watch();
  return host;
}
