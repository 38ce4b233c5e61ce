/**
 * The parameters of every attribution method, declared once as TypeBox schemas (names, types, ranges,
 * defaults, choices): the API's job schema and OpenAPI document are built from them, and
 * `validateMethodParams` checks and completes user parameters with messages naming the method and the
 * parameter (the wording of `checkInt` & co. in utils.ts). Browser-safe: no node or TensorFlow imports.
 *
 * @example
 * validateMethodParams('smoothgrad', { samples: 8 }); // { samples: 8, sigma: 0.15, seed: 0, batch: 8 }
 * validateMethodParams('rollout', { headFusion: 'sum' }); // throws "rollout: headFusion must be one of mean, max, min, got "sum""
 */
import { type Static, type TObject, type TSchema, Type } from 'typebox';
import { METHOD_IDS, type MethodId } from './types.ts';

/** Rows per forward/backward pass requested by default (`DEFAULT_BATCH` in utils.ts). */
export const DEFAULT_BATCH = 8;
/** Integrated gradients' baselines. */
export const IG_BASELINES = ['zero', 'black', 'blurred'] as const;
/** Rollout's fusions of attention heads. */
export const HEAD_FUSIONS = ['mean', 'max', 'min'] as const;
/** Occlusion's fills of the occluded window. */
export const OCCLUSION_FILLS = ['mean', 'black', 'blurred'] as const;
/** Map normalisations of LeGrad and Grad-ECLIP (`MAP_NORMALISATIONS` in utils.ts). */
export const MAP_NORMALISATIONS = ['minmax', 'none'] as const;
/** Grad-ECLIP's head counts of the recomputed last block. */
export const GRAD_ECLIP_HEADS = ['one', 'model'] as const;

/**
 * An optional property with a default: optional on the wire, always present once validated (validators fill
 * defaults in). The default is kept in the type too, so resolved types know the property is set.
 *
 * @example
 * Type.Object({ steps: withDefault(Type.Integer({ minimum: 1 }), 32) }); // { steps?: number }, default 32
 */
export function withDefault<T extends TSchema, const V extends Static<T>>(schema: T, value: V) {
  return Object.assign(Type.Optional(schema), { default: value });
}

const integer = <const V extends number>(minimum: number, maximum: number, value: V, description: string) =>
  withDefault(Type.Integer({ minimum, maximum, description }), value);
const number = <const V extends number>(minimum: number, maximum: number, value: V, description: string) =>
  withDefault(Type.Number({ minimum, maximum, description }), value);
const choice = <const C extends readonly string[], const V extends C[number]>(
  choices: C,
  value: V,
  description: string,
) => withDefault(Type.Enum<[...C]>(choices, { description }), value);
const batch = (maximum: number, description = 'rows per forward/backward pass (capped by model size)') =>
  integer(1, maximum, DEFAULT_BATCH, description);
const params = <P extends Parameters<typeof Type.Object>[0]>(method: MethodId, properties: P) =>
  Type.Object(properties, { additionalProperties: false, title: `${method} parameters` });

/** Chefer relevance: the first block propagated (negative: counted from the end). */
const startLayer = <const V extends number>(value: V) =>
  integer(
    -1000,
    1000,
    value,
    'first transformer block whose relevance is propagated (negative: from the end)',
  );

/** Each method's parameters (all optional; `default` where the method has one). */
export const METHOD_PARAMS = {
  gradient: params('gradient', { batch: batch(64) }),
  'gradient-x-input': params('gradient-x-input', { batch: batch(64) }),
  smoothgrad: params('smoothgrad', {
    samples: integer(1, 4096, 16, 'noisy copies averaged'),
    sigma: number(0, 10, 0.15, 'noise standard deviation, as a fraction of the input range'),
    seed: integer(0, 2 ** 32 - 1, 0, 'noise seed'),
    batch: batch(64),
  }),
  'integrated-gradients': params('integrated-gradients', {
    steps: integer(1, 4096, 32, 'points on the path from the baseline to the input'),
    baseline: choice(IG_BASELINES, 'zero', 'the baseline image'),
    blurSigma: number(0, 1000, 10, 'blur of the "blurred" baseline (pixels)'),
    batch: batch(64),
  }),
  rollout: params('rollout', {
    headFusion: choice(HEAD_FUSIONS, 'mean', 'how attention heads are fused'),
    discardRatio: number(0, 0.99, 0, 'share of the weakest attentions dropped per layer'),
  }),
  'chefer-last': params('chefer-last', { startLayer: startLayer(-1), batch: batch(64) }),
  'chefer-all': params('chefer-all', { startLayer: startLayer(0), batch: batch(64) }),
  occlusion: params('occlusion', {
    window: Type.Optional(
      Type.Integer({
        minimum: 1,
        maximum: 4096,
        description: 'window side in input pixels (default: the patch size)',
      }),
    ),
    stride: Type.Optional(
      Type.Integer({ minimum: 1, maximum: 4096, description: 'step between windows (default: the window)' }),
    ),
    fill: choice(OCCLUSION_FILLS, 'mean', 'what the occluded window is filled with'),
    blurSigma: number(0, 1000, 10, 'blur of the "blurred" fill (pixels)'),
    batch: batch(256, 'occluded copies per forward pass (capped by model size)'),
  }),
  legrad: params('legrad', {
    startLayer: integer(
      -1000,
      1000,
      -2,
      'first block whose readout gradient is summed (negative: from the end; -2 = the last two, the official default)',
    ),
    normalize: choice(MAP_NORMALISATIONS, 'minmax', 'min-max over the patch grid (official), or the raw sum'),
    batch: batch(64),
  }),
  'grad-eclip': params('grad-eclip', {
    attentionHeads: choice(
      GRAD_ECLIP_HEADS,
      'one',
      "heads of the recomputed last block: one over the full width (official notebook) or the model's own",
    ),
    normalize: choice(MAP_NORMALISATIONS, 'minmax', 'min-max over the patch grid (official), or raw'),
    batch: batch(64),
  }),
} satisfies Record<MethodId, TObject>;

