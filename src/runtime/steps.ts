// The steps of a zone's life and the provisioning sequence that undoes itself on failure
// (upstream left the dataset, VNIC and zone behind when a later step failed: SPEC §5.6, §11.6).
import { ProvisionFailed } from './errors.ts';

/** Every host operation a runtime performs, by the name tests inject faults under. */
export type ZoneStep =
  | 'dataset' | 'vnic' | 'configure' | 'install' | 'boot'
  | 'shutdown' | 'halt' | 'uninstall' | 'delete' | 'vnic-delete' | 'dataset-destroy';

/** How an injected fault behaves (tests and simulated hosts). */
export interface FaultOptions {
  /** How many attempts fail (default 1). */
  times?: number;
  message?: string;
  /** Never finish; only the operation's abort signal ends it. */
  hang?: boolean;
  /** Only this zone's operations (default: any zone). */
  zone?: string;
}

/** An armed fault: `reached` resolves each time it fires (first time), so tests need not poll. */
export interface FaultHandle {
  reached: Promise<void>;
}

/** The provisioning order. */
export const PROVISION_STEPS = ['dataset', 'vnic', 'configure', 'install', 'boot'] as const satisfies readonly ZoneStep[];

export type ProvisionStep = (typeof PROVISION_STEPS)[number];

/** One provisioning step: `run` does it, `undo` takes it back. */
export interface UndoableStep {
  name: ProvisionStep;
  run(signal?: AbortSignal): Promise<void>;
  undo(): Promise<void>;
}

/**
 * Runs `steps` in order. When one fails, or `signal` aborts between steps, undoes the completed ones
 * in reverse (without the signal: an aborted provision must still clean up) and throws
 * ProvisionFailed, which lists whatever could not be undone.
 */
export async function runWithRollback(zoneName: string, steps: readonly UndoableStep[], signal?: AbortSignal): Promise<ProvisionStep[]> {
  const done: UndoableStep[] = [];
  for (const step of steps) {
    try {
      signal?.throwIfAborted();
      await step.run(signal);
    } catch (cause) {
      const leftovers: string[] = [];
      for (const d of done.reverse()) {
        try {
          await d.undo();
        } catch (e) {
          leftovers.push(`undo ${d.name}: ${e instanceof Error ? e.message : String(e)}`);
        }
      }
      throw new ProvisionFailed(zoneName, step.name, cause, leftovers);
    }
    done.push(step);
  }
  return done.map((s) => s.name);
}

/**
 * Deprovisioning carries on past failures (a stuck zone must not keep its VNIC and dataset
 * alive): each failed step becomes a problem line; an abort still ends it at once.
 */
export function carryOn(signal?: AbortSignal): { problems: string[]; attempt(what: string, op: () => Promise<unknown>): Promise<boolean> } {
  const problems: string[] = [];
  return {
    problems,
    async attempt(what, op) {
      try {
        await op();
        return true;
      } catch (e) {
        if (signal?.aborted) throw e;
        problems.push(`${what}: ${e instanceof Error ? e.message : String(e)}`);
        return false;
      }
    },
  };
}
