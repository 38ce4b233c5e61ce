/**
 * Schemas of the decomposition and steering diagnostics over the API (`src/server/routes/decompose.ts`):
 * a painting's embedding split into every head's, MLP's and embedding term's direct contribution scored on text
 * directions (Gandelsman et al. 2024, `src/decompose/`), head roles over a set of paintings (TextSpan), steering
 * a painting along CLIP's gradient under an L∞ budget and robustness curves (`src/steer/`). Every count and
 * budget a request sets is bounded here, so work is refused before it starts. Browser-safe: no node imports
 * (the web UI imports the types).
 *
 * @example
 * POST /api/paintings/<sha256>/decompose { "texts": ["a red circle", "a blue square"], "versusRest": true }
 * POST /api/paintings/<sha256>/steer { "toward": "a blue square", "epsilon": 4, "steps": 40 }
 */
import { type Static, Type } from 'typebox';
import { Nullable, PAINTING_ID, SLUG, UUID, withDefault } from './common.ts';
import { DIMENSION_NAME } from './probes.ts';

/** A decomposition's or a steering run's id: sha256 of what it was computed from. */
export const RESULT_ID = Type.String({ pattern: '^[0-9a-f]{64}$', description: 'result id (sha256)' });
export const RESULT_PARAMS = Type.Object({ id: RESULT_ID }, { additionalProperties: false });

/** A prompt of a diagnostics request (shorter than the model's context in practice). */
const PROMPT = Type.String({ minLength: 1, maxLength: 500 });

/** A painting set of a diagnostics task: distinct ids. */
const paintingIds = (minItems: number, maxItems: number, description: string) =>
  Type.Array(PAINTING_ID, { minItems, maxItems, uniqueItems: true, description });

const SUITES = Type.Optional(
  Type.Array(SLUG, {
    maxItems: 16,
    description: 'default or workspace suite names; omitted or empty: every default suite',
  }),
);

const MODEL_REF = Type.Object({ id: Type.String(), fingerprint: Type.String() });

// ---- decomposition of one painting

export const DECOMPOSE_VIEWS = ['crop', 'pad'] as const;

/** Most labels of a dimension turned into decomposition directions (one direction per label). */
export const MAX_DIMENSION_DIRECTIONS = 32;

export const DECOMPOSE_REQUEST = Type.Object(
  {
    texts: Type.Optional(
      Type.Array(PROMPT, {
        minItems: 1,
        maxItems: 16,
        description: '"T" (T\'s unit text embedding) or "A|B" (the contrast t̂_A − t̂_B); one direction each',
      }),
    ),
    versusRest: withDefault(
      Type.Boolean({
        description: 'each plain text becomes t̂_k − mean of the other plain texts (needs two or more)',
      }),
      false,
    ),
    suite: Type.Optional(SLUG),
    dimension: Type.Optional(
      Type.String({
        pattern: '^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$',
        description:
          "instead of texts: a probe dimension; each label's prompt-ensemble embedding minus the mean of the other labels' (at most 32 labels)",
      }),
    ),
    view: withDefault(
      Type.Enum(DECOMPOSE_VIEWS, {
        description: 'crop: the centre square CLIP sees; pad: the whole painting letterboxed',
      }),
      'crop',
    ),
  },
  { additionalProperties: false },
);
export type DecomposeRequest = Static<typeof DECOMPOSE_REQUEST>;

const matrix = (description: string) =>
  Type.Array(Type.Array(Type.Number()), { description: `[layer][head]: ${description}` });
const perLayer = (description: string) =>
  Type.Array(Type.Number(), { description: `[layer]: ${description}` });

const DIRECTION_SCORES = Type.Object({
  label: Type.String(),
  kind: Type.Enum(['text', 'contrast', 'versus-rest']),
  texts: Type.Array(Type.String(), { description: 'the prompts (or labels) the direction is made of' }),
  total: Type.Number({ description: '⟨embedding, direction⟩ (= the sum of every term’s score)' }),
  heads: matrix("each head's score ⟨direct contribution, direction⟩"),
  clsToken: matrix("the class token's own part of each head's score (not on the painting's grid)"),
  mlp: perLayer("each layer's MLP score"),
  attentionBias: perLayer("each layer's attention out-projection bias score"),
  embed: Type.Number({ description: 'score of the class token entering block 0 (image-independent)' }),
  lnPostBias: Type.Number({
    description: "score of ln_post's bias through the projection (image-independent)",
  }),
  top: Type.Array(Type.Object({ layer: Type.Integer(), head: Type.Integer(), score: Type.Number() }), {
    description: 'the 10 heads of largest |score|',
  }),
});
export type DirectionScores = Static<typeof DIRECTION_SCORES>;

