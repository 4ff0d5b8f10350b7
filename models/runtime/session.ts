// ONNX sessions for one model: a small pool of onnxruntime-node InferenceSessions over the verified bytes,
// each run on one free session; runs beyond the pool size wait their turn. A session lives either on the
// calling thread or, with `offThread`, in a worker thread of its own (models/runtime/ort-thread.mjs):
// onnxruntime-node runs synchronously on the thread that calls it, so in the pipeline's worker process an
// in-thread run stalls the event loop for the whole batch.
import { Worker } from 'node:worker_threads';
import * as ort from 'onnxruntime-node';

export interface SessionOptions {
  intraOpNumThreads: number;
  poolSize: number;
  /**
   * Whether idle intra-op threads busy-wait for the next run (ONNX Runtime's default). Off in the pipeline:
   * runs come between other work on shared cores, and a spinning thread burns that core for nothing.
   */
  allowSpinning?: boolean;
  /** Each session in a worker thread of its own, so runs leave the caller's event loop free (default false). */
  offThread?: boolean;
}

type RunResult = { data: Float32Array; dims: readonly number[] };

/** One session, wherever it runs. */
interface Runner {
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  run(inputName: string, data: Float32Array, dims: readonly number[], outputName: string): Promise<RunResult>;
  close(): Promise<void>;
  /** Tests only: stops the session's thread abruptly, as a crash would (no-op on the calling thread). */
  crash?(): Promise<void>;
}

function ortOptions(o: SessionOptions): ort.InferenceSession.SessionOptions {
  return {
    intraOpNumThreads: o.intraOpNumThreads,
    interOpNumThreads: 1,
    graphOptimizationLevel: 'all',
    executionMode: 'sequential',
    ...(o.allowSpinning === false && { extra: { session: { intra_op: { allow_spinning: '0' } } } }),
  };
}

class InThreadRunner implements Runner {
  private constructor(private readonly s: ort.InferenceSession) {}

  static async create(bytes: Uint8Array, o: SessionOptions): Promise<InThreadRunner> {
    return new InThreadRunner(await ort.InferenceSession.create(bytes, ortOptions(o)));
  }
  get inputNames() {
    return this.s.inputNames;
  }
  get outputNames() {
    return this.s.outputNames;
  }
  async run(inputName: string, data: Float32Array, dims: readonly number[], outputName: string): Promise<RunResult> {
    const res = await this.s.run({ [inputName]: new ort.Tensor('float32', data, dims) });
    const t = res[outputName];
    if (!t) throw new Error(`model has no output named ${outputName} (outputs: ${this.s.outputNames.join(', ')})`);
    return { data: t.data as Float32Array, dims: t.dims };
  }
  async close(): Promise<void> {
    await this.s.release();
  }
}

type ThreadMessage =
  | { type: 'ready'; inputNames: string[]; outputNames: string[] }
  | { type: 'result'; id: number; data?: Float32Array; dims?: number[]; error?: string };

const THREAD_SCRIPT = new URL('./ort-thread.mjs', import.meta.url);

/**
 * A session in a worker thread. The input tensor's buffer is handed over (not copied) and must not be used
 * by the caller afterwards; the output comes back the same way. A thread that dies fails the runs in
 * flight (the pipeline retries them) and is started again on the next run.
 */
class OffThreadRunner implements Runner {
  private worker: Worker | null = null;
  private starting: Promise<Worker> | null = null;
  private pending = new Map<number, { resolve: (r: RunResult) => void; reject: (e: Error) => void }>();
  private nextId = 1;
  private closed = false;
  inputNames: readonly string[] = [];
  outputNames: readonly string[] = [];

  private constructor(
    private readonly bytes: Uint8Array,
    private readonly o: SessionOptions,
  ) {}

  static async create(bytes: Uint8Array, o: SessionOptions): Promise<OffThreadRunner> {
    const r = new OffThreadRunner(bytes, o);
    await r.thread();
    return r;
  }

