// Image garbage collection as kubelet does it: when the disk holding the image store is fuller
// than the high threshold, unused images go, least recently used first, down to 5 points below it.
import { statfs } from 'node:fs/promises';
import type { ImageStore } from '../images/store.ts';
import { every, realClock, type Clock } from '../time/clock.ts';

/** How often the disk is looked at (kubelet's ImageGCPeriod). */
export const IMAGE_GC_PERIOD_MS = 5 * 60_000;

export interface ImageGcOptions {
  store: ImageStore;
  /** Percent of the disk in use above which pruning starts. */
  highThresholdPercent: number;
  periodMs?: number;
  clock?: Clock;
  log: (m: string) => void;
}

/** Bytes to free so that use falls to `low` percent (0 when it is at or below `high`). */
export function bytesToFree(total: number, free: number, highPercent: number, lowPercent: number): number {
  if (total <= 0) return 0;
  const used = total - free;
  if ((used / total) * 100 <= highPercent) return 0;
  return Math.ceil(used - (total * lowPercent) / 100);
}

/** Checks the disk now and every period; stop() ends it. */
export function startImageGc(o: ImageGcOptions): { check(): Promise<number>; stop(): void } {
  const check = async (): Promise<number> => {
    const fs = await statfs(o.store.dir);
    const need = bytesToFree(fs.blocks * fs.bsize, fs.bavail * fs.bsize, o.highThresholdPercent, Math.max(0, o.highThresholdPercent - 5));
    if (need <= 0) return 0;
    const removed = await o.store.pruneLru(need);
    if (removed.length > 0) o.log(`image gc: disk over ${o.highThresholdPercent}% used; removed ${removed.map((i) => i.ref).join(', ')}`);
    return removed.length;
  };
  const stop = every(o.clock ?? realClock, o.periodMs ?? IMAGE_GC_PERIOD_MS, () => {
    check().catch((e: unknown) => o.log(`image gc failed: ${(e as Error).message}`));
  });
  return { check, stop };
}
