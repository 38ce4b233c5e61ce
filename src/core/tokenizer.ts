/**
 * CLIP's byte-level BPE tokenizer (OpenAI `SimpleTokenizer` / transformers `CLIPTokenizer`), read from the
 * Hugging Face files `vocab.json` + `merges.txt`.
 *
 * Pipeline: cleanText (ftfy, html.unescape twice, whitespace, lowercase) -> pre-tokenise with CLIP's regex
 * (special tokens, contractions, letter runs, single digits, other symbol runs) -> UTF-8 bytes mapped through
 * bytes_to_unicode -> BPE with `</w>` on the last symbol -> `[SOT, ...ids, EOT]`.
 *
 * @example
 * const tok = await ClipTokenizer.fromDir('models/tiny-b32');
 * tok.encode('a photo of a cat'); // => [49406, 320, 1125, 539, 320, 2368, 49407]
 * const { ids, eotIndex } = tok.tokenize(['a cat', 'a dog']); // ids: Int32Array [2, 77], zero padded
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { cleanText } from './text-clean.ts';

export interface TokenizeOptions {
  /** Row length; default the tokenizer's `contextLength` (77 for CLIP). */
  contextLength?: number;
  /** 'zeros' as OpenAI `clip.tokenize`, 'eot' pads with the EOT id (49407) as transformers does. */
  padding?: 'zeros' | 'eot';
  /** Cut long texts to SOT + first (contextLength - 2) tokens + EOT; when false, a long text throws. */
  truncate?: boolean;
}

export interface TokenBatch {
  /** [n, contextLength] row-major token ids. */
  ids: Int32Array;
  /** [n, contextLength]: 1 up to and including EOT, 0 on padding. */
  attentionMask: Int32Array;
  /** [n]: position of the first EOT in each row (what CLIP pools: argmax of the ids, transformers' first eos). */
  eotIndex: Int32Array;
  /** [n]: tokens in each row including SOT and EOT, after truncation. */
  lengths: Int32Array;
  /** [n]: whether the row was cut to fit. */
  truncated: boolean[];
  /** [n, contextLength]. */
  shape: [number, number];
}

export interface TokenizerSettings {
  /** Default row length for `tokenize`; default 77. */
  contextLength?: number;
  bosToken?: string;
  eosToken?: string;
}

/** GPT-2 / CLIP `bytes_to_unicode`: printable bytes map to themselves, the rest to U+0100 onwards. */
function buildByteEncoder(): string[] {
  const table: string[] = new Array(256);
  let extra = 0;
  for (let b = 0; b < 256; b++) {
    const printable = (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || (b >= 0xae && b <= 0xff);
    table[b] = String.fromCharCode(printable ? b : 256 + extra++);
  }
  return table;
}

const BYTE_ENCODER = buildByteEncoder();
const BYTE_DECODER = new Map(BYTE_ENCODER.map((ch, b) => [ch, b]));
const utf8Encoder = new TextEncoder();
const utf8Decoder = new TextDecoder('utf-8'); // non-fatal: broken sequences decode to U+FFFD
/** Heap key = rank * POS_SPAN + position; positions stay below 2^30 (longer than any JS string). */
const POS_SPAN = 2 ** 30;
const PRINTABLE_ASCII_RE = /^[\x21-\x7e]+$/;
const MAX_CACHED_WORD = 64;
const MAX_CACHE_ENTRIES = 100_000;

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Minimal binary min-heap of numbers. */
class MinHeap {
  private readonly items: number[] = [];
  get size(): number {
    return this.items.length;
  }
  peek(): number {
    return this.items[0];
  }
  push(v: number): void {
    const a = this.items;
    let i = a.push(v) - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (a[p] <= v) break;
      a[i] = a[p];
      i = p;
    }
    a[i] = v;
  }
  pop(): number {
    const a = this.items;
    const top = a[0];
    const last = a.pop() as number;
    if (a.length > 0) {
      let i = 0;
      for (;;) {
        let c = 2 * i + 1;
        if (c >= a.length) break;
        if (c + 1 < a.length && a[c + 1] < a[c]) c++;
        if (a[c] >= last) break;
        a[i] = a[c];
        i = c;
      }
      a[i] = last;
    }
    return top;
  }
}

