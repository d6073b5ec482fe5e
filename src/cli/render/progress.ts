// Follows one pod until it runs, fails or the time is up, printing each state it passes through:
// on a terminal one line rewritten in place, otherwise one plain line per state.
import type { Writable } from 'node:stream';
import type { Pod } from '../../api/model/types.ts';
import type { Client } from '../../client/client.ts';
import { podReason, podState, podZone, type PodState } from './state.ts';
import { every, type Clock } from '../../time/clock.ts';

export interface FollowResult {
  ok: boolean;
  state: PodState | 'Deleted' | 'TimedOut';
  pod?: Pod;
}

/** Watches pod `namespace/name` until Running with an IP (ok), Failed/CrashLoopBackOff/deleted, or `timeoutMs` on `clock`. */
export function followPod(client: Client, namespace: string, name: string, o: { timeoutMs: number; out: Writable; tty: boolean; clock: Clock }): Promise<FollowResult> {
  const { clock } = o;
  const started = clock.now();
  const elapsed = () => `${((clock.now() - started) / 1000).toFixed(1)}s`;
  let last: Pod | undefined;
  let lastText = '';
  const show = (text: string, final = false) => {
    if (o.tty) o.out.write(`\r\x1b[2K${text}${final ? '\n' : ''}`);
    else if (text !== lastText || final) o.out.write(`${text}\n`);
    lastText = text;
  };
  const describe = (p: Pod) => {
    const st = podState(p);
    const where = [p.spec.nodeName ? `node ${p.spec.nodeName}` : '', st === 'Provisioning' ? `zone ${podZone(p)}` : ''].filter(Boolean).join(', ');
    return `pod/${name}: ${st}${where ? ` (${where})` : ''}`;
  };
  return new Promise<FollowResult>((resolve) => {
    let done = false;
    const finish = (r: FollowResult, text: string) => {
      if (done) return;
      done = true;
      clock.clearTimeout(timer);
      stopTick();
      stop();
      show(text, true);
      resolve(r);
    };
    const timer = clock.setTimeout(() => {
      const st = last ? podState(last) : 'Pending';
      finish({ ok: false, state: 'TimedOut', pod: last }, `pod/${name}: timed out after ${Math.round(o.timeoutMs / 1000)}s, still ${st}${last && podReason(last) ? ` — ${podReason(last)}` : ''}`);
    }, o.timeoutMs);
    // On a terminal, keep the elapsed time moving between state changes.
    const stopTick = every(clock, 200, () => {
      if (o.tty && last && !done) show(`${describe(last)} ${elapsed()}`);
    });
    const stop = client.watch<Pod>('pods', { namespace, fieldSelector: `metadata.name=${name}` }, {
      event(e) {
        if (e.object.metadata.name !== name) return;
        if (e.type === 'DELETED') return finish({ ok: false, state: 'Deleted', pod: e.object }, `pod/${name}: deleted before it ran`);
        last = e.object;
        const st = podState(e.object);
        if (st === 'Running' && e.object.status?.podIP) {
          return finish({ ok: true, state: st, pod: e.object }, `pod/${name}: Running at ${e.object.status.podIP} (node ${e.object.spec.nodeName ?? '?'}, zone ${podZone(e.object)}) after ${elapsed()}`);
        }
        if (st === 'Failed' || st === 'CrashLoopBackOff' || st === 'Succeeded') {
          return finish({ ok: st === 'Succeeded', state: st, pod: e.object }, `pod/${name}: ${st}${podReason(e.object) ? ` — ${podReason(e.object)}` : ''}`);
        }
        show(o.tty ? `${describe(e.object)} ${elapsed()}` : describe(e.object));
      },
      closed(reason) {
        if (!done) finish({ ok: false, state: 'TimedOut', pod: last }, `pod/${name}: the watch ended: ${reason.message ?? (reason.expired ? 'expired' : 'closed')}`);
      },
    });
  });
}
