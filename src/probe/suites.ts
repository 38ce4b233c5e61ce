/**
 * Zero-shot probe suites as data: JSON files that name dimensions (content, style, period, …), each with
 * prompt templates and labels. Suites are validated on load; every error names the file and the JSON path
 * (`suites/style.json: $.dimensions.style.labels[3].id: …`). The schema is documented in docs/probe-suites.md.
 *
 * @example
 * const suites = await resolveSuites(['style', './my-suite.json']); // default name or file
 * const dims = selectDimensions(suites, ['style', 'century']);
 * dims[0].labels[0].prompts; // ['a Renaissance painting.', …]
 * createLabelMatcher(dims[1])(1650); // '17th century'
 */
import { existsSync, readdirSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { basename, dirname, extname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** One label of a dimension, with its prompts resolved. */
export interface SuiteLabel {
  /** Identifier reported in results and matched against ground truth. */
  id: string;
  /** Text substituted for `{}` in the templates (default: the id). */
  text: string;
  /** The prompts whose normalised embeddings are averaged into this label's embedding. */
  prompts: string[];
  /** Other ground-truth spellings of this label (matched case-insensitively). */
  aliases: string[];
  /** Inclusive year range: a numeric ground-truth value (a year) inside it matches this label. */
  range?: [number, number];
  description?: string;
}

/** One dimension: a closed label set scored with a softmax. */
export interface SuiteDimension {
  name: string;
  /** Name of the suite that defines it. */
  suite: string;
  description: string;
  templates: string[];
  labels: SuiteLabel[];
  /** File the dimension came from. */
  source: string;
}

export interface Suite {
  name: string;
  description: string;
  /** File (or `<inline>`) the suite came from. */
  source: string;
  dimensions: SuiteDimension[];
}

/** Folder with the suites shipped with artprobe (`<repo>/suites`). */
export const DEFAULT_SUITES_DIR: string = resolve(
  dirname(fileURLToPath(import.meta.url)),
  '..',
  '..',
  'suites',
);

const NAME_RE = /^[A-Za-z0-9][A-Za-z0-9_-]*$/;
const SUITE_KEYS = ['$schema', 'name', 'description', 'dimensions'];
const DIMENSION_KEYS = ['description', 'templates', 'labels'];
const LABEL_KEYS = ['id', 'text', 'prompts', 'aliases', 'range', 'description'];

/** Normalised form used to compare labels with ground truth: trimmed, lower case, inner spaces collapsed. */
export function normalizeLabel(s: string): string {
  return s.trim().toLowerCase().replace(/\s+/g, ' ');
}

function typeName(v: unknown): string {
  return v === null
    ? 'null'
    : Array.isArray(v)
      ? 'an array'
      : typeof v === 'object'
        ? 'an object'
        : `a ${typeof v}`;
}

/** Validator state: the file and a JSON path; `fail` throws `file: $.path: message`. */
class At {
  constructor(
    readonly source: string,
    readonly path = '$',
  ) {}
  key(k: string): At {
    return new At(this.source, NAME_RE.test(k) ? `${this.path}.${k}` : `${this.path}[${JSON.stringify(k)}]`);
  }
  index(i: number): At {
    return new At(this.source, `${this.path}[${i}]`);
  }
  fail(msg: string): never {
    throw new Error(`${this.source}: ${this.path}: ${msg}`);
  }
  /** Checks an object; `allowed` = undefined accepts any keys. */
  object(v: unknown, allowed?: string[]): Record<string, unknown> {
    if (v === null || typeof v !== 'object' || Array.isArray(v))
      this.fail(`must be an object, got ${typeName(v)}`);
    for (const k of allowed ? Object.keys(v) : []) {
      if (!allowed?.includes(k))
        this.key(k).fail(
          `unknown field (allowed: ${(allowed ?? []).filter((a) => a !== '$schema').join(', ')})`,
        );
    }
    return v as Record<string, unknown>;
  }
  string(v: unknown): string {
    if (typeof v !== 'string' || v.trim() === '')
      this.fail(`must be a non-empty string, got ${typeName(v)}${typeof v === 'string' ? ' (empty)' : ''}`);
    return v.trim();
  }
  strings(v: unknown, minLength: number): string[] {
    if (!Array.isArray(v)) this.fail(`must be an array of strings, got ${typeName(v)}`);
    if (v.length < minLength)
      this.fail(`must hold at least ${minLength} string${minLength > 1 ? 's' : ''}, got ${v.length}`);
    return v.map((s, i) => this.index(i).string(s));
  }
}

function parseLabel(raw: unknown, at: At, templates: string[] | undefined): SuiteLabel {
  if (typeof raw === 'string') raw = { id: raw };
  const o = at.object(raw, LABEL_KEYS);
  const id = at.key('id').string(o.id);
  const text = o.text === undefined ? id : at.key('text').string(o.text);
  const prompts = o.prompts === undefined ? undefined : at.key('prompts').strings(o.prompts, 1);
  if (!prompts && !templates) at.fail(`label "${id}" has no "prompts" and its dimension has no "templates"`);
  const aliases = o.aliases === undefined ? [] : at.key('aliases').strings(o.aliases, 0);
  let range: [number, number] | undefined;
  if (o.range !== undefined) {
    const r = o.range;
    const rangeAt: At = at.key('range');
    if (!Array.isArray(r) || r.length !== 2 || !r.every((x) => Number.isInteger(x)) || r[0] > r[1]) {
      rangeAt.fail(`must be [first, last] integers with first ≤ last, got ${JSON.stringify(r)}`);
    }
    range = [r[0], r[1]];
  }
  const description = o.description === undefined ? undefined : at.key('description').string(o.description);
  return {
    id,
    text,
    prompts: prompts ?? (templates as string[]).map((t) => t.replaceAll('{}', text)),
    aliases,
    ...(range ? { range } : {}),
    ...(description ? { description } : {}),
  };
}

function parseDimension(name: string, value: unknown, at: At, suite: string): SuiteDimension {
  if (!NAME_RE.test(name))
    at.fail('dimension names use letters, digits, "-" and "_" and start with a letter or digit');
  const o = at.object(value, DIMENSION_KEYS);
  const description = o.description === undefined ? '' : at.key('description').string(o.description);
  let templates: string[] | undefined;
  if (o.templates !== undefined) {
    templates = at.key('templates').strings(o.templates, 1);
    templates.forEach((t, i) => {
      if (!t.includes('{}'))
        at.key('templates').index(i).fail(`template "${t}" has no "{}" placeholder for the label`);
    });
  }
  const labelsAt: At = at.key('labels');
  const raw = o.labels;
  if (raw === undefined) at.fail('missing "labels"');
  if (!Array.isArray(raw)) labelsAt.fail(`must be an array of labels, got ${typeName(raw)}`);
  if (raw.length === 0) labelsAt.fail('is empty: a dimension needs at least two labels');
  if (raw.length === 1) labelsAt.fail('holds one label: a softmax needs at least two labels');
  const labels = raw.map((l, i) => parseLabel(l, labelsAt.index(i), templates));
  // every spelling (id, text, alias) must name one label only, so ground truth matches unambiguously
  const owner = new Map<string, string>();
  labels.forEach((l, i) => {
    for (const s of new Set([l.id, l.text, ...l.aliases].map(normalizeLabel))) {
      const prev = owner.get(s);
      if (prev !== undefined && prev !== l.id) {
        at.key('labels')
          .index(i)
          .fail(`"${s}" (id, text or alias of "${l.id}") already names label "${prev}"`);
      }
      owner.set(s, l.id);
    }
  });
  const ranged = labels
    .filter((l) => l.range)
    .sort((a, b) => (a.range as number[])[0] - (b.range as number[])[0]);
  for (let i = 1; i < ranged.length; i++) {
    const [p, c] = [ranged[i - 1], ranged[i]];
    if ((c.range as number[])[0] <= (p.range as number[])[1]) {
      at.key('labels').fail(
        `year ranges of "${p.id}" ${JSON.stringify(p.range)} and "${c.id}" ${JSON.stringify(c.range)} overlap`,
      );
    }
  }
  return { name, suite, description, templates: templates ?? [], labels, source: at.source };
}

/**
 * Validates a parsed suite object; errors name `source` and the JSON path.
 *
 * @example
 * parseSuite({ name: 'x', description: '', dimensions: { d: { templates: ['a {}.'], labels: ['cat', 'dog'] } } }, 'inline');
 */
export function parseSuite(raw: unknown, source = '<inline>'): Suite {
  const at = new At(source);
  const o = at.object(raw, SUITE_KEYS);
  const name = at.key('name').string(o.name);
  if (!NAME_RE.test(name))
    at.key('name').fail(`"${name}": use letters, digits, "-" and "_" (start with a letter or digit)`);
  const description = o.description === undefined ? '' : at.key('description').string(o.description);
  if (o.dimensions === undefined) at.fail('missing "dimensions"');
  const dimsAt = at.key('dimensions');
  const dims = dimsAt.object(o.dimensions);
  if (Object.keys(dims).length === 0) dimsAt.fail('is empty: a suite needs at least one dimension');
  return {
    name,
    description,
    source,
    dimensions: Object.entries(dims).map(([k, v]) => parseDimension(k, v, dimsAt.key(k), name)),
  };
}

/**
 * Reads and validates a suite file.
 *
 * @example
 * const suite = await loadSuiteFile('suites/style.json');
 */
export async function loadSuiteFile(path: string): Promise<Suite> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    throw new Error(`${path}: cannot read suite file (${(e as Error).message})`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new Error(`${path}: not valid JSON (${(e as Error).message})`);
  }
  return parseSuite(raw, path);
}

/**
 * Names of the default suites (file stems in {@link DEFAULT_SUITES_DIR}).
 *
 * @example
 * listDefaultSuites(); // ['artifacts', 'content', 'period', 'scene', 'style']
 */
export function listDefaultSuites(dir = DEFAULT_SUITES_DIR): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .map((f) => basename(f, '.json'))
    .sort();
}

