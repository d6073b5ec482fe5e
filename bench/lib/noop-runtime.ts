// The zone runtime of a hollow node (bench/scale.ts): every step succeeds at once and nothing is
// persisted. Zone states live in a Map so the pod actors' checks (adoption, reconcile, container
// polls) see what they would on a host: a provisioned zone runs until it is stopped or removed.
import type { ContainerRuntimeStatus, DeprovisionReport, ZoneRuntime, ZoneSpec, ZoneState, ZoneStatus } from '../../src/runtime/runtime.ts';

interface Zone {
  state: ZoneState;
  uid: string;
  containers: string[];
  initContainers: string[];
  bootedAt: string;
}

export class NoopRuntime implements ZoneRuntime {
  readonly kind = 'mock' as const;
  private readonly zones = new Map<string, Zone>();

  /** Zones that exist, whatever their state. */
  get size(): number {
    return this.zones.size;
  }

  async provision(spec: ZoneSpec): Promise<ZoneStatus> {
    this.zones.set(spec.zoneName, {
      state: 'running',
      uid: spec.uid,
      containers: spec.containers.map((c) => c.name),
      initContainers: spec.initContainers.map((c) => c.name),
      bootedAt: new Date().toISOString(),
    });
    return { zoneName: spec.zoneName, state: 'running' };
  }

  async state(zoneName: string): Promise<ZoneState> {
    return this.zones.get(zoneName)?.state ?? 'absent';
  }

  async boot(zoneName: string): Promise<ZoneStatus> {
    const z = this.zones.get(zoneName);
    if (z) z.state = 'running';
    return { zoneName, state: z ? 'running' : 'absent' };
  }

  async shutdown(zoneName: string): Promise<void> {
    const z = this.zones.get(zoneName);
    if (z) z.state = 'installed';
  }

  async halt(zoneName: string): Promise<void> {
    await this.shutdown(zoneName);
  }

  async deprovision(spec: ZoneSpec): Promise<DeprovisionReport> {
    this.zones.delete(spec.zoneName);
    return { problems: [] };
  }

  async list(): Promise<ZoneStatus[]> {
    return [...this.zones].map(([zoneName, z]) => ({ zoneName, state: z.state }));
  }

  /** As the mock runtime reports them: init containers completed, app containers running since boot. */
  async containerStatuses(spec: ZoneSpec): Promise<ContainerRuntimeStatus[]> {
    const z = this.zones.get(spec.zoneName);
    if (!z || z.state !== 'running' || z.uid !== spec.uid) return [];
    const startedAt = z.bootedAt;
    return [
      ...z.initContainers.map((name) => ({ name, instance: 0, restartCount: 0, state: 'terminated' as const, reason: 'Completed', exitCode: 0, signal: 0, startedAt, finishedAt: startedAt, last: null })),
      ...z.containers.map((name) => ({ name, instance: 0, restartCount: 0, state: 'running' as const, startedAt, last: null })),
    ];
  }

  async stopContainers(): Promise<void> {}

  async restartContainer(): Promise<void> {}

  logDir(zoneName: string, container: string): string {
    return `/nonexistent/hollow/${zoneName}/${container}`;
  }
}