const RECT = Type.Object({ x: Type.Number(), y: Type.Number(), w: Type.Number(), h: Type.Number() });

export const DECOMPOSITION = Type.Object(
  {
    id: RESULT_ID,
    paintingId: PAINTING_ID,
    cached: Type.Boolean({ description: 'true when answered from the server’s memory of recent results' }),
    model: MODEL_REF,
    view: Type.Enum(DECOMPOSE_VIEWS),
    definition: Type.String(),
    painting: Type.Object(
      { width: Type.Integer(), height: Type.Integer() },
      { description: "the painting as decomposed (the server's pixel budget may have shrunk it)" },
    ),
    inputRect: Type.Object(RECT.properties, {
      description: 'where the model input (the token grid) lies in those painting pixels',
    }),
    layers: Type.Integer(),
    heads: Type.Integer(),
    grid: Type.Integer({ description: 'the patch grid is grid × grid' }),
    embeddingNorm: Type.Number(),
    sigma: Type.Number({ description: "ln_post's per-image scale" }),
    reconstructionError: Type.Number({ description: 'max |Σ term contributions − the model’s embedding|' }),
    streamError: Type.Number({ description: 'max |recomputed block output − the model’s residual stream|' }),
    directions: Type.Array(DIRECTION_SCORES),
    seconds: Type.Number(),
  },
  {
    description:
      'the direct contributions of every head, MLP and embedding term, scored on each direction; head maps at /api/decompositions/{id}/heads.npy',
  },
);
export type Decomposition = Static<typeof DECOMPOSITION>;

/** `all` or a non-negative integer as text (query strings). */
const allOrIndex = (description: string) => Type.String({ pattern: '^(all|[0-9]{1,4})$', description });

export const DECOMPOSITION_MAP_QUERY = Type.Object(
  {
    direction: withDefault(Type.Integer({ minimum: 0, maximum: 63, description: 'direction index' }), 0),
    layer: withDefault(allOrIndex('a layer, or all'), 'all'),
    head: withDefault(allOrIndex('a head, or all'), 'all'),
  },
  { additionalProperties: false },
);
export const DECOMPOSITION_HEADS_QUERY = Type.Object(
  { direction: withDefault(Type.Integer({ minimum: 0, maximum: 63, description: 'direction index' }), 0) },
  { additionalProperties: false },
);

// ---- steering one painting

export const STEER_REQUEST = Type.Object(
  {
    toward: PROMPT,
    away: Type.Optional(
      Type.String({ minLength: 1, maxLength: 500, description: 'score = logit(toward) − logit(away)' }),
    ),
    labels: Type.Optional(
      Type.Array(PROMPT, {
        minItems: 2,
        maxItems: 64,
        description: "a label set containing toward: score = toward's softmax probability within it",
      }),
    ),
    epsilon: withDefault(
      Type.Number({ exclusiveMinimum: 0, maximum: 32, description: 'L∞ budget in /255 units (4 = 4/255)' }),
      4,
    ),
    steps: withDefault(Type.Integer({ minimum: 1, maximum: 200, description: 'gradient steps' }), 40),
    stepFraction: Type.Optional(
      Type.Number({
        exclusiveMinimum: 0,
        maximum: 1,
        description: 'step size as a fraction of ε (default 2.5 / steps)',
      }),
    ),
    suites: SUITES,
    dimensions: Type.Optional(
      Type.Array(DIMENSION_NAME, {
        maxItems: 32,
        description: 'dimensions whose zero-shot answers are reported before and after (omitted: all)',
      }),
    ),
    topK: withDefault(
      Type.Integer({ minimum: 1, maximum: 10, description: 'ranked labels kept per answer' }),
      3,
    ),
  },
  { additionalProperties: false },
);
export type SteerRequestBody = Static<typeof STEER_REQUEST>;

