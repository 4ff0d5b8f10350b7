// One ONNX Runtime session in a worker thread (models/runtime/session.ts, `offThread`): onnxruntime-node
// runs a model synchronously on the calling thread, so in the pipeline's worker process every batch would
// stall the event loop (database writes, queue locks, the next scan's preprocessing). Plain JavaScript so
// that it loads under any runner (tsx, vitest, node) without a TypeScript loader.
import { parentPort, workerData } from 'node:worker_threads';
import ort from 'onnxruntime-node';

const session = await ort.InferenceSession.create(workerData.bytes, workerData.options);
parentPort.postMessage({ type: 'ready', inputNames: session.inputNames, outputNames: session.outputNames });

parentPort.on('message', async (m) => {
  if (m.type === 'close') {
    await session.release();
    parentPort.close();
    return;
  }
  try {
    const res = await session.run({ [m.inputName]: new ort.Tensor('float32', m.data, m.dims) });
    const t = res[m.outputName];
    if (!t) throw new Error(`model has no output named ${m.outputName} (outputs: ${session.outputNames.join(', ')})`);
    // A copy we own, so its buffer can be handed over without copying again.
    const data = new Float32Array(t.data);
    parentPort.postMessage({ type: 'result', id: m.id, data, dims: t.dims }, [data.buffer]);
  } catch (e) {
    parentPort.postMessage({ type: 'result', id: m.id, error: e instanceof Error ? e.message : String(e) });
  }
});
