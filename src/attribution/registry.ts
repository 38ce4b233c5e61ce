/**
 * All attribution methods by id, and `attribute(input, options)`: the one entry point for a single target.
 *
 * @example
 * const map = await attribute(input, { method: 'chefer-all', target });
 */
import { cheferAll, cheferLast } from './chefer.ts';
import { gradEclip } from './grad-eclip.ts';
import { gradient } from './gradient.ts';
import { gradientXInput } from './gradient-x-input.ts';
import { integratedGradients } from './integrated-gradients.ts';
import { legrad } from './legrad.ts';
import { occlusion } from './occlusion.ts';
import { rollout } from './rollout.ts';
import { smoothgrad } from './smoothgrad.ts';
import type { PreparedTarget } from './target.ts';
import {
  type AttributionInput,
  type AttributionMap,
  type AttributionMethod,
  METHOD_IDS,
  type MethodId,
} from './types.ts';

export const METHODS: Record<MethodId, AttributionMethod<object>> = {
  gradient,
  'gradient-x-input': gradientXInput,
  smoothgrad,
  'integrated-gradients': integratedGradients,
  rollout,
  'chefer-last': cheferLast,
  'chefer-all': cheferAll,
  occlusion,
  legrad,
  'grad-eclip': gradEclip,
} as Record<MethodId, AttributionMethod<object>>;

/** The method for an id, or an error listing the known ids. */
export function getMethod(id: string): AttributionMethod<object> {
  const m = METHODS[id as MethodId];
  if (!m) throw new Error(`unknown attribution method "${id}" (known: ${METHOD_IDS.join(', ')})`);
  return m;
}

/** Attribution of one target with one method; extra options are the method's parameters. */
export async function attribute(
  input: AttributionInput,
  options: { method: MethodId | string; target: PreparedTarget } & Record<string, unknown>,
): Promise<AttributionMap> {
  const { method, target, ...params } = options;
  const m = getMethod(method);
  const [map] = await m.attributeMany(input, [target], m.resolveParams(params));
  return map;
}
