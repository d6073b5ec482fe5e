// The agent's pod host: the cluster actor with one pod actor per pod bound to this node (in
// shards, machines/pod-shard.ts), fed by a pod informer, and the runtime effects those actors
// invoke (provide()d here, in one place).
import { createActor, fromPromise, type InspectionEvent, type Observer } from 'xstate';
import { clusterMachine, hostingPods, podId } from '../../machines/cluster.ts';
import { podMachine, type Adoption, type PodEventRecord, type PodReport, type ZoneHealth, type ZoneUp } from '../../machines/pod.ts';
import type { Pod, PodStatus } from '../api/model/types.ts';
import { ClientError, type Client } from '../client/client.ts';
import { startInformer } from '../client/informer.ts';
import { every, realClock, sleep, type Clock } from '../time/clock.ts';
import type { Ipam, IpAllocation } from '../runtime/ipam.ts';
import { vnicName, zoneName } from '../api/model/zone-names.ts';
import type { ContainerRuntimeStatus, RuntimeContainer, ZoneBrand, ZoneRuntime, ZoneSpec } from '../runtime/runtime.ts';
import { defaultBrandOn } from '../api/model/brands.ts';
import { zoneSpecFor, type ZoneSpecOptions } from '../runtime/zonespec.ts';
import { digestRef, parseImageRef } from '../images/reference.ts';
import { eventFor, statusFor, type ContainerFacts } from './report.ts';

/** What the pod host needs to turn a pod's containers into runnable ones: images and their configs. */
export interface PodWorkload {
  /**
   * Makes every image of the pod present (imagePullPolicy, imagePullSecrets), recording kubelet's
   * Pulling / Pulled / Failed events through `record`; throws the first failure (its message is the
   * ErrImagePull message).
   */
  pull(pod: Pod, record: (e: PodEventRecord) => void, signal: AbortSignal): Promise<void>;
  /** The pod's containers resolved against their pulled images. */
  resolve(pod: Pod): Promise<{ initContainers: RuntimeContainer[]; containers: RuntimeContainer[] }>;
  /** The pod no longer uses its images (it was deprovisioned). */
  release(podKey: string): void;
}

/** How often the containers' own states (exits, restarts) are read: kubelet's PLEG relists every second. */
export const CONTAINER_POLL_MS = 2_000;
/** A failed status write is tried again after 1 s, doubling to 30 s (kubelet retries its status manager sync likewise). */
const STATUS_RETRY_MS = 1_000;
const STATUS_RETRY_MAX_MS = 30_000;

export interface PodHostOptions {
  client: Client;
  node: string;
  hostIP?: string;
  runtime: ZoneRuntime;
  ipam: Ipam;
  zone: Omit<ZoneSpecOptions, 'ip'>;
  reconcileMs?: number;
  /** Images and container resolution; without it containers run their command on the zone's userland. */
  workload?: PodWorkload;
  containerPollMs?: number;
  /** Every timer of the host (actors, container poll, retries) and its timestamps; realClock by default. */
  clock?: Clock;
  inspect?: Observer<InspectionEvent>;
  log: (m: string) => void;
}

export interface PodHost {
  actor: ReturnType<typeof createActor<typeof clusterMachine>>;
  /** Resolves once every pod bound to this node at the first list has its actor. */
  ready: Promise<void>;
  /** Stops the actors; resolves when the effects they aborted have wound down (≤ 5 s). */
  stop(): Promise<void>;
}

const keyOf = (pod: Pod): string => `${pod.metadata.namespace}/${pod.metadata.name}`;

/** The image each container names, by container name (init containers included). */
const imagesOf = (pod: Pod): Map<string, string> => new Map([...(pod.spec.initContainers ?? []), ...pod.spec.containers].map((c) => [c.name, c.image ?? '']));

/** containerStatuses[].imageID as containerd reports it: the repository at the digest the reference resolved to. */
const imageIdOf = (ref: string, digest: string): string => {
  try {
    return digestRef(parseImageRef(ref), digest);
  } catch {
    return `${ref}@${digest}`;
  }
};