export class ClipTokenizer {
  readonly sotId: number;
  readonly eotId: number;
  readonly vocabSize: number;
  readonly contextLength: number;
  private readonly decoder: string[];
  private readonly pattern: RegExp;
  private readonly specials: Set<string>;
  private readonly cache = new Map<string, string[]>();

  private constructor(
    private readonly encoder: Map<string, number>,
    private readonly ranks: Map<string, number>,
    settings: Required<TokenizerSettings>,
  ) {
    const { bosToken, eosToken, contextLength } = settings;
    const sot = encoder.get(bosToken);
    const eot = encoder.get(eosToken);
    if (sot === undefined) throw new Error(`tokenizer: start token "${bosToken}" is not in the vocabulary`);
    if (eot === undefined) throw new Error(`tokenizer: end token "${eosToken}" is not in the vocabulary`);
    if (!Number.isInteger(contextLength) || contextLength < 2) {
      throw new Error(`tokenizer: contextLength must be an integer >= 2, got ${contextLength}`);
    }
    this.sotId = sot;
    this.eotId = eot;
    this.contextLength = contextLength;
    this.decoder = [];
    for (const [token, id] of encoder) this.decoder[id] = token;
    this.vocabSize = this.decoder.length;
    // OpenAI's pattern (with re.IGNORECASE); special tokens typed in the text map to their ids.
    const specials = `${escapeRegExp(bosToken)}|${escapeRegExp(eosToken)}`;
    this.pattern = new RegExp(
      `${specials}|'s|'t|'re|'ve|'m|'ll|'d|[\\p{L}]+|[\\p{N}]|[^\\s\\p{L}\\p{N}]+`,
      'giu',
    );
    this.specials = new Set([bosToken, eosToken]);
  }

