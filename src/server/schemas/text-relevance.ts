/**
 * Schemas of text relevance over the API: which words of a prompt make CLIP match it to a painting (Chefer et
 * al.'s text-side relevance, `src/attribution/text-relevance.ts`). Browser-safe: no node imports.
 *
 * @example
 * POST /api/paintings/<sha256>/text-relevance { "prompts": ["a great wave off kanagawa"] }
 * -> { paintingId, model, view, results: [{ prompt, score, tokens: [{ token: "great", value: 0.31 }, ...] }] }
 */
import { type Static, Type } from 'typebox';
import { NON_EMPTY, PAINTING_ID, withDefault } from './common.ts';
import { VIEW } from './jobs.ts';

export const TEXT_RELEVANCE_REQUEST = Type.Object(
  {
    prompts: Type.Array(NON_EMPTY, {
      minItems: 1,
      maxItems: 16,
      description: 'prompts whose words are explained',
    }),
    view: withDefault(VIEW, 'crop'),
    startLayer: withDefault(
      Type.Integer({
        minimum: -1000,
        maximum: 1000,
        description:
          'first text block whose relevance is propagated (negative: from the end; -1 = the last block, as the notebook)',
      }),
      -1,
    ),
  },
  { additionalProperties: false },
);
export type TextRelevanceRequest = Static<typeof TEXT_RELEVANCE_REQUEST>;

const TOKEN_RELEVANCE = Type.Object({
  token: Type.String({ description: 'the token as text (a word, or a piece of a longer word)' }),
  value: Type.Number({ description: "the token's share of the prompt's relevance (the shares sum to 1)" }),
});

const PROMPT_RELEVANCE = Type.Object({
  prompt: Type.String(),
  score: Type.Number({ description: 'the prompt’s image–text logit (logit scale · cos)' }),
  tokens: Type.Array(TOKEN_RELEVANCE, {
    description: 'the text tokens in order (start and end markers left out)',
  }),
  truncated: Type.Boolean({ description: 'true when the prompt was cut to the model’s context (77 tokens)' }),
});

export const TEXT_RELEVANCE_RESULT = Type.Object(
  {
    paintingId: PAINTING_ID,
    model: Type.Object({ id: Type.String(), fingerprint: Type.String() }),
    view: VIEW,
    startLayer: Type.Integer({ description: 'the first text block used (resolved, ≥ 0)' }),
    results: Type.Array(PROMPT_RELEVANCE, { description: 'one per prompt, in request order' }),
  },
  { description: "each prompt's words, with their share of the relevance for this painting" },
);
export type TextRelevanceResult = Static<typeof TEXT_RELEVANCE_RESULT>;
