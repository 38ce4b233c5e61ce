/**
 * Builds an OpenAPI 3.1 document from the routes' own JSON schemas (collected with an `onRoute` hook, so the
 * document cannot drift from what is validated) and serves it at `GET /api/openapi.json`.
 *
 * @example
 * const doc = collectOpenApi(app); // call before registering routes
 * // later: GET /api/openapi.json
 */
import type { FastifyInstance, RouteOptions } from 'fastify';

type S = Record<string, unknown>;

/** Registers the hook that records routes; returns the (live) document. */
export function collectOpenApi(app: FastifyInstance, info: { title: string; version: string }): S {
  const paths: Record<string, Record<string, S>> = {};
  const doc: S = { openapi: '3.1.0', info, paths };
  app.addHook('onRoute', (route: RouteOptions) => {
    if (!route.url.startsWith('/api/') || route.config?.hideFromOpenApi) return;
    const schema = (route.schema ?? {}) as S;
    const url = route.url.replace(/:([A-Za-z_]+)/g, '{$1}');
    const methods = (Array.isArray(route.method) ? route.method : [route.method]).filter((m) => m !== 'HEAD');
    for (const m of methods) {
      const op: S = { summary: schema.summary ?? '', tags: schema.tags ?? [] };
      const parameters: S[] = [];
      for (const [where, key] of [
        ['path', 'params'],
        ['query', 'querystring'],
      ] as const) {
        const s = schema[key] as { properties?: Record<string, S>; required?: string[] } | undefined;
        for (const [name, p] of Object.entries(s?.properties ?? {}))
          parameters.push({
            name,
            in: where,
            required: where === 'path' || !!s?.required?.includes(name),
            schema: p,
          });
      }
      if (parameters.length) op.parameters = parameters;
      if (schema.body)
        op.requestBody = { required: true, content: { 'application/json': { schema: schema.body } } };
      if (schema.consumes)
        op.requestBody = {
          required: true,
          content: Object.fromEntries(
            (schema.consumes as string[]).map((c) => [c, { schema: { type: 'object' } }]),
          ),
        };
      const responses: Record<string, S> = {};
      for (const [code, s] of Object.entries((schema.response ?? {}) as Record<string, S>)) {
        const media = (schema.produces as string[] | undefined)?.[0] ?? 'application/json';
        responses[code] = {
          description: code.startsWith('2') ? 'OK' : 'error',
          content: { [code.startsWith('2') ? media : 'application/json']: { schema: s } },
        };
      }
      if (schema.produces && !responses['200'])
        responses['200'] = {
          description: 'OK',
          content: Object.fromEntries((schema.produces as string[]).map((c) => [c, {}])),
        };
      op.responses = responses;
      paths[url] ??= {};
      paths[url][m.toLowerCase()] = op;
    }
  });
  return doc;
}
