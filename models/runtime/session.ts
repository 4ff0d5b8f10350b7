// ONNX sessions for one model: a small pool of onnxruntime-node InferenceSessions over the verified bytes,
// each run on one free session; runs beyond the pool size wait their turn.
import * as ort from 'onnxruntime-node';

export interface SessionOptions {
  intraOpNumThreads: number;
  poolSize: number;
  /**
   * Whether idle intra-op threads busy-wait for the next run (ONNX Runtime's default). Off in the pipeline:
   * runs come between other work on shared cores, and a spinning thread burns that core for nothing.
   */
  allowSpinning?: boolean;
}

export class SessionPool {
  private free: ort.InferenceSession[] = [];
  private waiters: Array<(s: ort.InferenceSession) => void> = [];
  private all: ort.InferenceSession[] = [];

  private constructor() {}

  static async create(bytes: Uint8Array, o: SessionOptions): Promise<SessionPool> {
    const pool = new SessionPool();
    for (let i = 0; i < Math.max(1, o.poolSize); i++) {
      const s = await ort.InferenceSession.create(bytes, {
        intraOpNumThreads: o.intraOpNumThreads,
        interOpNumThreads: 1,
        graphOptimizationLevel: 'all',
        executionMode: 'sequential',
        ...(o.allowSpinning === false && { extra: { session: { intra_op: { allow_spinning: '0' } } } }),
      });
      pool.all.push(s);
      pool.free.push(s);
    }
    return pool;
  }

  get inputNames(): readonly string[] {
    return this.all[0]?.inputNames ?? [];
  }
  get outputNames(): readonly string[] {
    return this.all[0]?.outputNames ?? [];
  }

  /** Runs one float32 input tensor [N, C, H, W] and returns the named output. */
  async run(inputName: string, data: Float32Array, dims: readonly number[], outputName: string): Promise<{ data: Float32Array; dims: readonly number[] }> {
    const s = this.free.pop() ?? (await new Promise<ort.InferenceSession>((res) => this.waiters.push(res)));
    try {
      const res = await s.run({ [inputName]: new ort.Tensor('float32', data, dims) });
      const t = res[outputName];
      if (!t) throw new Error(`model has no output named ${outputName} (outputs: ${s.outputNames.join(', ')})`);
      return { data: t.data as Float32Array, dims: t.dims };
    } finally {
      const next = this.waiters.shift();
      if (next) next(s);
      else this.free.push(s);
    }
  }

  async close(): Promise<void> {
    await Promise.all(this.all.map((s) => s.release()));
    this.all = [];
    this.free = [];
  }
}
