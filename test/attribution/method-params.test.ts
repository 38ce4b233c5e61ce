/**
 * The declarative parameter schemas agree with the methods: for every method, `validateMethodParams` gives the
 * same defaults as the method's own `resolveParams`, accepts and refuses the same values (boundaries, wrong
 * types, unknown choices and parameters) with the same messages, and shares the methods' constants.
 */
import { describe, expect, it } from 'vitest';
import { GRAD_ECLIP_HEADS as GRAD_ECLIP_HEADS_OF_METHOD } from '../../src/attribution/grad-eclip.ts';
import { IG_BASELINES as IG_BASELINES_OF_METHOD } from '../../src/attribution/integrated-gradients.ts';
import {
  DEFAULT_BATCH,
  GRAD_ECLIP_HEADS,
  HEAD_FUSIONS,
  IG_BASELINES,
  isMethodId,
  MAP_NORMALISATIONS,
  METHOD_PARAMS,
  OCCLUSION_FILLS,
  validateMethodParams,
} from '../../src/attribution/method-params.ts';
import { OCCLUSION_FILLS as OCCLUSION_FILLS_OF_METHOD } from '../../src/attribution/occlusion.ts';
import { METHODS } from '../../src/attribution/registry.ts';
import { HEAD_FUSIONS as HEAD_FUSIONS_OF_METHOD } from '../../src/attribution/rollout.ts';
import { METHOD_IDS, type MethodId } from '../../src/attribution/types.ts';
import {
  DEFAULT_BATCH as DEFAULT_BATCH_OF_METHODS,
  MAP_NORMALISATIONS as MAP_NORMALISATIONS_OF_METHODS,
} from '../../src/attribution/utils.ts';

interface ParamSchema {
  type?: string;
  minimum?: number;
  maximum?: number;
  enum?: string[];
}

/** The parameters of a method's schema. */
const paramsOf = (id: MethodId) =>
  Object.entries(METHOD_PARAMS[id].properties as Record<string, ParamSchema>);

/** What a call gives: its value, or its error message. */
function outcome(f: () => unknown): { value?: unknown; error?: string } {
  try {
    return { value: f() };
  } catch (e) {
    return { error: (e as Error).message };
  }
}

/** Good values at the edges of each parameter's range (or each choice). */
function goodValues({ enum: choices, type, minimum: lo = 0, maximum: hi = 0 }: ParamSchema): unknown[] {
  if (choices) return choices;
  return type === 'integer' ? [lo, hi, Math.round((lo + hi) / 2)] : [lo, hi, (lo + hi) / 2];
}

/** Bad values: out of range, wrong type, not an integer, not a choice. */
function badValues({ enum: choices, type, minimum: lo = 0, maximum: hi = 0 }: ParamSchema): unknown[] {
  if (choices) return ['nope', 1, true, choices[0].toUpperCase()];
  const bad: unknown[] = [lo - 1, hi + 1, String(lo), true, [lo], Number.NaN];
  if (type === 'integer') bad.push(lo + 0.5);
  return bad;
}

describe('method parameters (declarative schemas)', () => {
  it('has a schema for every method, and the methods share its constants', () => {
    expect(Object.keys(METHOD_PARAMS)).toEqual([...METHOD_IDS]);
    expect(DEFAULT_BATCH).toBe(DEFAULT_BATCH_OF_METHODS);
    expect(IG_BASELINES).toEqual(IG_BASELINES_OF_METHOD);
    expect(HEAD_FUSIONS).toEqual(HEAD_FUSIONS_OF_METHOD);
    expect(OCCLUSION_FILLS).toEqual(OCCLUSION_FILLS_OF_METHOD);
    expect(MAP_NORMALISATIONS).toEqual(MAP_NORMALISATIONS_OF_METHODS);
    expect(GRAD_ECLIP_HEADS).toEqual(GRAD_ECLIP_HEADS_OF_METHOD);
    expect(METHOD_IDS.every(isMethodId)).toBe(true);
    expect(isMethodId('nope')).toBe(false);
  });

  for (const id of METHOD_IDS) {
    describe(id, () => {
      const method = METHODS[id];

      it('fills in the same defaults as resolveParams', () => {
        expect(validateMethodParams(id, {})).toEqual(method.resolveParams({}));
        // null means "default", as in resolveParams
        const nulls = Object.fromEntries(
          paramsOf(id)
            .filter(([, s]) => 'default' in s)
            .map(([k]) => [k, null]),
        );
        expect(outcome(() => validateMethodParams(id, nulls))).toEqual(
          outcome(() => method.resolveParams(nulls as never)),
        );
      });

      it('accepts the same values as resolveParams, with the same result', () => {
        for (const [name, s] of paramsOf(id))
          for (const v of goodValues(s)) {
            const got = outcome(() => validateMethodParams(id, { [name]: v }));
            expect(got.error, `${name}=${JSON.stringify(v)}`).toBeUndefined();
            expect(got).toEqual(outcome(() => method.resolveParams({ [name]: v })));
          }
      });

      it('refuses the same values as resolveParams, with the same message', () => {
        const cases: Record<string, unknown>[] = [{ nope: 1 }, { [paramsOf(id)[0][0].toUpperCase()]: 1 }];
        for (const [name, s] of paramsOf(id)) for (const v of badValues(s)) cases.push({ [name]: v });
        for (const p of cases) {
          const mine = outcome(() => validateMethodParams(id, p));
          expect(mine.error, JSON.stringify(p)).toMatch(new RegExp(`^${id}: `));
          expect(mine, JSON.stringify(p)).toEqual(outcome(() => method.resolveParams(p as never)));
        }
      });
    });
  }

  it('names the parameter, its range and the value it got', () => {
    expect(() => validateMethodParams('integrated-gradients', { steps: 0 })).toThrow(
      'integrated-gradients: steps must be an integer in [1, 4096], got 0',
    );
    expect(() => validateMethodParams('rollout', { discardRatio: 1 })).toThrow(
      'rollout: discardRatio must be a number in [0, 0.99], got 1',
    );
    expect(() => validateMethodParams('occlusion', { fill: 'white' })).toThrow(
      'occlusion: fill must be one of mean, black, blurred, got "white"',
    );
    expect(() => validateMethodParams('gradient', { step: 3 })).toThrow(
      'gradient: unknown parameter "step" (known: batch)',
    );
    expect(() => validateMethodParams('nope' as MethodId, {})).toThrow(/unknown attribution method "nope"/);
    // occlusion's window and stride have no default: left out unless given
    expect(validateMethodParams('occlusion', { window: 16 })).toEqual({
      window: 16,
      fill: 'mean',
      blurSigma: 10,
      batch: DEFAULT_BATCH,
    });
  });
});
