/**
 * Schemas of zero-shot probes (request and answers, each with the target that explains it) and of the probe
 * suites (default and workspace suites of dimensions and labels).
 *
 * @example
 * const answer: ZeroShotAnswer = result.images[0].answers.style;
 * await api.createJob({ paintingId, method: 'chefer-all', target: answer.explain });
 */
import { type Static, Type } from 'typebox';
import { OpenObject, PAINTING_ID, RecordOf, SLUG, withDefault } from './common.ts';

/** A dimension name in a probe request (suite dimension names: letters, digits, "-", "_"). */
export const DIMENSION_NAME = Type.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$' });

export const PROBE_REQUEST = Type.Object(
  {
    suites: Type.Optional(
      Type.Array(SLUG, {
        maxItems: 64,
        description: 'default or workspace suite names; omitted or empty: every default suite',
      }),
    ),
    dimensions: Type.Optional(
      Type.Array(DIMENSION_NAME, {
        maxItems: 256,
        description: 'dimension (or suite) names within those suites; omitted or empty: all their dimensions',
      }),
    ),
    topK: withDefault(
      Type.Integer({ minimum: 1, maximum: 100, description: 'ranked labels kept per answer' }),
      5,
    ),
  },
  { additionalProperties: false },
);
export type ProbeRequest = Static<typeof PROBE_REQUEST>;

const RANKED_LABEL = Type.Object({
  label: Type.String(),
  probability: Type.Number(),
  logit: Type.Number({ description: 'logit scale · cos(image, label prompt ensemble)' }),
  prompt: Type.String({ description: "the label's prompt in the explain target" }),
});

/** The attribution target explaining a zero-shot answer: POST it as a job's `target` to get the heatmap. */
const LABEL_TARGET = Type.Object({
  kind: Type.Literal('label'),
  label: Type.String(),
  labels: Type.Array(Type.String()),
  prompts: Type.Optional(Type.Array(Type.Array(Type.String()))),
});

const ZERO_SHOT_ANSWER = Type.Object({
  ranked: Type.Array(RANKED_LABEL, { description: 'top-k labels, most probable first' }),
  probabilities: Type.Array(Type.Number(), {
    description: "every label's probability, in the dimension's label order (sum 1)",
  }),
  explain: LABEL_TARGET,
});
export type ZeroShotAnswer = Static<typeof ZERO_SHOT_ANSWER>;

/** A zero-shot probe of one painting: runZeroShot's result plus cache metadata. */
export const PROBE_RESULT = Type.Object(
  {
    paintingId: PAINTING_ID,
    cached: Type.Boolean({ description: 'true when answered from the workspace cache' }),
    cacheKey: Type.String(),
    createdAt: Type.Optional(Type.String()),
    model: Type.String(),
    modelFingerprint: Type.Optional(Type.String()),
    suites: Type.Optional(Type.Array(Type.String())),
    logitScale: Type.Optional(Type.Number()),
    topK: Type.Optional(Type.Integer()),
    dimensions: Type.Array(
      Type.Object({
        name: Type.Optional(Type.String()),
        suite: Type.Optional(Type.String()),
        source: Type.Optional(Type.String({ description: '"default:<suite>" or "workspace:<suite>"' })),
        description: Type.Optional(Type.String()),
        labels: Type.Optional(
          Type.Array(
            Type.Object({
              id: Type.Optional(Type.String()),
              prompts: Type.Optional(Type.Array(Type.String())),
            }),
          ),
        ),
      }),
    ),
    images: Type.Array(
      Type.Object({
        image: Type.String(),
        answers: RecordOf(ZERO_SHOT_ANSWER, { description: 'answers per dimension name' }),
      }),
      { description: 'one entry (this painting): answers per dimension name' },
    ),
  },
  { description: 'ranked labels per dimension, each with the target that explains it' },
);
export type ProbeResult = Static<typeof PROBE_RESULT>;

export const SUITE_ORIGIN = Type.Enum(['default', 'workspace']);

export const SUITE_SUMMARY = Type.Object(
  {
    name: Type.String(),
    description: Type.String(),
    origin: SUITE_ORIGIN,
    dimensions: Type.Array(Type.String(), { description: 'dimension names' }),
  },
  { description: 'a suite and its dimension names' },
);
export type SuiteSummary = Static<typeof SUITE_SUMMARY>;

/** A suite with its dimensions (templates and labels with their prompts). */
export const SUITE = Type.Object(
  {
    name: Type.String(),
    description: Type.Optional(Type.String()),
    origin: SUITE_ORIGIN,
    dimensions: Type.Array(
      Type.Object(
        {
          name: Type.String(),
          description: Type.Optional(Type.String()),
          templates: Type.Array(Type.String()),
          labels: Type.Array(
            Type.Object(
              {
                id: Type.String(),
                text: Type.Optional(Type.String()),
                prompts: Type.Array(Type.String()),
                aliases: Type.Optional(Type.Array(Type.String())),
              },
              { additionalProperties: true },
            ),
          ),
        },
        { additionalProperties: true },
      ),
    ),
  },
  { additionalProperties: true, description: 'a suite with its dimensions' },
);
export type Suite = Static<typeof SUITE>;

/** A suite to store: parsed and checked by the suite reader. */
export const SUITE_INPUT = OpenObject(
  {},
  { description: 'a suite: { name, description, dimensions: { <name>: { templates, labels } } }' },
);
