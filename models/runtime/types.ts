// The contract between the pipeline and the models: a model card describes each committed .onnx, and the
// runtime turns a stored rendering into evidence (class scores, boxes). Evidence is never a verdict.
import type { Box } from '../../domain/verdict.js';
import type { Modality } from '../../domain/scan.js';

export type ModelTask = 'classify' | 'detect' | 'embed' | 'verify';

export interface ModelCard {
  name: string;
  version: string;
  /** sha256 of the .onnx file, hex; the runtime refuses a file that does not match. */
  sha256: string;
  /** File name of the .onnx beside the card. */
  file: string;
  task: ModelTask;
  modality: Modality;
  /** Further modalities the model also serves (e.g. a parcel detector for both parcel-ct and parcel-xray). */
  modalities?: Modality[];
  input: {
    /** [N, C, H, W] with N dynamic (-1 or 'batch'). */
    shape: [number | string, number, number, number];
    /**
     * `grey+material` (verify models only): two planes, the grey rendering and the container material channel
     * of the raw dual-energy pair (renderContainerMaterial); such a model is used only for scans sent as a raw pair.
     * `grey+material+deep` (lattice verifiers only): the same and a third plane, the raw high-energy image in the
     * deep window (renderContainerDeep), for what lies behind cargo the grey rendering shows black.
     */
    channels: 'grey' | 'rgb' | 'grey+material' | 'grey+material+deep';
    /** How pixels map to the tensor: value = (pixel/255 - mean) / std per channel. */
    normalisation: { mean: number[]; std: number[] };
    /** How an arbitrary-aspect image becomes the input: letterbox keeps aspect (pad), stretch does not. */
    resize: 'letterbox' | 'stretch' | 'tile';
    /** Pad value (0..255) used by letterbox. */
    padValue?: number;
  };
  /**
   * Output layout: classify → logits [N, classes]; detect → Ultralytics YOLOv8 [N, 4 + classes, anchors], or
   * `grid-logits` [N, classes, H/stride, W/stride]: a logit per class for every stride × stride cell of the
   * input (connected cells over the threshold become one box). `window-map` (verify models): the verifier run
   * fully convolutionally over the whole scan resampled to its scale (any H and W, multiples of `stride`): one
   * logit per class for every window of input.shape's size whose corner lies on the stride lattice,
   * [N, classes, H/stride − k + 1, W/stride − k + 1] with k = input.shape[2] / stride (models/runtime/lattice.ts).
   */
  output: { name: string; layout: 'logits' | 'multilabel-logits' | 'yolov8' | 'grid-logits' | 'embedding' | 'window-map'; stride?: number };
  labels: string[];
  /** Per-label decision thresholds, calibrated on the validation figures in `metrics`. */
  thresholds: Record<string, number>;
  nms?: { iou: number; maxDetections: number };
  /**
   * task `verify` only: the grid detector (by name) whose proposals this model re-scores on full-resolution
   * windows of the rendering (models/runtime/verify.ts). It is never run on a whole rendering.
   */
  verifies?: { model: string; proposalThreshold: number; maxProposals: number; window: number; minWindowPixels: number; denseStride?: number; neighbourRadius?: number; fusion?: Record<string, number[]> };
  metrics?: Record<string, unknown>;
  training?: Record<string, unknown>;
}

export interface Detection {
  label: string;
  score: number;
  /** In pixels of the rendering given to the runtime. */
  box: Box;
}

export interface ModelOutput {
  model: string;
  version: string;
  task: ModelTask;
  /** classify: score per label (softmax or sigmoid as the layout says). */
  scores?: Record<string, number>;
  /** detect: detections after thresholding at the card's lowest threshold and NMS. */
  detections?: Detection[];
  embedding?: number[];
  /** detect: the second-stage model whose confirmed detections these are (models/runtime/verify.ts). */
  verifiedBy?: { model: string; version: string };
  /**
   * embed, long container renderings only: one vector per overlapping full-height tile along the length
   * (models/runtime/tiles.ts); x and width in rendering pixels.
   */
  tiles?: EmbeddingTile[];
}

export interface EmbeddingTile {
  x: number;
  width: number;
  embedding: number[];
}

/** A decoded rendering as stored by the preprocess stage. */
export interface Rendering {
  width: number;
  height: number;
  /** 2: grey and material interleaved, only inside the runtime (a material verifier's windows). */
  channels: 1 | 2 | 3;
  /** 8-bit interleaved pixels, row-major. */
  data: Uint8Array;
}

export interface InferExtras {
  material?: Rendering;
  /** The deep plane (renderContainerDeep, same size), for a verifier whose card reads it; only with `material`. */
  deep?: Rendering;
}

/** What the infer stage needs from the runtime. */
export interface ModelRuntime {
  /** Cards of the models loaded for this modality (empty → MODEL_UNAVAILABLE). */
  modelsFor(modality: Modality): ModelCard[];
  /**
   * Runs every model registered for the modality on the rendering of that modality. `extra.material`: a
   * container's material channel (renderContainerMaterial, same size as the rendering) when the scan came as a
   * raw dual-energy pair; a verifier that reads it is then used in place of the grey one. `extra.deep`: the
   * deep plane beside it, which a `grey+material+deep` verifier needs (without it the grey verifier is used).
   */
  infer(modality: Modality, rendering: Rendering, extra?: InferExtras): Promise<ModelOutput[]>;
  /**
   * How the runtime prepares the models' inputs (RUNTIME_REVISION): the same model versions give other outputs
   * under another revision, so a verdict names it beside them.
   */
  readonly revision?: string;
  close(): Promise<void>;
}
