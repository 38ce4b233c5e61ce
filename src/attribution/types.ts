/**
 * Types shared by every attribution method: what a method is given, what it returns, and how a map
 * relates to the painting's own pixels.
 *
 * @example
 * const map: AttributionMap = await gradient.attribute(input, { target });
 * map.grid; // { rows: 224, cols: 224 }
 */
import type { ClipEngine } from '../engine/engine.ts';
import type { PreparedTarget, TargetSpec } from './target.ts';

export const METHOD_IDS = [
  'gradient',
  'gradient-x-input',
  'smoothgrad',
  'integrated-gradients',
  'rollout',
  'chefer-last',
  'chefer-all',
  'occlusion',
  'legrad',
  'grad-eclip',
] as const;

export type MethodId = (typeof METHOD_IDS)[number];

/**
 * Where one model input (an S×S square) lies in the painting: the painting-pixel rectangle that the
 * square [0, S]² covers. Crop and pad views have one such rectangle; tiles have several.
 */
export interface ViewRect {
  x: number;
  y: number;
  w: number;
  h: number;
}

export interface ViewTransform {
  kind: 'crop' | 'pad' | 'tiles';
  /** The painting's size in pixels (after EXIF orientation). */
  painting: { width: number; height: number };
  /** Model input side S. */
  inputSize: number;
  /** One rectangle per model input (tile). */
  rects: ViewRect[];
}

/** One model input prepared for attribution. */
export interface AttributionInput {
  /** The CLIP engine (ONNX Runtime or the TF.js reference). */
  model: ClipEngine;
  /** Normalised pixels [3, S, S]. */
  pixels: Float32Array;
  /** Identity of the model (e.g. folder name + weights hash) and of the image (e.g. file sha256). */
  modelId?: string;
  imageId?: string;
  /** Where this input sits in the painting; omitted for a bare model input. */
  view?: ViewTransform;
  /** Index of the tile within view.rects this input is (0 for crop/pad). */
  tile?: number;
  /** The preprocessing mean/std (for baselines defined in pixel space); OpenAI's when omitted. */
  normalisation?: { mean: number[]; std: number[] };
}

/** An attribution map on its native grid (token grid for attention methods, pixels for gradients). */
export interface AttributionMap {
  method: MethodId;
  target: TargetSpec;
  params: Record<string, unknown>;
  grid: { rows: number; cols: number };
  /** Row-major [rows, cols]. */
  values: Float32Array;
  /** True when negative values are meaningful (use a diverging colour map). */
  signed: boolean;
  /** The target score for the unmodified input. */
  score: number;
  model?: string;
  image?: string;
  view?: ViewTransform;
  tile?: number;
  /** Method-specific extras (e.g. integrated gradients' completeness delta). */
  extras?: Record<string, number | number[]>;
}

/** Options every method accepts; methods add their own parameters. */
export interface AttributeOptions {
  target: PreparedTarget;
}

/** A method: one file each, all behind this interface. */
export interface AttributionMethod<P extends object = Record<string, unknown>> {
  id: MethodId;
  /** Human-readable name and the reference it follows. */
  title: string;
  signed: boolean;
  /** Checks and completes user parameters (throws with a message naming the bad parameter). */
  resolveParams(params: Partial<P>): P;
  /** Maps for several targets of one input; batched where the maths allows. */
  attributeMany(input: AttributionInput, targets: PreparedTarget[], params: P): Promise<AttributionMap[]>;
}
