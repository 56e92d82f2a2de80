import { describe, expect, it } from 'vitest';
import { nextTurn } from './turns.js';

describe('nextTurn', () => {
  it('runs one turn per event-loop iteration, first come first served, with timers and I/O in between', async () => {
    const order: string[] = [];
    const step = async (name: string) => {
      await nextTurn();
      order.push(name);
      // Set during this turn, which then computes for 3 ms (a question's step): the timer is due
      // by the next iteration's timers phase, which comes before the next turn.
      setTimeout(() => order.push(`timer after ${name}`), 1);
      const until = performance.now() + 3;
      while (performance.now() < until);
    };
    await Promise.all([step('a'), step('b'), step('c')]);
    await new Promise((r) => setTimeout(r, 5));
    expect(order).toEqual(['a', 'timer after a', 'b', 'timer after b', 'c', 'timer after c']);
  });

  it('keeps going when turns are asked for from inside a turn', async () => {
    const order: string[] = [];
    await nextTurn();
    order.push('1');
    const inner = nextTurn().then(() => order.push('3'));
    order.push('2');
    await inner;
    expect(order).toEqual(['1', '2', '3']);
  });
});