  /**
   * Load `vocab.json` and `merges.txt` from a Hugging Face model folder; `tokenizer_config.json` and
   * `special_tokens_map.json`, when present, give model_max_length and the start/end tokens.
   *
   * @example
   * const tok = await ClipTokenizer.fromDir('/models/clip-vit-base-patch32');
   */
  static async fromDir(dir: string): Promise<ClipTokenizer> {
    const readText = async (name: string, optional: boolean): Promise<string | undefined> => {
      try {
        return await readFile(join(dir, name), 'utf8');
      } catch (err) {
        if (optional && (err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
        throw new Error(`tokenizer: cannot read ${join(dir, name)}: ${(err as Error).message}`);
      }
    };
    const parseJson = (name: string, text: string): Record<string, unknown> => {
      try {
        const value: unknown = JSON.parse(text);
        if (value === null || typeof value !== 'object' || Array.isArray(value))
          throw new Error('not a JSON object');
        return value as Record<string, unknown>;
      } catch (err) {
        throw new Error(`tokenizer: ${join(dir, name)} is invalid: ${(err as Error).message}`);
      }
    };
    const [vocabText, mergesText, configText, specialText] = await Promise.all([
      readText('vocab.json', false),
      readText('merges.txt', false),
      readText('tokenizer_config.json', true),
      readText('special_tokens_map.json', true),
    ]);
    const config = configText === undefined ? {} : parseJson('tokenizer_config.json', configText);
    const special = specialText === undefined ? {} : parseJson('special_tokens_map.json', specialText);
    const tokenName = (key: string): string | undefined => {
      const v = special[key] ?? config[key];
      if (typeof v === 'string') return v;
      if (v && typeof v === 'object' && typeof (v as { content?: unknown }).content === 'string') {
        return (v as { content: string }).content;
      }
      return undefined;
    };
    // transformers writes a huge placeholder (1e30) when the length is unknown.
    const maxLen = config.model_max_length;
    const contextLength =
      Number.isInteger(maxLen) && (maxLen as number) <= 1_000_000 ? (maxLen as number) : 77;
    try {
      return ClipTokenizer.fromData(
        parseJson('vocab.json', vocabText as string) as Record<string, number>,
        mergesText as string,
        {
          contextLength,
          bosToken: tokenName('bos_token'),
          eosToken: tokenName('eos_token'),
        },
      );
    } catch (err) {
      throw new Error(`${(err as Error).message} (in ${dir})`);
    }
  }

  /**
   * Build from an already-parsed vocabulary (token -> id) and the text of merges.txt (one "a b" pair per line,
   * ranked by order; a leading `#version` line is skipped).
   *
   * @example
   * const tok = ClipTokenizer.fromData(JSON.parse(vocabJson), mergesTxt);
   */
  static fromData(
    vocab: Record<string, number>,
    merges: string,
    settings: TokenizerSettings = {},
  ): ClipTokenizer {
    const encoder = new Map<string, number>();
    for (const token of Object.keys(vocab)) {
      const id = vocab[token]; // Object.keys + lookup is ~3x faster than Object.entries on a 49k-key object
      if (!Number.isInteger(id) || id < 0)
        throw new Error(`tokenizer: vocab entry "${token}" has invalid id ${id}`);
      encoder.set(token, id);
    }
    const ranks = new Map<string, number>();
    const lines = merges.split('\n');
    for (let i = 0; i < lines.length; i++) {
      const line = lines[i].endsWith('\r') ? lines[i].slice(0, -1) : lines[i];
      if (line === '' || (i === 0 && line.startsWith('#version'))) continue;
      const space = line.indexOf(' ');
      if (space <= 0 || space === line.length - 1 || line.indexOf(' ', space + 1) !== -1) {
        throw new Error(
          `tokenizer: merges line ${i + 1} is not two symbols separated by one space: "${line.slice(0, 80)}"`,
        );
      }
      if (!ranks.has(line)) ranks.set(line, ranks.size);
    }
    return new ClipTokenizer(encoder, ranks, {
      contextLength: settings.contextLength ?? 77,
      bosToken: settings.bosToken ?? '<|startoftext|>',
      eosToken: settings.eosToken ?? '<|endoftext|>',
    });
  }

  /**
   * BPE strings of a text, with the start and end tokens: what the ids stand for.
   *
   * @example
   * tok.encodeTokens('distorted'); // => ['<|startoftext|>', 'distor', 'ted</w>', '<|endoftext|>']
   */
  encodeTokens(text: string): string[] {
    if (typeof text !== 'string') throw new Error(`tokenizer: text must be a string, got ${typeof text}`);
    const out = [this.decoder[this.sotId]];
    for (const match of cleanText(text).matchAll(this.pattern)) {
      if (this.specials.has(match[0])) {
        out.push(match[0]);
        continue;
      }
      let word = match[0];
      if (!PRINTABLE_ASCII_RE.test(word)) {
        word = ''; // bytes_to_unicode maps printable ASCII to itself, so only other pieces need the byte walk
        for (const b of utf8Encoder.encode(match[0])) word += BYTE_ENCODER[b];
      }
      for (const token of this.bpe(word)) out.push(token);
    }
    out.push(this.decoder[this.eotId]);
    return out;
  }

  /**
   * Token ids `[SOT, ...text tokens, EOT]`, not truncated.
   *
   * @example
   * tok.encode(''); // => [49406, 49407]
   */
  encode(text: string): number[] {
    return this.encodeTokens(text).map((token) => {
      const id = this.encoder.get(token);
      if (id === undefined)
        throw new Error(`tokenizer: BPE produced "${token}", which is not in the vocabulary`);
      return id;
    });
  }

  /**
   * Encode a batch into fixed-length rows (OpenAI `clip.tokenize` semantics by default).
   *
   * @example
   * const b = tok.tokenize(['a cat'], { padding: 'eot' }); // b.ids: [1, 77], b.eotIndex[0] === 3
   */
  tokenize(texts: string[], options: TokenizeOptions = {}): TokenBatch {
    const { contextLength = this.contextLength, padding = 'zeros', truncate = true } = options;
    if (!Array.isArray(texts)) throw new Error('tokenizer: texts must be an array of strings');
    if (!Number.isInteger(contextLength) || contextLength < 2) {
      throw new Error(`tokenizer: contextLength must be an integer >= 2, got ${contextLength}`);
    }
    if (padding !== 'zeros' && padding !== 'eot') {
      throw new Error(`tokenizer: padding must be 'zeros' or 'eot', got ${String(padding)}`);
    }
    const n = texts.length;
    const ids = new Int32Array(n * contextLength).fill(padding === 'eot' ? this.eotId : 0); // [n, L]
    const attentionMask = new Int32Array(n * contextLength); // [n, L]
    const eotIndex = new Int32Array(n);
    const lengths = new Int32Array(n);
    const truncated: boolean[] = [];
    for (let i = 0; i < n; i++) {
      if (typeof texts[i] !== 'string')
        throw new Error(`tokenizer: text ${i} is not a string (${typeof texts[i]})`);
      let seq = this.encode(texts[i]);
      truncated.push(seq.length > contextLength);
      if (seq.length > contextLength) {
        if (!truncate) {
          throw new Error(
            `tokenizer: text ${i} has ${seq.length} tokens, more than the context length ${contextLength} (use truncate to cut it)`,
          );
        }
        seq = seq.slice(0, contextLength);
        seq[contextLength - 1] = this.eotId;
      }
      ids.set(seq, i * contextLength);
      attentionMask.fill(1, i * contextLength, i * contextLength + seq.length);
      eotIndex[i] = seq.indexOf(this.eotId); // first EOT, as argmax pooling picks (a typed <|endoftext|> counts)
      lengths[i] = seq.length;
    }
    return { ids, attentionMask, eotIndex, lengths, truncated, shape: [n, contextLength] };
  }

  /**
   * Text of a token sequence for display. With skipSpecial (default), SOT is dropped and decoding stops at the
   * first EOT, so padded rows decode cleanly.
   *
   * @example
   * tok.decode([49406, 320, 2368, 49407, 0, 0]); // => 'a cat'
   */
  decode(ids: ArrayLike<number>, { skipSpecial = true }: { skipSpecial?: boolean } = {}): string {
    let text = '';
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i];
      if (skipSpecial && id === this.eotId) break;
      if (skipSpecial && id === this.sotId) continue;
      text += this.idToToken(id);
    }
    const bytes = Uint8Array.from(text, (ch) => BYTE_DECODER.get(ch) ?? 0x3f); // '?' for chars outside the map
    return utf8Decoder.decode(bytes).replaceAll('</w>', ' ').trim();
  }