/**
 * Loads suites from file paths or default suite names; with no specs, every default suite.
 * Dimension names must be unique across the loaded suites.
 *
 * @example
 * await resolveSuites();                       // all defaults
 * await resolveSuites(['style', 'mine.json']); // one default + a file
 */
export async function resolveSuites(specs: string[] = [], dir = DEFAULT_SUITES_DIR): Promise<Suite[]> {
  const defaults = listDefaultSuites(dir);
  const list = specs.length ? specs : defaults;
  if (list.length === 0) throw new Error(`no suites given and no default suites found in ${dir}`);
  const suites: Suite[] = [];
  for (const spec of list) {
    if (defaults.includes(spec) && !existsSync(spec))
      suites.push(await loadSuiteFile(join(dir, `${spec}.json`)));
    else if (existsSync(spec) || extname(spec) === '.json') suites.push(await loadSuiteFile(spec));
    else
      throw new Error(
        `unknown suite "${spec}": not a file and not a default suite (defaults: ${defaults.join(', ') || 'none'})`,
      );
  }
  const seen = new Map<string, string>();
  for (const s of suites) {
    for (const d of s.dimensions) {
      const prev = seen.get(d.name);
      if (prev)
        throw new Error(
          `dimension "${d.name}" is defined twice: in ${prev} and in ${d.source}; rename one of them`,
        );
      seen.set(d.name, d.source);
    }
  }
  return suites;
}

