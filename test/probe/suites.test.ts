import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadCatalog, parseTruthSpecs } from '../../src/probe/catalog.ts';
import { loadTable } from '../../src/probe/embeddings.ts';
import {
  createLabelMatcher,
  DEFAULT_SUITES_DIR,
  listDefaultSuites,
  loadSuiteFile,
  parseSuite,
  resolveSuites,
  selectDimensions,
} from '../../src/probe/suites.ts';
import { describeShared, sharedPath } from '../helpers/shared-data.ts';

const tmp = mkdtempSync(join(tmpdir(), 'artprobe-suites-'));
const write = (name: string, content: unknown): string => {
  const p = join(tmp, name);
  mkdirSync(dirname(p), { recursive: true });
  writeFileSync(p, typeof content === 'string' ? content : JSON.stringify(content));
  return p;
};
const valid = () => ({
  name: 'mini',
  description: 'a test suite',
  dimensions: {
    animal: {
      description: 'which animal',
      templates: ['a painting of a {}.', 'a photo of a {}.'],
      labels: ['cat', { id: 'dog', aliases: ['hound'] }],
    },
  },
});

describe('default suites', () => {
  it('ship the five documented suites, each valid', async () => {
    expect(listDefaultSuites()).toEqual(['artifacts', 'content', 'period', 'scene', 'style']);
    const suites = await resolveSuites();
    const dims = selectDimensions(suites);
    expect(dims.map((d) => d.name).sort()).toEqual(
      [
        'century',
        'content',
        'defect',
        'half-century',
        'origin',
        'scene-type',
        'setting',
        'style',
        'time-of-day',
      ].sort(),
    );
    for (const d of dims) {
      expect(d.labels.length, d.name).toBeGreaterThanOrEqual(2);
      expect(d.source.startsWith(DEFAULT_SUITES_DIR)).toBe(true);
      for (const l of d.labels) {
        expect(l.prompts.length, `${d.name}/${l.id}`).toBeGreaterThan(0);
        for (const p of l.prompts) expect(p.includes('{}'), p).toBe(false);
      }
    }
  });

  it('cover the listed movements, subjects, centuries and the human/AI split', async () => {
    const suites = await resolveSuites();
    const ids = (name: string) => selectDimensions(suites, [name])[0].labels.map((l) => l.id);
    for (const s of [
      'Renaissance',
      'Baroque',
      'Rococo',
      'Neoclassicism',
      'Romanticism',
      'Realism',
      'Impressionism',
      'Post-Impressionism',
      'Symbolism',
      'Art Nouveau',
      'Expressionism',
      'Fauvism',
      'Cubism',
      'Futurism',
      'Dada',
      'Surrealism',
      'Abstract Expressionism',
      'Pop Art',
      'Ukiyo-e',
      'Naive art',
    ]) {
      expect(ids('style')).toContain(s);
    }
    for (const c of [
      'portrait',
      'landscape',
      'still life',
      'religious scene',
      'battle scene',
      'animals',
      'seascape',
      'cityscape',
      'mythological scene',
      'genre scene',
    ]) {
      expect(ids('content')).toContain(c);
    }
    expect(ids('century')).toEqual(
      ['13th', '14th', '15th', '16th', '17th', '18th', '19th', '20th', '21st'].map((c) => `${c} century`),
    );
    expect(ids('half-century')).toHaveLength(17); // 1200-1249 … 2000-2049
    expect(ids('half-century').at(-1)).toBe('2000-2049');
    expect(ids('origin')).toEqual(['human', 'ai-generated']);
    for (const d of [
      'distorted hands',
      'distorted face',
      'extra limbs',
      'garbled text',
      'melted textures',
      'asymmetric eyes',
    ]) {
      expect(ids('defect')).toContain(d);
    }
    // prompt ensembles: the style labels expand all three templates
    const baroque = selectDimensions(suites, ['style'])[0].labels.find((l) => l.id === 'Baroque');
    expect(baroque?.prompts).toEqual([
      'a Baroque painting.',
      'a painting in the style of Baroque.',
      'an artwork of the Baroque movement.',
    ]);
  });

  it('match ground truth by alias, case and year (ranges and intervals)', async () => {
    const suites = await resolveSuites(['period', 'style']);
    const century = createLabelMatcher(selectDimensions(suites, ['century'])[0]);
    const half = createLabelMatcher(selectDimensions(suites, ['half-century'])[0]);
    const style = createLabelMatcher(selectDimensions(suites, ['style'])[0]);
    expect(century(1650)).toBe('17th century');
    expect(century('1650')).toBe('17th century');
    expect(century('c. 1299')).toBe('13th century');
    expect(century('XVI century')).toBe('16th century');
    expect(century('1876 to 1900')).toBe('19th century'); // midpoint 1888
    expect(century('1199')).toBeUndefined();
    expect(century('before 1300')).toBeUndefined();
    expect(half(1649)).toBe('1600-1649');
    expect(half('1501 to 1550')).toBe('1500-1549');
    expect(style('  post   impressionism ')).toBe('Post-Impressionism');
    expect(style('dadaism')).toBe('Dada');
    expect(style('Naive')).toBe('Naive art');
    expect(style('Cubist')).toBe('Cubism');
    expect(style('Biedermeier')).toBeUndefined();
    // parts of a compound value, when they agree on one label
    expect(style('Dutch Golden Age (Baroque)')).toBe('Baroque');
    expect(style('Neo-Impressionism (Pointillism)')).toBe('Post-Impressionism');
    expect(style('Academic art (Romanticism)')).toBeUndefined(); // two labels: ambiguous
    expect(century('21st century (AI-generated, 2022)')).toBe('21st century');
    expect(half('Azuchi–Momoyama period, late 16th century')).toBe('1550-1599');
    expect(style(null)).toBeUndefined();
  });

  it('selecting by suite name expands to its dimensions; unknown names list the known ones', async () => {
    const suites = await resolveSuites();
    expect(selectDimensions(suites, ['period']).map((d) => d.name)).toEqual(['century', 'half-century']);
    expect(selectDimensions(suites, ['style', 'century', 'style']).map((d) => d.name)).toEqual([
      'style',
      'century',
    ]);
    expect(() => selectDimensions(suites, ['colour'])).toThrow(
      /unknown dimension "colour" \(known dimensions: .*century.*style; suites: artifacts, content, period, scene, style\)/,
    );
    await expect(resolveSuites(['nope'])).rejects.toThrow(
      /unknown suite "nope": not a file and not a default suite \(defaults: artifacts, content, period, scene, style\)/,
    );
  });
});

