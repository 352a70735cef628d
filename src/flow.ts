/**
 * Backpressure between training and the rest of a pipeline (docs/architecture.md, "Backpressure").
 * RxJS pushes: a producer never hears that its consumers fall behind. A `Flow` is the bounded
 * buffer that tells it: consumers `hold` a unit for every piece of work queued behind them (a
 * pending write of the results sink) and `release` it when done; the producer (`train`) awaits
 * `ready()` before it takes its next checkpoint, so training waits while more than `limit` units
 * are held, and memory stays flat however slow the sink is.
 */
export class Flow {
  private held = 0;
  private waiting: Array<() => void> = [];

  /** @param limit units that may be held before the producer waits (default 8 pending writes). */
  constructor(readonly limit = 8) {}

  /** Units held now. */
  get pending(): number {
    return this.held;
  }

  hold(n = 1): void {
    this.held += n;
  }

  release(n = 1): void {
    this.held = Math.max(0, this.held - n);
    if (this.held <= this.limit && this.waiting.length) for (const wake of this.waiting.splice(0)) wake();
  }

  /** Null when the producer may go on at once, else a promise that resolves when it may. */
  ready(): Promise<void> | null {
    if (this.held <= this.limit) return null;
    return new Promise((resolve) => this.waiting.push(resolve));
  }
}