  private thread(): Promise<Worker> {
    if (this.worker) return Promise.resolve(this.worker);
    this.starting ??= new Promise<Worker>((resolve, reject) => {
      // The model bytes are copied into the thread; the caller keeps its own.
      const w = new Worker(THREAD_SCRIPT, { workerData: { bytes: this.bytes, options: ortOptions(this.o) } });
      let ready = false;
      w.on('message', (m: ThreadMessage) => {
        if (m.type === 'ready') {
          ready = true;
          this.inputNames = m.inputNames;
          this.outputNames = m.outputNames;
          this.worker = w;
          this.starting = null;
          resolve(w);
          return;
        }
        const p = this.pending.get(m.id);
        if (!p) return;
        this.pending.delete(m.id);
        if (m.error !== undefined || !m.data || !m.dims) p.reject(new Error(m.error ?? 'inference thread returned no output'));
        else p.resolve({ data: m.data, dims: m.dims });
      });
      const fail = (err: Error) => {
        if (this.worker === w) this.worker = null;
        if (!ready) {
          this.starting = null;
          reject(err);
        }
        const inFlight = [...this.pending.values()];
        this.pending.clear();
        for (const p of inFlight) p.reject(err);
      };
      w.on('error', (err) => fail(err));
      w.on('exit', (code) => fail(new Error(`inference thread exited (code ${code})`)));
    });
    return this.starting;
  }

  async run(inputName: string, data: Float32Array, dims: readonly number[], outputName: string): Promise<RunResult> {
    if (this.closed) throw new Error('session is closed');
    const w = await this.thread();
    const id = this.nextId++;
    return new Promise<RunResult>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      // Hand the buffer over when the tensor owns all of it; a view into a larger buffer is copied.
      const whole = data.byteOffset === 0 && data.byteLength === data.buffer.byteLength && data.buffer instanceof ArrayBuffer;
      w.postMessage({ type: 'run', id, inputName, data, dims: [...dims], outputName }, whole ? [data.buffer as ArrayBuffer] : []);
    });
  }

  async crash(): Promise<void> {
    await this.worker?.terminate();
  }

  async close(): Promise<void> {
    this.closed = true;
    const w = this.worker;
    this.worker = null;
    if (!w) return;
    await new Promise<void>((resolve) => {
      w.once('exit', () => resolve());
      w.postMessage({ type: 'close' });
      // A thread stuck in a run is not waited for.
      setTimeout(() => void w.terminate(), 5_000).unref();
    });
  }
}

export class SessionPool {
  private free: Runner[] = [];
  private waiters: Array<{ take: (s: Runner) => void; refuse: (e: Error) => void }> = [];
  private all: Runner[] = [];
  private closed = false;

  private constructor() {}

  static async create(bytes: Uint8Array, o: SessionOptions): Promise<SessionPool> {
    const pool = new SessionPool();
    try {
      for (let i = 0; i < Math.max(1, o.poolSize); i++) {
        const s = o.offThread ? await OffThreadRunner.create(bytes, o) : await InThreadRunner.create(bytes, o);
        pool.all.push(s);
        pool.free.push(s);
      }
    } catch (err) {
      await pool.close();
      throw err;
    }
    return pool;
  }

  get inputNames(): readonly string[] {
    return this.all[0]?.inputNames ?? [];
  }
  get outputNames(): readonly string[] {
    return this.all[0]?.outputNames ?? [];
  }

  /**
   * Runs one float32 input tensor [N, C, H, W] and returns the named output. Off the thread, the input's
   * buffer is handed to the inference thread: do not use `data` after calling this.
   */
  async run(inputName: string, data: Float32Array, dims: readonly number[], outputName: string): Promise<RunResult> {
    if (this.closed) throw new Error('session pool is closed');
    const s = this.free.pop() ?? (await new Promise<Runner>((take, refuse) => this.waiters.push({ take, refuse })));
    try {
      return await s.run(inputName, data, dims, outputName);
    } finally {
      const next = this.waiters.shift();
      if (next) next.take(s);
      else this.free.push(s);
    }
  }

  /** Tests only: ends every session thread abruptly, as a crash would; the next run starts a new one. */
  async crashThreadsForTest(): Promise<void> {
    await Promise.all(this.all.map((s) => s.crash?.()));
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const w of this.waiters.splice(0)) w.refuse(new Error('session pool is closed'));
    await Promise.all(this.all.map((s) => s.close()));
    this.all = [];
    this.free = [];
  }
}