describeShared(
  'default suites against the AI-Pastiche catalog',
  ['data/clip-art-embeddings/ai_pastiche.parquet'],
  () => {
    it('match almost every style and period value of the catalog', async () => {
      const t = await loadTable(sharedPath('data', 'clip-art-embeddings', 'ai_pastiche.parquet'));
      const suites = await resolveSuites(['style', 'period']);
      const share = (dim: string, col: string) => {
        const m = createLabelMatcher(selectDimensions(suites, [dim])[0]);
        const vals = t.columns[col].filter((v) => v !== null);
        return vals.filter((v) => m(v) !== undefined).length / vals.length;
      };
      expect(share('century', 'period')).toBe(1);
      expect(share('style', 'style')).toBeGreaterThan(0.95);
    });
  },
);

describe('suite validation', () => {
  it('parses labels given as strings or objects, with aliases and overriding prompts', () => {
    const s = parseSuite(
      {
        ...valid(),
        dimensions: {
          ...valid().dimensions,
          mood: {
            labels: [
              { id: 'calm', prompts: ['a calm scene.'] },
              { id: 'wild', prompts: ['a storm.', 'chaos.'] },
            ],
          },
        },
      },
      'x.json',
    );
    const [animal, mood] = s.dimensions;
    expect(animal.labels[0]).toMatchObject({
      id: 'cat',
      text: 'cat',
      prompts: ['a painting of a cat.', 'a photo of a cat.'],
      aliases: [],
    });
    expect(createLabelMatcher(animal)('HOUND')).toBe('dog');
    expect(mood.labels[1].prompts).toEqual(['a storm.', 'chaos.']);
  });

  /** The valid suite with fields of its one dimension replaced. */
  const dimWith = (patch: Record<string, unknown>) => ({
    ...valid(),
    dimensions: { animal: { ...valid().dimensions.animal, ...patch } },
  });
  const cases: [string, unknown, RegExp][] = [
    [
      'missing name',
      { ...valid(), name: undefined },
      /bad\.json: \$\.name: must be a non-empty string, got a undefined/,
    ],
    [
      'unknown top-level field',
      { ...valid(), dimension: {} },
      /bad\.json: \$\.dimension: unknown field \(allowed: name, description, dimensions\)/,
    ],
    [
      'dimensions not an object',
      { ...valid(), dimensions: [] },
      /\$\.dimensions: must be an object, got an array/,
    ],
    ['no dimensions', { ...valid(), dimensions: {} }, /\$\.dimensions: is empty/],
    [
      'typo in a label field',
      dimWith({ labels: ['cat', { id: 'dog', alias: ['x'] }] }),
      /\$\.dimensions\.animal\.labels\[1\]\.alias: unknown field \(allowed: id, text, prompts, aliases, range, description\)/,
    ],
    [
      'empty label list',
      dimWith({ labels: [] }),
      /\$\.dimensions\.animal\.labels: is empty: a dimension needs at least two labels/,
    ],
    ['a single label', dimWith({ labels: ['cat'] }), /\$\.dimensions\.animal\.labels: holds one label/],
    [
      'empty label id',
      dimWith({ labels: [{ id: ' ' }, 'dog'] }),
      /\$\.dimensions\.animal\.labels\[0\]\.id: must be a non-empty string, got a string \(empty\)/,
    ],
    [
      'template without {}',
      dimWith({ templates: ['a {}.', 'a photo'] }),
      /\$\.dimensions\.animal\.templates\[1\]: template "a photo" has no "\{\}" placeholder/,
    ],
    [
      'no templates and no prompts',
      dimWith({ templates: undefined }),
      /\$\.dimensions\.animal\.labels\[0\]: label "cat" has no "prompts" and its dimension has no "templates"/,
    ],
    [
      'duplicate label',
      dimWith({ labels: ['cat', 'Cat'] }),
      /\$\.dimensions\.animal\.labels\[1\]: "cat" .* already names label "cat"/,
    ],
    [
      'alias naming another label',
      dimWith({ labels: ['cat', { id: 'dog', aliases: ['cat'] }] }),
      /labels\[1\]: "cat" \(id, text or alias of "dog"\) already names label "cat"/,
    ],
    [
      'bad range',
      dimWith({ labels: [{ id: 'a', range: [1900, 1800] }, 'b'] }),
      /labels\[0\]\.range: must be \[first, last\] integers with first ≤ last, got \[1900,1800\]/,
    ],
    [
      'overlapping ranges',
      dimWith({
        labels: [
          { id: 'a', range: [1800, 1900] },
          { id: 'b', range: [1900, 2000] },
        ],
      }),
      /year ranges of "a" \[1800,1900\] and "b" \[1900,2000\] overlap/,
    ],
    [
      'bad dimension name',
      { ...valid(), dimensions: { 'two words': valid().dimensions.animal } },
      /\$\.dimensions\["two words"\]: dimension names use letters/,
    ],
  ];
  for (const [what, raw, re] of cases) {
    it(`rejects ${what} naming the file and JSON path`, () => {
      expect(() => parseSuite(raw, 'bad.json')).toThrow(re);
    });
  }

  it('reports unreadable files, invalid JSON and dimensions defined twice', async () => {
    await expect(loadSuiteFile(join(tmp, 'missing.json'))).rejects.toThrow(
      /missing\.json: cannot read suite file/,
    );
    const broken = write('broken.json', '{"name": "x",');
    await expect(loadSuiteFile(broken)).rejects.toThrow(/broken\.json: not valid JSON/);
    const a = write('a.json', valid());
    const b = write('b.json', { ...valid(), name: 'other' });
    await expect(resolveSuites([a, b])).rejects.toThrow(
      /dimension "animal" is defined twice: in .*a\.json and in .*b\.json/,
    );
    const s = await resolveSuites([a, 'style']);
    expect(selectDimensions(s).map((d) => d.name)).toEqual(['animal', 'style']);
  });
});

