// Cross-job micro-batching: concurrent pipeline jobs share one model call. One batch runs at a time; what is
// submitted while it runs waits for it and then goes as the next batch (up to `maxBatch`), so batches grow with
// the load instead of a queue of small ones forming behind a slow one. With nothing running, items submitted
// within `maxWaitMs` of the first (up to `maxBatch`) run together. Results come back in submission order.

export type BatchFn<I, O> = (items: I[]) => Promise<O[]>;

export class MicroBatcher<I, O> {
  private queue: Array<{ item: I; resolve: (o: O) => void; reject: (e: unknown) => void }> = [];
  private timer: NodeJS.Timeout | null = null;
  /** The batch in flight (resolves when it has settled), or null. */
  private running: Promise<void> | null = null;
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
      // a batch in flight starts the next one when it ends
      if (this.running) return;
      if (this.queue.length >= this.maxBatch) this.flush();
      else this.timer ??= setTimeout(() => this.flush(), this.maxWaitMs);
    });
  }

  /** Starts the next batch with what is queued now, unless one is in flight (it starts the next when done). */
  flush(): void {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    if (this.running || this.queue.length === 0) return;
    const batch = this.queue.splice(0, this.maxBatch);
    this.batchSizes.push(batch.length);
    this.running = (async () => {
      try {
        const out = await this.fn(batch.map((b) => b.item));
        if (out.length !== batch.length) throw new Error(`batch function returned ${out.length} results for ${batch.length} items`);
        batch.forEach((b, i) => b.resolve(out[i] as O));
      } catch (e) {
        batch.forEach((b) => b.reject(e));
      } finally {
        this.running = null;
        // everything that arrived meanwhile has waited long enough: it goes now
        this.flush();
      }
    })();
  }

  /** Runs everything queued and waits until no batch is in flight. */
  async drain(): Promise<void> {
    this.flush();
    while (this.running) {
      await this.running;
      this.flush();
    }
  }
}
