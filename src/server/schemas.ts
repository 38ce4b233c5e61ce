/**
 * The API's request and response shapes, defined once with TypeBox: each schema is the JSON Schema that
 * fastify validates (params, query, body) and serialises (responses) with, the source of the OpenAPI document
 * (`/api/openapi.json`, by @fastify/swagger), and — through `Static` — the TypeScript type of the data, used
 * by the routes and by the web UI's client (`src/ui/api.ts`). Browser-safe: no node imports.
 *
 * @example
 * app.get('/api/jobs/:id', { schema: { params: UUID_PARAMS, response: withErrors({ 200: JOB }, 404) } }, handler);
 * type J = Job; // Static<typeof JOB>
 */
export * from './schemas/common.ts';
export * from './schemas/embeddings.ts';
export * from './schemas/jobs.ts';
export * from './schemas/models.ts';
export * from './schemas/paintings.ts';
export * from './schemas/probes.ts';
