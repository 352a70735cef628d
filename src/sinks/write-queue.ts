/**
 * The results sink's writes, one at a time and in order. After the first failure no further job
 * runs (the folder keeps what was written before it) and `onFailure` is told once. A `flow` hears
 * of every queued job, so that training can wait for a slow disk (src/flow.ts).
 */
import type { Flow } from '../flow.js';

export class WriteQueue {
  private tail: Promise<void> = Promise.resolve();
  /** True once a job has failed (or `fail` was called): later jobs are skipped. */
  failed = false;

  constructor(
    private readonly onFailure: (e: unknown) => Promise<void>,
    private readonly flow?: Flow,
  ) {}

  /** Queue a job after every job queued before it. */
  push(job: () => Promise<void>): void {
    this.flow?.hold();
    this.tail = this.tail
      .then(() => (this.failed ? undefined : job()))
      .catch((e) => {
        if (!this.failed) {
          this.failed = true;
          void this.onFailure(e);
        }
      })
      .finally(() => this.flow?.release());
  }
}
