/**
 * Turns on the serving thread: a question's CPU-bound steps (retrieval, sentence scoring,
 * composing) each wait for their turn, and one turn runs per event-loop iteration. Between two
 * turns the loop polls its sockets, so a liveness probe or a new request waits for one step of
 * one question, not for every question whose embedding came back in the same poll (under 32
 * clients that was up to ~30 questions' work in one go: event-loop delay p99 33 ms).
 *
 * Each turn is resumed from a setImmediate callback; an immediate queued while the check phase
 * runs waits for the next iteration, which is what spaces the turns out.
 */
const waiting: Array<() => void> = [];
let pumping = false;

function pump(): void {
  // The waiter's continuation runs in the microtask queue drained right after this callback.
  waiting.shift()?.();
  if (waiting.length > 0) setImmediate(pump);
  else pumping = false;
}

/** Resolves when this caller's turn comes (first come, first served). */
export function nextTurn(): Promise<void> {
  return new Promise((resolve) => {
    waiting.push(resolve);
    if (!pumping) {
      pumping = true;
      setImmediate(pump);
    }
  });
}