const sameImages = (a: Map<string, string> | undefined, b: Map<string, string>): boolean => a !== undefined && a.size === b.size && [...b].every(([k, v]) => a.get(k) === v);

/** A JSON merge patch (RFC 7386) turning status `from` into `to`: top-level fields, removed ones as null. */
function mergePatch(from: PodStatus, to: PodStatus): Record<string, unknown> {
  const patch: Record<string, unknown> = { ...to };
  for (const k of Object.keys(from)) if (!(k in to)) patch[k] = null;
  return patch;
}

/** Starts hosting the pods bound to `node` until stop(). Zones are left as they are on stop. */
export function startPodHost(o: PodHostOptions): PodHost {
  const clock = o.clock ?? realClock;
  const now = (): number => clock.now();
  const pods = new Map<string, Pod>();
  const ns = (key: string): [string, string] => key.split('/') as [string, string];

  const pod = (key: string): Pod => {
    const p = pods.get(key);
    if (!p) throw new Error(`pod ${key} is no longer known to this agent`);
    return p;
  };

  // The containers of each pod as last resolved against its images: what its zone runs.
  const resolved = new Map<string, { initContainers: RuntimeContainer[]; containers: RuntimeContainer[] }>();
  const specFor = (p: Pod, ip: IpAllocation): ZoneSpec => {
    const r = resolved.get(keyOf(p));
    return zoneSpecFor(p, { ...o.zone, ip, ...(r ? { resolved: r } : {}) });
  };
  const resolve = async (p: Pod): Promise<void> => {
    if (o.workload) resolved.set(keyOf(p), await o.workload.resolve(p));
  };
  // The images each pod's zone was built or last updated with: a new one in the spec restarts that container.
  const applied = new Map<string, Map<string, string>>();
  const runtimeStatuses = new Map<string, ContainerRuntimeStatus[]>();
  /** The same statuses as JSON: what the next poll compares with (one stringify per pod and poll). */
  const runtimeStatusText = new Map<string, string>();

  /** A running pod's spec names new images: pull them, then restart just those containers on them. */
  const updateContainers = async (key: string, signal: AbortSignal): Promise<void> => {
    const p = pod(key);
    const before = applied.get(key) ?? new Map<string, string>();
    const after = imagesOf(p);
    if (o.workload) await o.workload.pull(p, (e) => record(key, e), signal);
    await resolve(p);
    const spec = cleanupSpec(key);
    const grace = p.spec.terminationGracePeriodSeconds ?? 30;
    for (const c of spec.containers) {
      if (before.get(c.name) === after.get(c.name)) continue;
      record(key, { reason: 'Killing', message: `Container ${c.name} definition changed, will be restarted` });
      await o.runtime.restartContainer(spec, c, grace, signal);
      record(key, { reason: 'Started', message: `Started container ${c.name}` });
    }
    applied.set(key, after);
  };

  /** Reads every running pod's container states; writes the ones that changed, and ends pods whose containers are done. */
  const pollContainers = async (): Promise<void> => {
    for (const [id, ref] of Object.entries(host.actor.system.getAll())) {
      if (stopped) return;
      if (!id.startsWith('pod/') || !(ref.getSnapshot() as { matches(s: string): boolean }).matches('Running')) continue;
      const key = id.slice('pod/'.length);
      if (!pods.has(key)) continue;
      const spec = cleanupSpec(key);
      let statuses: ContainerRuntimeStatus[];
      try {
        statuses = await o.runtime.containerStatuses(spec);
      } catch {
        continue;
      }
      const text = JSON.stringify(statuses);
      if (text === runtimeStatusText.get(key)) continue;
      const prev = runtimeStatuses.get(key);
      runtimeStatuses.set(key, statuses);
      runtimeStatusText.set(key, text);
      facts.set(key, new Map(statuses.map((st) => [st.name, { runtime: st }])));
      for (const st of statuses) {
        const was = prev?.find((x) => x.name === st.name);
        if (was && st.instance > was.instance) record(key, { reason: 'Started', message: `Started container ${st.name}` });
        if (st.state === 'waiting' && st.reason === 'CrashLoopBackOff' && (was?.state !== 'waiting' || was.instance !== st.instance)) {
          const [ns, name] = key.split('/');
          record(key, { reason: 'BackOff', type: 'Warning', message: `Back-off restarting failed container ${st.name} in pod ${name}_${ns}(${spec.uid})` });
        }
      }
      const last = lastReport.get(key);
      if (last) requestStatus(key, last);
      // Every app container ended and none will run again (OnFailure after success, Never): the pod is done.
      const apps = spec.containers.map((c) => statuses.find((st) => st.name === c.name));
      if (apps.length > 0 && apps.every((st) => st?.state === 'terminated')) {
        const failed = apps.find((st) => (st?.exitCode ?? 0) !== 0);
        host.actor.send({ type: 'POD_CONTAINERS_DONE', key, succeeded: !failed, message: failed ? `container ${failed.name} exited with code ${failed.exitCode ?? 0}` : '' });
      }
    }
  };

  // The last spec built per pod, reused while its inputs are the same objects: the container poll
  // asks for every running pod's spec every period.
  const specs = new Map<string, { pod: Pod | undefined; ip: string; r: unknown; spec: ZoneSpec }>();
  /** A spec good enough to remove what a pod may have left, even if the pod cannot become a zone. */
  const cleanupSpec = (key: string): ZoneSpec => {
    const ip = o.ipam.lookup(key) ?? { ip: '0.0.0.0', prefixLen: 0, gateway: '0.0.0.0' };
    const p = pods.get(key);
    const r = resolved.get(key);
    const cached = specs.get(key);
    if (cached && cached.pod === p && cached.ip === ip.ip && cached.r === r) return cached.spec;
    const spec = buildSpec(key, p, ip);
    specs.set(key, { pod: p, ip: ip.ip, r, spec });
    return spec;
  };
  const buildSpec = (key: string, p: Pod | undefined, ip: IpAllocation): ZoneSpec => {
    const [namespace, name] = ns(key);
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
    return { pod: key, uid: p?.metadata.uid ?? '', zoneName: zone, brand, zonepath: `${o.zone.zonepathPrefix}/${zone}`, network: { vnic: vnicName(namespace, name), link: o.zone.link, ...ip }, restartPolicy: 'Always', initContainers: [], containers: [] };
  };

  const provision = async (key: string, signal: AbortSignal): Promise<ZoneUp> => {
    const p = pod(key);
    const ip = await o.ipam.allocate(key);
    try {
      // After the address: a container's env may name status.podIP.
      await resolve(p);
      applied.set(key, imagesOf(p));
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

  // Status writes are serialised per pod and coalesced: only the newest report matters. The last
  // report is kept so a container change alone (seen by the poller) can be written with it.
  const pending = new Map<string, { report: PodReport; podIP?: string; restartCount: number }>();
  const lastReport = new Map<string, { report: PodReport; podIP?: string; restartCount: number }>();
  const facts = new Map<string, Map<string, ContainerFacts>>();
  // The status as the server last answered our write: newer than the watch's copy until the watch catches up.
  const written = new Map<string, { uid: string; status: PodStatus }>();
  const requestStatus = (key: string, r: { report: PodReport; podIP?: string; restartCount: number }): void => {
    lastReport.set(key, r);
    pending.set(key, r);
    void writeStatus(key);
  };
  const writing = new Set<string>();
  const retryDelay = new Map<string, number>();
  const retryTimers = new Map<string, unknown>();
  /** One merge PATCH of the status per write, from what the agent knows: no GET, no conflict to retry. */
  const writeStatus = async (key: string): Promise<void> => {
    if (writing.has(key)) return;
    writing.add(key);
    try {
      for (let r = pending.get(key); r; r = pending.get(key)) {
        pending.delete(key);
        const current = pods.get(key);
        if (!current || stopped) break;
        const [namespace, name] = ns(key);
        const mine = written.get(key);
        const base = mine && mine.uid === current.metadata.uid ? { ...current, status: mine.status } : current;
        const status = statusFor(base, r.report, { podIP: r.podIP, hostIP: o.hostIP, restartCount: r.restartCount, now: now(), containers: factsFor(key) });
        try {
          const updated = await o.client.patch<Pod>('pods', namespace, name, { metadata: { uid: current.metadata.uid }, status: mergePatch(base.status ?? {}, status) }, { status: true });
          written.set(key, { uid: updated.metadata.uid ?? '', status: updated.status ?? status });
          retryDelay.delete(key);
        } catch (e) {
          // Gone or replaced (404, uid precondition 409): nothing to report. Anything else (429
          // from a busy server, 5xx, a dropped connection) is retried with back-off, or the pod
          // would show its old phase for good.
          if (e instanceof ClientError && (e.code === 404 || e.code === 409)) continue;
          const delay = retryDelay.get(key) ?? STATUS_RETRY_MS;
          retryDelay.set(key, Math.min(delay * 2, STATUS_RETRY_MAX_MS));
          o.log(`pod ${key}: status write failed: ${(e as Error).message}; retrying in ${delay} ms`);
          if (!pending.has(key)) pending.set(key, r);
          if (!retryTimers.has(key)) retryTimers.set(key, clock.setTimeout(() => {
            retryTimers.delete(key);
            void writeStatus(key);
          }, delay));
          break;
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

  const record = (key: string, e: PodEventRecord): void => {
    const p = pods.get(key);
    if (!p) return;
    // `up` runs the scheduler in this process, naming its events from the same clock: a name taken
    // meanwhile (Scheduled and Pulling in one millisecond) is retried with the next one, not lost.
    const create = async (): Promise<void> => {
      for (let attempt = 1; ; attempt++) {
        try {
          await o.client.create('events', eventFor(p, e, o.node, now()));
          return;
        } catch (err) {
          if (!(err instanceof ClientError && err.reason === 'AlreadyExists' && attempt < 4)) throw err;
        }
      }
    };
    create().catch((err: unknown) => o.log(`pod ${key}: could not record event ${e.reason}: ${(err as Error).message}`));
  };

  /** The container facts of a pod: the supervisor's statuses and the image each runs. */
  const factsFor = (key: string): Map<string, ContainerFacts> => {
    const out = new Map(facts.get(key) ?? []);
    const r = resolved.get(key);
    for (const c of [...(r?.initContainers ?? []), ...(r?.containers ?? [])]) {
      if (c.image) out.set(c.name, { ...out.get(c.name), imageID: imageIdOf(c.image.ref, c.image.digest) });
    }
    return out;
  };

  const hosted = podMachine.provide({
    actors: {
      pullImages: fromPromise<void, { key: string }>(async ({ input, signal }) => {
        if (o.workload) await o.workload.pull(pod(input.key), (e) => record(input.key, e), signal);
      }),
      updateContainers: fromPromise<void, { key: string }>(({ input, signal }) => track(updateContainers(input.key, signal))),
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
      shutdownZone: fromPromise<void, { key: string; graceMs: number }>(async ({ input, signal }) => {
        const spec = cleanupSpec(input.key);
        // A zone that never got to run (deleted while its images were pulled) has nothing to stop:
        // that is no failure, and no reason to halt anything.
        if ((await o.runtime.state(spec.zoneName)) !== 'running') return;
        // The containers get SIGTERM and their grace (the machine halts the zone when it runs out).
        await o.runtime.stopContainers(spec, Math.ceil(input.graceMs / 1000), signal);
        await o.runtime.shutdown(spec.zoneName, signal);
      }),
      haltZone: fromPromise<void, { key: string }>(({ input, signal }) => o.runtime.halt(cleanupSpec(input.key).zoneName, signal)),
      deprovisionZone: fromPromise<{ problems: string[] }, { key: string }>(({ input, signal }) => track((async () => {
        const report = await o.runtime.deprovision(cleanupSpec(input.key), signal);
        await o.ipam.release(input.key);
        o.workload?.release(input.key);
        resolved.delete(input.key);
        applied.delete(input.key);
        written.delete(input.key);
        facts.delete(input.key);
        runtimeStatuses.delete(input.key);
        runtimeStatusText.delete(input.key);
        specs.delete(input.key);
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
      report: ({ context }, r: PodReport) => requestStatus(context.key, { report: r, podIP: context.podIP, restartCount: context.restartCount }),
      record: ({ context }, e: PodEventRecord) => record(context.key, e),
    },
  });

  const logic = clusterMachine.provide({
    actors: { shard: hostingPods(hosted, o.reconcileMs) },
    actions: {
      childFailed: (_, { actorId, error }) => o.log(`actor ${actorId} failed: ${error instanceof Error ? error.message : String(error)}`),
    },
  });
  const host: PodHost = {
    actor: createActor(logic, { systemId: 'cluster', clock, ...(o.inspect ? { inspect: o.inspect } : {}) }),
    ready: Promise.resolve(),
    async stop() {
      stopped = true;
      for (const t of retryTimers.values()) clock.clearTimeout(t);
      retryTimers.clear();
      stopPoller();
      informer.stop();
      host.actor.stop();
      await Promise.race([Promise.allSettled([...inflight]), sleep(clock, 5000)]);
    },
  };
  host.actor.subscribe({ error: (e) => o.log(`pod host actor failed: ${String(e)}`) });
  host.actor.start();
  // One timer for every pod's containers (XSTATE.md §0: no per-pod timers); polls never overlap.
  let polling = false;
  const stopPoller = every(clock, o.containerPollMs ?? CONTAINER_POLL_MS, () => {
    if (polling) return;
    polling = true;
    pollContainers().catch((e: unknown) => o.log(`container poll failed: ${(e as Error).message}`)).finally(() => (polling = false));
  });

  const graceLeft = (p: Pod): number => {
    const deadline = Date.parse(p.metadata.deletionTimestamp ?? '');
    return Number.isNaN(deadline) ? (p.metadata.deletionGracePeriodSeconds ?? 30) * 1000 : Math.max(0, deadline - now());
  };

  /** How a pod found at (re)start should resume: never re-provision a zone that runs. */
  const adoption = async (p: Pod): Promise<Adoption> => {
    if (p.metadata.deletionTimestamp) return 'terminating';
    const phase = p.status?.phase;
    if (phase === 'Failed') return 'failed';
    if (phase === 'Succeeded') return 'succeeded';
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
      else if (applied.has(key) && !sameImages(applied.get(key), imagesOf(p))) host.actor.send({ type: 'POD_SPEC_CHANGED', key });
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
        input: { key, uid: latest.metadata.uid ?? '', restartPolicy: latest.spec.restartPolicy ?? 'Always', restartCount, adopt, graceMs: graceLeft(latest), podIP: latest.status?.podIP },
      });
      if (latest.metadata.deletionTimestamp && adopt !== 'terminating') host.actor.send({ type: 'POD_DELETING', key, graceMs: graceLeft(latest) });
      else if (adopt === 'running' || adopt === 'stopped') {
        // An adopted zone runs the images its status names; a spec changed meanwhile is followed now.
        const ran = new Map([...((latest.status?.['initContainerStatuses'] as { name?: string; image?: string }[] | undefined) ?? []), ...(latest.status?.containerStatuses ?? [])].map((c) => [String(c['name']), String(c['image'] ?? '')]));
        applied.set(key, ran);
        if (!sameImages(ran, imagesOf(latest))) host.actor.send({ type: 'POD_SPEC_CHANGED', key });
      }
    } finally {
      spawning.delete(key);
    }
  };

  let stopped = false;
  // The pods of this node: list (each adopted), then watch. `ready` waits for the list's adoptions,
  // so the host's promise holds with any client: every pod bound here has its actor by then.
  const initial: Promise<void>[] = [];
  let listing = true;
  const informer = startInformer<Pod>({
    client: o.client,
    resource: 'pods',
    fieldSelector: `spec.nodeName=${o.node}`,
    clock,
    log: o.log,
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
  });
  host.ready = informer.synced.then(async () => {
    listing = false;
    await Promise.all(initial);
    initial.length = 0;
  });
  return host;
}