const ANSWER = Type.Object({
  top: Type.String(),
  ranked: Type.Array(Type.Object({ label: Type.String(), probability: Type.Number() })),
});
export type SteerAnswer = Static<typeof ANSWER>;

const QUALITY = Type.Object({
  linf: Nullable(Type.Number()),
  psnr: Nullable(Type.Number({ description: 'dB (null: unchanged)' })),
  ssim: Nullable(Type.Number()),
});

export const STEER_FILES = [
  'original.png',
  'steered.png',
  'perturbation.png',
  'painting.png',
  'perturbation.npy',
] as const;
export type SteerFile = (typeof STEER_FILES)[number];
export const STEER_FILE_PARAMS = Type.Object(
  {
    id: RESULT_ID,
    file: Type.Enum(STEER_FILES, {
      description:
        'original.png / steered.png: the model input before and after; perturbation.png: the change amplified (0.5 + δ/2ε); painting.png: the steered painting; perturbation.npy: δ, float32 [3, S, S]',
    }),
  },
  { additionalProperties: false },
);

export const STEER_RESULT = Type.Object(
  {
    id: RESULT_ID,
    paintingId: PAINTING_ID,
    cached: Type.Boolean(),
    model: MODEL_REF,
    engine: Type.String(),
    targetText: Type.String(),
    scoreKind: Type.Enum(['logit', 'logit difference', 'probability']),
    epsilon: Type.Number({ description: 'the budget in [0, 1] pixel units' }),
    epsilon255: Type.Number(),
    steps: Type.Integer(),
    stepSize: Type.Number(),
    inputRect: RECT,
    paintingSize: Type.Array(Type.Integer(), { description: '[H, W] of the painting as steered' }),
    score: Type.Object({
      before: Nullable(Type.Number()),
      after: Nullable(Type.Number()),
      after8bit: Nullable(Type.Number()),
      afterPainting: Nullable(Type.Number()),
    }),
    dimensions: Type.Array(
      Type.Object({
        name: Type.String(),
        before: ANSWER,
        after: ANSWER,
        after8bit: ANSWER,
        afterPainting: ANSWER,
        flipped: Type.Boolean({ description: 'the top answer changed on the steered input' }),
        flippedPainting: Type.Boolean({
          description: 'and survived 8 bits and the painting’s preprocessing',
        }),
      }),
    ),
    change: Type.Object({ input: QUALITY, painting: QUALITY }),
    files: Type.Object(
      Object.fromEntries(STEER_FILES.map((f) => [f, Type.String({ description: 'URL' })])) as Record<
        SteerFile,
        ReturnType<typeof Type.String>
      >,
    ),
    seconds: Type.Number(),
  },
  { description: 'the target score and every dimension’s answer before and after steering' },
);
export type SteerResult = Static<typeof STEER_RESULT>;

// ---- tasks over several paintings: head roles and robustness curves

export const HEAD_ROLES_REQUEST = Type.Object(
  {
    paintingIds: paintingIds(2, 500, 'the paintings whose head contributions are analysed'),
    layers: Type.Optional(
      Type.Array(Type.Integer({ minimum: 0, maximum: 255 }), {
        minItems: 1,
        maxItems: 64,
        uniqueItems: true,
        description: 'layers to analyse (default: the last `lastLayers`)',
      }),
    ),
    lastLayers: withDefault(Type.Integer({ minimum: 1, maximum: 64 }), 4),
    textsPerHead: withDefault(
      Type.Integer({ minimum: 1, maximum: 20, description: 'TextSpan picks per head' }),
      5,
    ),
    rank: withDefault(
      Type.Integer({ minimum: 1, maximum: 512, description: 'principal directions kept' }),
      80,
    ),
    vocabulary: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 200_000,
        description:
          'descriptions, one per line ([category] lines, # comments); default: the shipped vocabularies/art-descriptions.txt',
      }),
    ),
  },
  { additionalProperties: false },
);
export type HeadRolesRequest = Static<typeof HEAD_ROLES_REQUEST>;

