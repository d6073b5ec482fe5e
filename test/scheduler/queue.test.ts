// The scheduling queue on XState's SimulatedClock: FIFO order, backoff 1 s doubling to 60 s,
// early wake-ups on cluster changes, and one timer however many pods wait.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { SimulatedClock } from 'xstate';
import { SchedulingQueue } from '../../src/scheduler/queue.ts';
import type { Clock } from '../../src/time/clock.ts';

function setup() {
  const clock = new SimulatedClock();
  let wakes = 0;
  const q = new SchedulingQueue(clock, () => wakes++);
  return { clock, q, wakes: () => wakes };
}

/** Pops everything active. */
function drain(q: SchedulingQueue): string[] {
  const out: string[] = [];
  for (let k = q.pop(); k !== undefined; k = q.pop()) out.push(k);
  return out;
}

describe('SchedulingQueue', () => {
  it('hands out pods first in, first out, each once', () => {
    const { q, wakes } = setup();
    q.add('a');
    q.add('b');
    q.add('a');
    assert.equal(wakes(), 2);
    assert.deepEqual(drain(q), ['a', 'b']);
    assert.deepEqual(q.counts(), { active: 0, backoff: 0, popped: 2 });
  });

  it('backs off 1 s, 2 s, 4 s … up to 60 s', () => {
    const { q, clock } = setup();
    const delays: number[] = [];
    q.add('p');
    for (let i = 0; i < 9; i++) {
      assert.equal(q.pop(), 'p');
      const d = q.backoff('p');
      delays.push(d);
      clock.increment(d - 1);
      assert.equal(q.pop(), undefined, `still waiting 1 ms before ${d} ms`);
      clock.increment(1);
    }
    assert.deepEqual(delays, [1000, 2000, 4000, 8000, 16000, 32000, 60000, 60000, 60000]);
    assert.equal(q.attempts('p'), 9);
  });

  it('releases many waiting pods in deadline order with a single timer', () => {
    const clock = new SimulatedClock();
    let armed = 0;
    const counting: Clock = {
      now: () => clock.now(),
      setTimeout: (fn, ms) => {
        armed++;
        return clock.setTimeout(fn, ms);
      },
      clearTimeout: (id) => clock.clearTimeout(id as number),
    };
    const q = new SchedulingQueue(counting, () => {});
    for (let i = 0; i < 100; i++) {
      q.add(`p${i}`);
      q.pop();
      q.backoff(`p${i}`);
    }
    assert.equal(armed, 1, 'later deadlines do not arm more timers');
    q.add('x');
    q.pop();
    q.backoff('x');
    q.pop();
    q.backoff('x');
    assert.equal(armed, 1);
    clock.increment(1000);
    assert.equal(drain(q).length, 100);
    clock.increment(1000);
    assert.deepEqual(drain(q), ['x']);
  });

  it('flushes every waiting pod at once when the cluster changes, keeping attempts', () => {
    const { q, clock, wakes } = setup();
    for (const k of ['a', 'b']) {
      q.add(k);
      q.pop();
      q.backoff(k);
    }
    const before = wakes();
    assert.equal(q.flush(), 2);
    assert.equal(wakes(), before + 1);
    assert.deepEqual(drain(q), ['a', 'b']);
    assert.equal(q.backoff('a'), 2000, 'the next failure still doubles');
    clock.increment(1000);
    assert.equal(q.pop(), undefined, 'the stale 1 s timer of the flushed attempt does not release it early');
    clock.increment(1000);
    assert.equal(q.pop(), 'a');
  });

  it('activates one waiting pod early, and nothing that is not waiting', () => {
    const { q } = setup();
    q.add('a');
    q.pop();
    q.activate('a');
    assert.equal(q.pop(), undefined, 'a popped pod belongs to the scheduler');
    q.backoff('a');
    q.activate('a');
    assert.equal(q.pop(), 'a');
  });

  it('requeues a pod at once after a race, whatever its state', () => {
    const { q } = setup();
    q.add('a');
    q.pop();
    q.requeue('a');
    assert.equal(q.pop(), 'a');
    q.requeue('new');
    assert.equal(q.pop(), 'new');
  });

  it('forgets removed pods, even those waiting on the timer', () => {
    const { q, clock } = setup();
    q.add('a');
    q.add('b');
    q.remove('a');
    assert.deepEqual(drain(q), ['b']);
    q.backoff('b');
    q.remove('b');
    clock.increment(60_000);
    assert.equal(q.pop(), undefined);
    assert.equal(q.has('b'), false);
  });

  it('does nothing after stop', () => {
    const { q, clock } = setup();
    q.add('a');
    q.pop();
    q.backoff('a');
    q.stop();
    clock.increment(60_000);
    assert.equal(q.pop(), undefined);
  });
});
