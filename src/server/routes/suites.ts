/**
 * Zero-shot probe suites: the default suites shipped with artprobe (read-only) and the workspace's own
 * (`suites/<name>.json`), validated with the suite parser. Names are validated by pattern; a workspace suite
 * cannot shadow a default one.
 *
 * @example
 * PUT /api/suites/my-styles { "name": "my-styles", "dimensions": { ... } }
 */
import { existsSync } from 'node:fs';
import { readdir, rm } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { Type } from 'typebox';
import {
  DEFAULT_SUITES_DIR,
  listDefaultSuites,
  loadSuiteFile,
  parseSuite,
  type Suite,
} from '../../probe/suites.ts';
import type { AppContext, ArtprobeApp } from '../app.ts';
import { HttpError } from '../jobs.ts';
import {
  NAME_PARAMS,
  OK,
  SLUG_RE,
  SUITE,
  SUITE_INPUT,
  SUITE_SUMMARY,
  type Suite as SuiteBody,
  withErrors,
} from '../schemas.ts';
import { writeFileAtomic } from '../workspace.ts';

export type SuiteOrigin = 'default' | 'workspace';

/**
 * Names of the workspace's own suites (`suites/<name>.json`, name matching the suite name pattern).
 *
 * @example
 * await listWorkspaceSuites(ctx.ws.dir('suites')); // ['mine']
 */
export async function listWorkspaceSuites(dir: string): Promise<string[]> {
  return (await readdir(dir))
    .filter((f) => f.endsWith('.json') && !f.startsWith('.'))
    .map((f) => basename(f, '.json'))
    .filter((n) => SLUG_RE.test(n))
    .sort();
}

/**
 * Loads a suite by name: a default suite, else the workspace's `suites/<name>.json`; 404 when neither.
 * The name must already be validated (routes use the SLUG schema); it is checked again here.
 *
 * @example
 * const { suite, origin } = await loadNamedSuite(ctx.ws.dir('suites'), 'style');
 */
export async function loadNamedSuite(
  dir: string,
  name: string,
): Promise<{ suite: Suite; origin: SuiteOrigin }> {
  if (!SLUG_RE.test(name)) throw new HttpError(400, `invalid suite name ${JSON.stringify(name)}`);
  if (listDefaultSuites().includes(name))
    return { suite: await loadSuiteFile(join(DEFAULT_SUITES_DIR, `${name}.json`)), origin: 'default' };
  const file = join(dir, `${name}.json`);
  if (!existsSync(file)) throw new HttpError(404, `suite ${name} not found`);
  return { suite: await loadSuiteFile(file), origin: 'workspace' };
}

function present(s: Suite, origin: SuiteOrigin): SuiteBody {
  return {
    name: s.name,
    description: s.description,
    origin,
    dimensions: s.dimensions.map((d) => ({
      name: d.name,
      description: d.description,
      templates: d.templates,
      labels: d.labels,
    })),
  };
}

export function registerSuiteRoutes(app: ArtprobeApp, ctx: AppContext): void {
  const dir = ctx.ws.dir('suites');
  const tags = ['suites'];
  const workspaceNames = () => listWorkspaceSuites(dir);
  const load = (name: string) => loadNamedSuite(dir, name);
  app.get(
    '/api/suites',
    {
      schema: {
        summary: 'default and workspace probe suites',
        tags,
        response: { 200: Type.Array(SUITE_SUMMARY) },
      },
    },
    async () => {
      const out = [];
      for (const name of [...listDefaultSuites(), ...(await workspaceNames())]) {
        try {
          const { suite, origin } = await load(name);
          out.push({
            name: suite.name,
            description: suite.description,
            origin,
            dimensions: suite.dimensions.map((d) => d.name),
          });
        } catch {
          /* an invalid workspace file is skipped in the list; GET names the problem */
        }
      }
      return out;
    },
  );
  app.get(
    '/api/suites/:name',
    {
      schema: {
        summary: 'one suite',
        tags,
        params: NAME_PARAMS,
        response: withErrors({ 200: SUITE }, 404),
      },
    },
    async (req) => {
      const { suite, origin } = await load(req.params.name);
      return present(suite, origin);
    },
  );
  app.put(
    '/api/suites/:name',
    {
      schema: {
        summary: 'create or replace a workspace suite (validated)',
        tags,
        params: NAME_PARAMS,
        body: SUITE_INPUT,
        response: withErrors({ 200: SUITE }, 409),
      },
    },
    async (req) => {
      const { name } = req.params;
      if (listDefaultSuites().includes(name))
        throw new HttpError(
          409,
          `suite ${name} is a default suite and cannot be replaced; choose another name`,
        );
      let suite: Suite;
      try {
        suite = parseSuite(req.body, `suite ${name}`);
      } catch (e) {
        throw new HttpError(400, (e as Error).message);
      }
      if (suite.name !== name)
        throw new HttpError(400, `suite body name "${suite.name}" differs from the URL name "${name}"`);
      await writeFileAtomic(join(dir, `${name}.json`), `${JSON.stringify(req.body, null, 2)}\n`);
      return present(suite, 'workspace');
    },
  );
  app.delete(
    '/api/suites/:name',
    {
      schema: {
        summary: 'delete a workspace suite',
        tags,
        params: NAME_PARAMS,
        response: withErrors({ 200: OK }, 404, 409),
      },
    },
    async (req) => {
      const { name } = req.params;
      if (listDefaultSuites().includes(name))
        throw new HttpError(409, `suite ${name} is a default suite and cannot be deleted`);
      const file = join(dir, `${name}.json`);
      if (!existsSync(file)) throw new HttpError(404, `suite ${name} not found`);
      await rm(file);
      return { ok: true };
    },
  );
}
