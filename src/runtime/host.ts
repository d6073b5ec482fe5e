// Host CPU and memory, less the system reservation, as a Node's status.capacity and
// status.allocatable (SPEC §5.10).
import { availableParallelism, cpus, totalmem } from 'node:os';
import { formatMemoryQuantity, parseCpu, parseMemory } from '../api/model/quantity.ts';
import type { ResourceList } from '../api/model/types.ts';

/** What the host has. */
export interface HostInfo {
  cpus: number;
  memoryBytes: number;
}

/** What the system keeps for itself. */
export interface Reservation {
  cpuMillis: number;
  memoryBytes: number;
}

export interface NodeResources {
  capacity: ResourceList;
  allocatable: ResourceList;
}

/** `--system-reserved-cpu` default. */
export const DEFAULT_SYSTEM_RESERVED_CPU = '100m';
/** `--system-reserved-memory` default. */
export const DEFAULT_SYSTEM_RESERVED_MEMORY = '256Mi';
/** `--max-pods` default. */
export const DEFAULT_MAX_PODS = 110;
/** The memory reported when detection fails. */
export const FALLBACK_MEMORY_BYTES = 8 * 2 ** 30;

/** A reservation flag that is not a quantity. */
export class InvalidReservation extends Error {
  constructor(readonly flag: string, readonly value: string) {
    super(`${flag}: "${value}" is not a valid quantity`);
    this.name = 'InvalidReservation';
  }
}

/**
 * The host's logical CPUs and physical memory, or undefined when they cannot be read. libuv reads
 * both the way SPEC §5.10 does: on illumos sysconf(_SC_NPROCESSORS_ONLN) (online processors) and
 * _SC_PHYS_PAGES × page size (physmem × pagesize); on Linux the affinity mask and MemTotal.
 */
export function detectHost(): HostInfo | undefined {
  const count = typeof availableParallelism === 'function' ? availableParallelism() : cpus().length;
  const memoryBytes = totalmem();
  if (!(count >= 1) || !(memoryBytes > 0)) return undefined;
  return { cpus: count, memoryBytes };
}

/** Parses the reservation flags (Kubernetes quantities, negatives allowed as upstream does). */
export function parseReservation(cpu: string = DEFAULT_SYSTEM_RESERVED_CPU, memory: string = DEFAULT_SYSTEM_RESERVED_MEMORY): Reservation {
  const cpuMillis = parseCpu(cpu);
  if (cpuMillis === undefined) throw new InvalidReservation('--system-reserved-cpu', cpu);
  const memoryBytes = parseMemory(memory);
  if (memoryBytes === undefined) throw new InvalidReservation('--system-reserved-memory', memory);
  return { cpuMillis, memoryBytes };
}

/**
 * capacity = whole cores, memory quantity, pods; allocatable = cores×1000 − reserved as `<n>m`,
 * memory − reserved, pods (both clamped at 0).
 * @example nodeResources({ cpus: 8, memoryBytes: 16 * 2 ** 30 }, { cpuMillis: 100, memoryBytes: 256 * 2 ** 20 }, 110)
 *   // { capacity: { cpu: '8', memory: '16Gi', pods: '110' }, allocatable: { cpu: '7900m', memory: '16128Mi', pods: '110' } }
 */
export function nodeResources(host: HostInfo, reserved: Reservation, maxPods: number = DEFAULT_MAX_PODS): NodeResources {
  const pods = String(maxPods);
  return {
    capacity: { cpu: String(host.cpus), memory: formatMemoryQuantity(host.memoryBytes), pods },
    allocatable: {
      cpu: `${Math.max(0, host.cpus * 1000 - reserved.cpuMillis)}m`,
      memory: formatMemoryQuantity(Math.max(0, host.memoryBytes - reserved.memoryBytes)),
      pods,
    },
  };
}

/**
 * What a node reports when detection failed: available parallelism (or 1) and 8Gi, no
 * reservation (as upstream). Unlike upstream it keeps `--max-pods`: the operator's limit still holds.
 */
export function fallbackResources(maxPods: number = DEFAULT_MAX_PODS): NodeResources {
  const count = typeof availableParallelism === 'function' ? availableParallelism() : 1;
  const list: ResourceList = { cpu: String(Math.max(1, count)), memory: formatMemoryQuantity(FALLBACK_MEMORY_BYTES), pods: String(maxPods) };
  return { capacity: { ...list }, allocatable: { ...list } };
}

/** Detects the host and computes its resources, falling back (with a warning) when detection fails. */
export function hostResources(reserved: Reservation, maxPods: number = DEFAULT_MAX_PODS, detect: () => HostInfo | undefined = detectHost): NodeResources {
  const host = detect();
  if (host) return nodeResources(host, reserved, maxPods);
  console.warn('could not detect host CPU and memory; reporting 8Gi and the available parallelism');
  return fallbackResources(maxPods);
}