  /**
   * Vocabulary string of one id (byte-level form, e.g. 'caf\u00c3\u00a9</w>').
   *
   * @example
   * tok.idToToken(2368); // => 'cat</w>'
   */
  idToToken(id: number): string {
    const token = Number.isInteger(id) ? this.decoder[id] : undefined;
    if (token === undefined)
      throw new Error(`tokenizer: token id ${id} is not in the vocabulary (size ${this.vocabSize})`);
    return token;
  }

  /**
   * BPE of one pre-token (already byte-encoded). Merges the lowest-ranked adjacent pair, all its occurrences
   * left to right per round, exactly as the reference loop does, but with a heap: O(n log n) for long words.
   */
  private bpe(word: string): string[] {
    const cached = this.cache.get(word);
    if (cached) return cached;
    const sym = word.split(''); // bytes_to_unicode output is all BMP, one UTF-16 unit per byte
    const n = sym.length;
    sym[n - 1] += '</w>';
    const next = Int32Array.from({ length: n }, (_, i) => i + 1); // n = end
    const prev = Int32Array.from({ length: n }, (_, i) => i - 1); // -1 = start
    const heap = new MinHeap();
    const rankAt = (i: number): number | undefined =>
      i >= 0 && sym[i] !== '' && next[i] < n ? this.ranks.get(`${sym[i]} ${sym[next[i]]}`) : undefined;
    const pushPair = (i: number): void => {
      const r = rankAt(i);
      if (r !== undefined) heap.push(r * POS_SPAN + i);
    };
    for (let i = 0; i < n - 1; i++) pushPair(i);
    const touched: number[] = [];
    while (heap.size > 0) {
      const rank = Math.floor(heap.peek() / POS_SPAN);
      touched.length = 0;
      // One round: every occurrence of this pair, by position; stale entries fail the rank check.
      while (heap.size > 0 && Math.floor(heap.peek() / POS_SPAN) === rank) {
        const i = heap.pop() % POS_SPAN;
        if (rankAt(i) !== rank) continue;
        const j = next[i];
        sym[i] += sym[j];
        sym[j] = '';
        next[i] = next[j];
        if (next[j] < n) prev[next[j]] = i;
        touched.push(i);
      }
      for (const i of touched) {
        if (sym[i] === '') continue;
        pushPair(prev[i]);
        pushPair(i);
      }
    }
    const out = sym.filter((s) => s !== '');
    if (n <= MAX_CACHED_WORD) {
      if (this.cache.size >= MAX_CACHE_ENTRIES) this.cache.clear();
      this.cache.set(word, out);
    }
    return out;
  }
}
