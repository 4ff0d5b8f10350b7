// Cross-job micro-batching: items submitted within `maxWaitMs` (up to `maxBatch`) run as one batch, so
// concurrent pipeline jobs share one model call. Order of results matches order of submission.

export type BatchFn<I, O> = (items: I[]) => Promise<O[]>;

export class MicroBatcher<I, O> {
  private queue: Array<{ item: I; resolve: (o: O) => void; reject: (e: unknown) => void }> = [];
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> = Promise.resolve();
  /** Sizes of the batches run so far (for tests and metrics). */
  readonly batchSizes: number[] = [];

  constructor(
    private readonly fn: BatchFn<I, O>,
    private readonly maxBatch: number,
    private readonly maxWaitMs: number,
  ) {
    if (!Number.isInteger(maxBatch) || maxBatch < 1) throw new Error(`maxBatch must be a positive integer, got ${maxBatch}`);
    if (!(maxWaitMs >= 0)) throw new Error(`maxWaitMs must be ≥ 0, got ${maxWaitMs}`);
  }

  submit(item: I): Promise<O> {
    return new Promise<O>((resolve, reject) => {
      this.queue.push({ item, resolve, reject });
      if (this.queue.length >= this.maxBatch) this.flush();
      else if (!this.timer) this.timer = setTimeout(() => this.flush(), this.maxWaitMs);
    });
  }

  /** Runs what is queued now (in batches of at most maxBatch); batches run one after another. */
  flush(): void {
    if (this.timer) { clearTimeout(this.timer); this.timer = null; }
    while (this.queue.length > 0) {
      const batch = this.queue.splice(0, this.maxBatch);
      this.batchSizes.push(batch.length);
      this.running = this.running.then(async () => {
        try {
          const out = await this.fn(batch.map((b) => b.item));
          if (out.length !== batch.length) throw new Error(`batch function returned ${out.length} results for ${batch.length} items`);
          batch.forEach((b, i) => b.resolve(out[i] as O));
        } catch (e) {
          batch.forEach((b) => b.reject(e));
        }
      });
    }
  }

  /** Flushes and waits for every batch in flight. */
  async drain(): Promise<void> {
    this.flush();
    await this.running;
  }
}