describe('catalogs', () => {
  it('reads CSV, JSON and JSONL with truth columns and resolves images against --images-dir', async () => {
    const img = join(tmp, 'img');
    write('img/a.png', 'x');
    write('img/b.png', 'x');
    const csv = write('cat.csv', 'file,movement,year\na.png,Baroque,1650\nb.png,,1890\n');
    const c = await loadCatalog(csv, {
      imagesDir: img,
      truth: parseTruthSpecs(['style=movement', 'century=year']),
    });
    expect(c.imageColumn).toBe('file');
    expect(c.rows.map((r) => r.image)).toEqual([join(img, 'a.png'), join(img, 'b.png')]);
    expect(c.rows.map((r) => r.truth)).toEqual([
      { style: 'Baroque', century: '1650' },
      { style: null, century: '1890' },
    ]);
    const json = write('img/cat.json', {
      items: [
        { path: 'a.png', s: 'Rococo' },
        { path: 'b.png', s: 1 },
      ],
    });
    const j = await loadCatalog(json, { truth: { style: 's' } }); // images relative to the catalog's folder
    expect(j.rows.map((r) => [r.image, r.truth.style])).toEqual([
      [join(img, 'a.png'), 'Rococo'],
      [join(img, 'b.png'), 1],
    ]);
    const jsonl = write('img/cat.jsonl', '{"src": "a.png"}\n\n{"src": "b.png"}\n');
    expect((await loadCatalog(jsonl)).rows).toHaveLength(2);
  });

  it('gives clear errors: unknown label or image column, missing files, bad truth specs', async () => {
    write('c2/x.png', 'x');
    const csv = write('c2.csv', 'name,style\nx.png,Baroque\n');
    await expect(loadCatalog(csv)).rejects.toThrow(
      /c2\.csv: no image column found; pass --image-column \(columns: name, style\)/,
    );
    await expect(loadCatalog(csv, { imageColumn: 'file' })).rejects.toThrow(
      /unknown image column "file" \(columns: name, style\)/,
    );
    await expect(loadCatalog(csv, { imageColumn: 'name', truth: { style: 'movement' } })).rejects.toThrow(
      /c2\.csv: unknown label column "movement" for dimension "style" \(columns: name, style\)/,
    );
    await expect(loadCatalog(csv, { imageColumn: 'name' })).rejects.toThrow(
      /1 image file not found \(row 0: .*x\.png\); check --images-dir/,
    );
    expect((await loadCatalog(csv, { imageColumn: 'name', imagesDir: join(tmp, 'c2') })).rows[0].name).toBe(
      'x.png',
    );
    await expect(loadCatalog(write('c.txt', ''))).rejects.toThrow(/unsupported catalog format "\.txt"/);
    await expect(loadCatalog(write('c3.json', { a: [], b: [] }))).rejects.toThrow(
      /exactly one array of rows \(found 2\)/,
    );
    expect(() => parseTruthSpecs(['style='])).toThrow(
      /--truth must look like dimension=column, got "style="/,
    );
    expect(() => parseTruthSpecs(['a=b', 'a=c'])).toThrow(/names dimension "a" twice/);
    expect(parseTruthSpecs(['style'])).toEqual({ style: 'style' });
  });
});

describeShared('parquet catalogs', ['data/clip-art-embeddings/ai_pastiche.parquet'], () => {
  it('reads the AI-Pastiche parquet as a catalog with truth columns', async () => {
    const path = sharedPath('data', 'clip-art-embeddings', 'ai_pastiche.parquet');
    const c = await loadCatalog(path, {
      imageColumn: 'generated_image',
      truth: { style: 'style', century: 'period' },
      checkFiles: false,
    });
    const t = await loadTable(path);
    expect(c.rows).toHaveLength(t.rows);
    expect(c.rows[5].name).toBe(t.columns.generated_image[5]);
    expect(c.rows[5].truth).toEqual({ style: t.columns.style[5], century: t.columns.period[5] });
    await expect(loadCatalog(path, { imageColumn: 'generated_image' })).rejects.toThrow(
      /ai_pastiche\.parquet: 953 image files not found/,
    );
  });
});
