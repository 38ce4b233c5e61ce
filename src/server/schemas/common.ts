/**
 * Building blocks of the API schemas (TypeBox, so each schema is both the JSON Schema that fastify validates
 * and serialises with and the TypeScript type of the data): ids validated by pattern (no user string ever
 * reaches a path), the error body, nullable and defaulted fields, binary responses. Browser-safe: no node
 * imports (the web UI imports the types).
 *
 * @example
 * app.get('/api/jobs/:id', { schema: { params: UUID_PARAMS, response: withErrors({ 200: JOB }, 404) } }, handler);
 */
import {
  type Static,
  type TObject,
  type TObjectOptions,
  type TProperties,
  type TSchema,
  type TSchemaOptions,
  type TUnsafe,
  Type,
} from 'typebox';
import { withDefault } from '../../attribution/method-params.ts';

/** sha256 of a painting's bytes. */
export const PAINTING_ID = Type.String({
  pattern: '^[0-9a-f]{64}$',
  description: 'sha256 of the image bytes',
});
export const UUID = Type.String({
  pattern: '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$',
});
/** Names of suites and other workspace files: letters, digits, "-", "_" (no dots, no slashes). */
export const SLUG_RE = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;
export const SLUG = Type.String({ pattern: SLUG_RE.source });
/** A non-empty text of at most 2000 characters (prompts, labels). */
export const NON_EMPTY = Type.String({ minLength: 1, maxLength: 2000 });

/** `:id` path parameter: a painting id. */
export const PAINTING_PARAMS = Type.Object({ id: PAINTING_ID }, { additionalProperties: false });
/** `:id` path parameter: a uuid (jobs, annotations, catalogs, embedding tables). */
export const UUID_PARAMS = Type.Object({ id: UUID }, { additionalProperties: false });
/** `:name` path parameter: a suite name. */
export const NAME_PARAMS = Type.Object({ name: SLUG }, { additionalProperties: false });

/**
 * `T | null`, written as a type list (`{ type: ['string', 'null'] }`) as the API always did.
 *
 * @example
 * Nullable(Type.String()); // { type: ['string', 'null'] }, string | null
 */
export function Nullable<T extends TSchema>(schema: T): TUnsafe<Static<T> | null> {
  return Type.Unsafe<Static<T> | null>({ ...schema, type: [Reflect.get(schema, 'type'), 'null'] });
}

/**
 * An object that may carry more properties than the ones listed (`additionalProperties: true`), typed so.
 *
 * @example
 * OpenObject({ id: Type.String() }); // { id: string } & Record<string, unknown>
 * OpenObject({}); // Record<string, unknown>
 */
export function OpenObject<P extends TProperties>(
  properties: P,
  options: TObjectOptions = {},
): TUnsafe<keyof P extends never ? Record<string, unknown> : Static<TObject<P>> & Record<string, unknown>> {
  return Type.Unsafe({ ...Type.Object(properties, options), additionalProperties: true });
}

/**
 * An object whose every property has the same schema (`additionalProperties: <value>`), typed as a record.
 *
 * @example
 * RecordOf(Type.Integer()); // { type: 'object', additionalProperties: { type: 'integer' } }
 */
export function RecordOf<T extends TSchema>(
  value: T,
  options: TSchemaOptions = {},
): TUnsafe<Record<string, Static<T>>> {
  return Type.Unsafe({ ...options, type: 'object', additionalProperties: value });
}

/**
 * One of several object shapes told apart by a tag property (`oneOf` with an OpenAPI `discriminator`, which
 * the validator uses to report only the errors of the shape the tag names).
 *
 * @example
 * Discriminated('kind', [Type.Object({ kind: Type.Literal('a') }), Type.Object({ kind: Type.Literal('b') })]);
 */
export function Discriminated<const T extends TObject[]>(
  propertyName: string,
  variants: [...T],
  options: TSchemaOptions = {},
): TUnsafe<Static<T[number]>> {
  return Type.Unsafe({ ...options, type: 'object', oneOf: variants, discriminator: { propertyName } });
}

/** An optional property with a default, which {@link Validated} counts as always set. */
export { withDefault };

/** Keys of an object schema whose properties carry a default. */
type DefaultedKeys<P> = { [K in keyof P]: P[K] extends { default: unknown } ? K : never }[keyof P];

/**
 * The type of data once validated: like `Static`, with top-level properties that have a default
 * (see {@link withDefault}) made required.
 *
 * @example
 * type Query = Validated<typeof JOB_LIST_QUERY>; // limit and offset are numbers, state stays optional
 */
export type Validated<T> =
  T extends TObject<infer P>
    ? Static<T> & { [K in DefaultedKeys<P>]-?: Exclude<Static<T>[K & keyof Static<T>], undefined> }
    : T extends TSchema
      ? Static<T>
      : unknown;

/** The error body every route answers with. */
export const ERROR = Type.Object(
  {
    statusCode: Type.Optional(Type.Integer()),
    error: Type.String(),
    message: Type.String(),
    code: Type.Optional(Type.String()),
  },
  { description: 'an error: HTTP status, its name and a message naming the problem' },
);
export type ApiErrorBody = Static<typeof ERROR>;

/**
 * A route's response map with the standard error responses (400, plus the codes given) added.
 *
 * @example
 * withErrors({ 200: PAINTING }, 404); // { 200: PAINTING, 400: ERROR, 404: ERROR }
 */
export function withErrors<T extends Record<number, unknown>, C extends number = never>(
  ok: T,
  ...codes: C[]
): T & Record<400 | C, typeof ERROR> {
  const errors = Object.fromEntries([400, ...codes].map((c) => [c, ERROR])) as Record<400 | C, typeof ERROR>;
  return { ...ok, ...errors };
}

export const OK = Type.Object({ ok: Type.Boolean() }, { description: 'done' });

/** Bytes in a response body (an image, a .npy array, a zip, an event stream). */
const BINARY = Type.Unsafe<unknown>({ type: 'string', format: 'binary' });

/**
 * A non-JSON response: its media types (documented in the OpenAPI document; never serialised by fastify).
 *
 * @example
 * response: withErrors({ 200: binary('the image file', 'image/png', 'image/jpeg') }, 404)
 */
export function binary(description: string, ...mediaTypes: string[]) {
  return {
    description,
    content: Object.fromEntries(mediaTypes.map((m) => [m, { schema: BINARY }])) as Record<
      string,
      { schema: typeof BINARY }
    >,
  };
}