type Props<M extends MethodId> = (typeof METHOD_PARAMS)[M]['properties'];

/** A method's parameters as a request gives them (every one optional). */
export type MethodParams<M extends MethodId> = Static<(typeof METHOD_PARAMS)[M]>;

/** A method's parameters once validated: defaults filled in (parameters without a default may stay unset). */
export type ResolvedMethodParams<M extends MethodId> = {
  [K in keyof Props<M>]: Props<M>[K] extends infer S extends TSchema
    ? S extends { default: unknown }
      ? Static<S>
      : Static<S> | undefined
    : never;
};

/** What the validator reads of a parameter's schema. */
interface ParamSchema {
  type?: string;
  minimum?: number;
  maximum?: number;
  enum?: readonly string[];
  default?: unknown;
}

function checkValue(method: MethodId, name: string, v: unknown, s: ParamSchema): unknown {
  const got = JSON.stringify(v);
  if (s.enum) {
    if (!s.enum.includes(v as string))
      throw new Error(`${method}: ${name} must be one of ${s.enum.join(', ')}, got ${got}`);
    return v;
  }
  const [min, max] = [s.minimum ?? -Number.MAX_VALUE, s.maximum ?? Number.MAX_VALUE];
  if (s.type === 'integer') {
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max)
      throw new Error(`${method}: ${name} must be an integer in [${min}, ${max}], got ${got}`);
    return v;
  }
  if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max)
    throw new Error(`${method}: ${name} must be a number in [${min}, ${max}], got ${got}`);
  return v;
}

/**
 * Checks a method's parameters against its schema and fills in the defaults. Throws, naming the method and
 * the parameter, on an unknown method or parameter, a wrong type, a value out of range or not among the
 * choices. Parameters without a default are left out when not given.
 *
 * @example
 * validateMethodParams('chefer-all', {}); // { startLayer: 0, batch: 8 }
 * validateMethodParams('integrated-gradients', { steps: 0 });
 * // throws "integrated-gradients: steps must be an integer in [1, 4096], got 0"
 * validateMethodParams('gradient', { step: 3 }); // throws 'gradient: unknown parameter "step" (known: batch)'
 */
export function validateMethodParams<M extends MethodId>(
  method: M,
  params: Readonly<Record<string, unknown>>,
): ResolvedMethodParams<M> {
  const schema: TObject | undefined = METHOD_PARAMS[method];
  if (!schema) throw new Error(`unknown attribution method "${method}" (known: ${METHOD_IDS.join(', ')})`);
  const props = schema.properties as Record<string, ParamSchema>;
  const known = Object.keys(props);
  for (const k of Object.keys(params))
    if (!known.includes(k))
      throw new Error(`${method}: unknown parameter "${k}" (known: ${known.join(', ') || 'none'})`);
  const out: Record<string, unknown> = {};
  for (const [name, s] of Object.entries(props)) {
    const given = params[name];
    if ('default' in s) out[name] = checkValue(method, name, given ?? s.default, s);
    else if (given !== undefined) out[name] = checkValue(method, name, given, s);
  }
  return out as ResolvedMethodParams<M>;
}

/**
 * True when `id` names an attribution method.
 *
 * @example
 * isMethodId('rollout'); // true
 */
export function isMethodId(id: unknown): id is MethodId {
  return typeof id === 'string' && (METHOD_IDS as readonly string[]).includes(id);
}
