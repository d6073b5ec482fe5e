// Typed ZoneRuntime errors, each naming its zone, shared by the mock and illumos runtimes.
import type { ZoneState } from './runtime.ts';
import type { ZoneStep } from './steps.ts';

/** Any runtime failure about one zone. */
export class ZoneError extends Error {
  constructor(readonly zoneName: string, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** The zone does not exist (only operations that need one throw this; `state()` answers `absent`). */
export class ZoneNotFound extends ZoneError {
  constructor(zoneName: string) {
    super(zoneName, `Zone not found: ${zoneName}`);
  }
}

/** A zone of that name exists and belongs to another pod (another uid). */
export class ZoneAlreadyExists extends ZoneError {
  constructor(zoneName: string, readonly ownerUid?: string) {
    super(zoneName, `Zone already exists: ${zoneName}${ownerUid ? ` (pod uid ${ownerUid})` : ''}`);
  }
}

/** The zone is in a state the operation cannot start from. */
export class InvalidZoneTransition extends ZoneError {
  constructor(zoneName: string, readonly from: ZoneState, readonly to: ZoneState) {
    super(zoneName, `Invalid state transition for zone '${zoneName}': cannot transition from ${from} to ${to}`);
  }
}

/** The ZoneSpec cannot be provisioned as given (checked before anything is created). */
export class InvalidZoneSpec extends ZoneError {
  constructor(zoneName: string, readonly problem: string) {
    super(zoneName, `Invalid configuration for zone '${zoneName}': ${problem}`);
  }
}

/** Provisioning failed at `step`; the steps done before it were undone, except `leftovers`. */
export class ProvisionFailed extends ZoneError {
  constructor(zoneName: string, readonly step: ZoneStep, cause: unknown, readonly leftovers: string[]) {
    const why = cause instanceof Error ? cause.message : String(cause);
    const left = leftovers.length > 0 ? `; rollback failed: ${leftovers.join('; ')}` : '';
    super(zoneName, `Provisioning zone ${zoneName} failed at ${step}: ${why}${left}`, { cause });
  }
}