export const HEAD_ROLES_RESULT = Type.Object({
  vocabulary: Type.Object({
    source: Type.String(),
    descriptions: Type.Integer(),
    categories: Type.Array(Type.String()),
  }),
  images: Type.Integer(),
  layers: Type.Array(Type.Integer()),
  textsPerHead: Type.Integer(),
  rank: Type.Integer(),
  embeddingVariance: Type.Number(),
  reconstructionError: Type.Number(),
  heads: Type.Array(
    Type.Object({
      layer: Type.Integer(),
      head: Type.Integer(),
      variance: Type.Number(),
      varianceShare: Type.Number({ description: "the head's output variance / the embedding's" }),
      meanNorm: Type.Number(),
      explained: Type.Number({ description: 'share of the head’s variance its descriptions explain' }),
      descriptions: Type.Array(
        Type.Object({
          text: Type.String(),
          category: Type.String(),
          varianceExplained: Type.Number({ description: 'cumulative' }),
          gain: Type.Number(),
        }),
      ),
    }),
  ),
});
export type HeadRolesResult = Static<typeof HEAD_ROLES_RESULT>;

export const ROBUSTNESS_REQUEST = Type.Object(
  {
    paintingIds: paintingIds(1, 50, 'the paintings to steer'),
    suites: SUITES,
    dimensions: Type.Array(DIMENSION_NAME, { minItems: 1, maxItems: 8, description: 'dimensions to flip' }),
    epsilons: withDefault(
      Type.Array(Type.Number({ exclusiveMinimum: 0, maximum: 64 }), {
        minItems: 1,
        maxItems: 8,
        description: 'the ladder of budgets, in /255 units',
      }),
      [1, 2, 4, 8, 16],
    ),
    steps: withDefault(Type.Integer({ minimum: 1, maximum: 200 }), 40),
    stepFraction: Type.Optional(Type.Number({ exclusiveMinimum: 0, maximum: 1 })),
  },
  { additionalProperties: false },
);
export type RobustnessRequest = Static<typeof ROBUSTNESS_REQUEST>;

const CURVE_POINT = Type.Object({
  epsilon255: Type.Number(),
  flipped: Type.Boolean(),
  step: Nullable(Type.Integer()),
  topAfter: Type.String(),
  originalProbabilityAfter: Type.Number({ description: 'probability of the answer before, after steering' }),
  psnr: Nullable(Type.Number()),
});
export const ROBUSTNESS_RESULT = Type.Object({
  epsilons255: Type.Array(Type.Number()),
  steps: Type.Integer(),
  rows: Type.Array(
    Type.Object({
      paintingId: PAINTING_ID,
      name: Type.String(),
      seconds: Type.Number(),
      dimensions: Type.Array(
        Type.Object({
          name: Type.String(),
          topBefore: Type.String(),
          probabilityBefore: Type.Number(),
          smallestEpsilon255: Nullable(Type.Number({ description: 'null: none of the ladder flips' })),
          curve: Type.Array(CURVE_POINT),
        }),
      ),
    }),
  ),
  summary: Type.Array(
    Type.Object({
      dimension: Type.String(),
      paintings: Type.Integer(),
      flipped: Type.Integer(),
      medianSmallestEpsilon255: Nullable(Type.Number({ description: 'unflipped paintings count as +∞' })),
    }),
  ),
});
export type RobustnessResult = Static<typeof ROBUSTNESS_RESULT>;
export type RobustnessRow = RobustnessResult['rows'][number];

export const TASK_KINDS = ['head-roles', 'robustness'] as const;
export const TASK_STATES = ['queued', 'running', 'done', 'failed', 'cancelled'] as const;

export const DIAGNOSTICS_TASK = Type.Object(
  {
    id: UUID,
    kind: Type.Enum(TASK_KINDS),
    state: Type.Enum(TASK_STATES),
    progress: Type.Object({ done: Type.Integer(), total: Type.Integer() }),
    paintings: Type.Integer(),
    createdAt: Type.String(),
    finishedAt: Nullable(Type.String()),
    error: Nullable(Type.String()),
    model: Nullable(MODEL_REF),
    headRoles: Type.Optional(HEAD_ROLES_RESULT),
    robustness: Type.Optional(ROBUSTNESS_RESULT),
  },
  { description: 'a diagnostics task over several paintings (kept in memory while the server runs)' },
);
export type DiagnosticsTask = Static<typeof DIAGNOSTICS_TASK>;

export const TASK_LIST_QUERY = Type.Object(
  { kind: Type.Optional(Type.Enum(TASK_KINDS)) },
  { additionalProperties: false },
);