/**
 * Picks dimensions by name; a suite name selects all its dimensions. No names: every dimension.
 * Unknown names are an error listing the known dimensions and suites.
 *
 * @example
 * selectDimensions(suites, ['style', 'century']);
 */
export function selectDimensions(suites: Suite[], names?: string[]): SuiteDimension[] {
  const all = suites.flatMap((s) => s.dimensions);
  if (!names || names.length === 0) return all;
  const out: SuiteDimension[] = [];
  for (const raw of names) {
    const name = raw.trim();
    const dim = all.find((d) => d.name === name);
    const suite = suites.find((s) => s.name === name);
    const picked = dim ? [dim] : suite ? suite.dimensions : undefined;
    if (!picked) {
      throw new Error(
        `unknown dimension "${name}" (known dimensions: ${all.map((d) => d.name).join(', ')}; suites: ${suites.map((s) => s.name).join(', ')})`,
      );
    }
    for (const d of picked) if (!out.includes(d)) out.push(d);
  }
  return out;
}

/**
 * A year read from a ground-truth cell: a number, a year string (`1650`, `c. 1650`), or an interval
 * (`1876 to 1900`, `1501-1550`, `1501–1550`), which stands for its midpoint (rounded down).
 */
function yearOf(v: string | number): number | undefined {
  if (typeof v === 'number') return Number.isInteger(v) ? v : undefined;
  const m = /^\s*(?:c\.?|ca\.?|circa)?\s*(-?\d{1,4})\s*(?:(?:to|-|–|—)\s*(-?\d{1,4}))?\s*$/i.exec(v);
  if (!m) return undefined;
  const a = Number(m[1]);
  const b = m[2] === undefined ? a : Number(m[2]);
  return b < a ? undefined : Math.floor((a + b) / 2);
}

/**
 * Returns a function mapping a ground-truth value to a label id (or undefined when nothing matches):
 * 1. the id, text or an alias (case-insensitive, spaces collapsed);
 * 2. a year (or the midpoint of a year interval such as `1876 to 1900`) inside a label's `range`;
 * 3. otherwise the parts of the value split at `(`, `)`, `,`, `;` and `/`, each matched by 1–2, when they
 *    all point to one label (`Dutch Golden Age (Baroque)` → Baroque; `Academic art (Romanticism)` → none).
 *
 * @example
 * const match = createLabelMatcher(dimension);
 * match('baroque'); // 'Baroque'
 */
export function createLabelMatcher(
  dim: SuiteDimension,
): (value: string | number | null | undefined) => string | undefined {
  const byName = new Map<string, string>();
  for (const l of dim.labels)
    for (const s of [l.id, l.text, ...l.aliases]) byName.set(normalizeLabel(s), l.id);
  const ranged = dim.labels.filter((l) => l.range);
  const matchWhole = (value: string | number): string | undefined => {
    const hit = byName.get(normalizeLabel(String(value)));
    if (hit !== undefined) return hit;
    const year = ranged.length ? yearOf(value) : undefined;
    if (year === undefined) return undefined;
    return ranged.find((l) => year >= (l.range as number[])[0] && year <= (l.range as number[])[1])?.id;
  };
  return (value) => {
    if (value === null || value === undefined) return undefined;
    const whole = matchWhole(value);
    if (whole !== undefined || typeof value === 'number') return whole;
    const parts = value.split(/[(),;/]/).filter((p) => p.trim());
    if (parts.length < 2) return undefined;
    const ids = new Set(parts.map(matchWhole).filter((id) => id !== undefined));
    return ids.size === 1 ? [...ids][0] : undefined;
  };
}
