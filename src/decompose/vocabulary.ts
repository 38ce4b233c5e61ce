/**
 * Description vocabularies for head roles (TextSpan): plain UTF-8 text, one description per line.
 * - blank lines are ignored; a line starting with `#` is a comment;
 * - a line `[category]` starts a category (e.g. `[style]`, `[ai-artifact]`) that applies to the following
 *   descriptions until the next one (before the first, descriptions are `uncategorised`);
 * - surrounding whitespace is trimmed; a repeated description is an error naming both lines.
 * The vocabulary shipped with artprobe is `vocabularies/art-descriptions.txt`.
 *
 * @example
 * const vocab = await loadVocabulary(DEFAULT_VOCABULARY);
 * vocab.entries[0]; // { text: 'A Gothic altarpiece with gold ground.', category: 'style', line: 12 }
 */
import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The vocabulary shipped with artprobe. */
export const DEFAULT_VOCABULARY: string = resolve(
  dirname(fileURLToPath(import.meta.url)),
  '..',
  '..',
  'vocabularies',
  'art-descriptions.txt',
);

export interface VocabularyEntry {
  text: string;
  category: string;
  /** 1-based line number in the file. */
  line: number;
}

export interface Vocabulary {
  source: string;
  entries: VocabularyEntry[];
  /** Categories in order of first appearance. */
  categories: string[];
}

/**
 * Parses vocabulary text; `source` names the file in errors.
 *
 * @example
 * parseVocabulary('[style]\nA Baroque painting.\n', 'inline').entries.length; // 1
 */
export function parseVocabulary(text: string, source = '<inline>'): Vocabulary {
  const entries: VocabularyEntry[] = [];
  const categories: string[] = [];
  const seen = new Map<string, number>();
  let category = 'uncategorised';
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const cat = /^\[([^\]]+)\]$/.exec(line);
    if (cat) {
      category = cat[1].trim();
      if (!category) throw new Error(`${source}:${i + 1}: empty category name`);
      return;
    }
    const key = line.toLowerCase();
    const prev = seen.get(key);
    if (prev !== undefined) throw new Error(`${source}:${i + 1}: "${line}" repeats line ${prev}`);
    seen.set(key, i + 1);
    if (!categories.includes(category)) categories.push(category);
    entries.push({ text: line, category, line: i + 1 });
  });
  if (entries.length === 0) throw new Error(`${source}: the vocabulary has no descriptions`);
  return { source, entries, categories };
}

/**
 * Reads and parses a vocabulary file.
 *
 * @example
 * const vocab = await loadVocabulary('vocabularies/art-descriptions.txt');
 */
export async function loadVocabulary(path: string): Promise<Vocabulary> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    throw new Error(`${path}: cannot read the vocabulary (${(e as Error).message})`);
  }
  return parseVocabulary(text, path);
}
