import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { SafetensorsFile } from '../../src/core/safetensors.ts';
import { cleanText, fixText, unescapeHtml } from '../../src/core/text-clean.ts';
import { ClipTokenizer } from '../../src/core/tokenizer.ts';
import { describeShared, sharedPath } from '../helpers/shared-data.ts';

interface GoldenText {
  index: number;
  text: string;
  ftfy_fix_text: string;
  ftfy_matters: boolean;
  cleaned_lowercased: string;
  ids_untruncated: number[];
  n_tokens_untruncated: number;
  ids: number[];
  eot_index: number;
  truncated: boolean;
  bpe_tokens: string[];
}

const SOT = 49406;
const EOT = 49407;

describe('text cleaning (ftfy / html.unescape semantics)', () => {
  // Expected values produced by ftfy 6.3.1 `ftfy.fix_text` (Python) for these inputs.
  const ftfyCases: [string, string][] = [
    ['caf\u00c3\u00a9', 'caf\u00e9'],
    ['don\u00e2\u20ac\u2122t', "don't"],
    ['\u00f0\u0178\u02dc\u20ac smile', '\u{1f600} smile'],
    ['\u00c2\u00a35', '\u00a35'],
    ['\u00e2\u20ac\u0153quoted\u00e2\u20ac\u009d', '"quoted"'],
    [
      '\u00d0\u00bf\u00d1\u20ac\u00d0\u00b8\u00d0\u00b2\u00d0\u00b5\u00d1\u201a',
      '\u043f\u0440\u0438\u0432\u0435\u0442',
    ],
    ['\u00c3  la carte', '\u00e0 la carte'],
    ['\u00c4\u201c', '\u00c4"'], // not mojibake by ftfy's detector: only the quote is uncurled
    ['\u00c0\u00d6\u00a0', '\u00c0\u00d6\u00a0'],
    ['don\u2019t \u201cstop\u201d', 'don\'t "stop"'],
    ['en \u2013 dash \u2014 em', 'en \u2013 dash \u2014 em'],
    ['\ufb01ne \ufb02ow', 'fine flow'],
    ['\uff23\uff41\uff54\u3000\uff01', 'Cat !'],
    ['price \u0080 5', 'price \u20ac 5'],
    ['\u0085', '\u2026'],
    ['a\u0000b\u0007c\u007fd\ufeffe', 'abcde'],
    ['\u001b[31mred\u001b[0m', 'red'],
    ['e\u0301', '\u00e9'],
    ['line\r\nbreak\u2028x', 'line\nbreak\nx'],
    ['x\ud800y', 'x\ufffdy'],
    ['P&EACUTE;REZ &amp;amp;amp; &eacute', 'P\u00c9REZ & &eacute'],
    ['<b>&amp;</b>', '<b>&amp;</b>'],
    ['&lt;3\n&amp;', '<3\n&'],
  ];
  it.each(ftfyCases)('fixText(%j) matches ftfy', (input, expected) => {
    expect(fixText(input)).toBe(expected);
  });

  it('unescapeHtml follows Python html.unescape', () => {
    expect(unescapeHtml('&amp &ampx &notin; &notit; &Aacute &#65 &#x41; &#X42;')).toBe(
      '& &x \u2209 \u00acit; \u00c1 A A B',
    );
    expect(unescapeHtml('&#0; &#x110000; &#xd800; &#128; &#x81; &#1; &#13;')).toBe(
      '\ufffd \ufffd \ufffd \u20ac \x81  \r',
    );
    expect(unescapeHtml('&unknown; &; &# &#x; & alone')).toBe('&unknown; &; &# &#x; & alone');
    expect(unescapeHtml('&NotNestedGreaterGreater; &acE;')).toBe('\u2aa2\u0338 \u223e\u0333');
    expect(unescapeHtml('&#99999999999999999999;')).toBe('\ufffd');
  });

  it('cleanText unescapes twice, collapses Python whitespace, strips and lowercases', () => {
    expect(cleanText('  A&amp;amp;B\t\n\u00a0\u3000\x1c C  ')).toBe('a&b c');
    expect(cleanText('&amp;amp;lt;')).toBe('<'); // ftfy resolves it fully when the text has no '<'
    expect(cleanText('< &amp;amp;amp;')).toBe('< &amp;'); // '<' turns ftfy's unescape off; two html.unescape remain
    expect(cleanText('\u0130STANBUL \u03a3\u0391\u03a3')).toBe('i\u0307stanbul \u03c3\u03b1\u03c2');
    expect(cleanText('')).toBe('');
  });
});

describeShared(
  'ClipTokenizer against golden tokens',
  ['golden/models/tiny-b32/vocab.json', 'golden/inputs/tokens.safetensors'],
  () => {
    let tok: ClipTokenizer;
    let texts: GoldenText[];
    let loadMs = 0;

    beforeAll(async () => {
      const t0 = performance.now();
      tok = await ClipTokenizer.fromDir(sharedPath('golden', 'models', 'tiny-b32'));
      loadMs = performance.now() - t0;
      texts = JSON.parse(readFileSync(sharedPath('golden', 'inputs', 'texts.json'), 'utf8')) as GoldenText[];
    });

    it('loads the 49408-token vocabulary and its settings quickly', () => {
      expect(tok.vocabSize).toBe(49408);
      expect([tok.sotId, tok.eotId, tok.contextLength]).toEqual([SOT, EOT, 77]);
      expect(loadMs).toBeLessThan(2000); // typically ~0.1-0.3 s
      expect(texts).toHaveLength(16);
    });

    it('reproduces ftfy output, cleaned text, BPE strings and untruncated ids for every text', () => {
      for (const t of texts) {
        const where = `text ${t.index}`;
        expect(fixText(t.text), where).toBe(t.ftfy_fix_text);
        expect(cleanText(t.text), where).toBe(t.cleaned_lowercased);
        const ids = tok.encode(t.text);
        expect(ids, where).toEqual(t.ids_untruncated);
        expect(ids.length, where).toBe(t.n_tokens_untruncated);
        const bpe = tok.encodeTokens(t.text);
        // texts.json stores the BPE strings of the (possibly truncated) sequence
        const shown = t.truncated ? [...bpe.slice(0, 76), bpe[bpe.length - 1]] : bpe;
        expect(shown, where).toEqual(t.bpe_tokens);
        expect(
          t.ids.map((id) => tok.idToToken(id)),
          where,
        ).toEqual(t.bpe_tokens);
      }
    });

    it('needs ftfy exactly where texts.json says so', () => {
      for (const t of texts) {
        const withoutFtfy = unescapeHtml(unescapeHtml(t.text)).replace(/\s+/g, ' ').trim().toLowerCase();
        expect(withoutFtfy !== t.cleaned_lowercased, `text ${t.index}`).toBe(t.ftfy_matters);
      }
    });

    it('matches tokens.safetensors for both padding styles', async () => {
      const st = await SafetensorsFile.open(sharedPath('golden', 'inputs', 'tokens.safetensors'));
      const zeros = tok.tokenize(texts.map((t) => t.text));
      const eot = tok.tokenize(
        texts.map((t) => t.text),
        { padding: 'eot' },
      );
      const ref = st.getInt32('input_ids');
      expect(ref.shape).toEqual([16, 77]);
      expect(zeros.shape).toEqual([16, 77]);
      expect(Array.from(zeros.ids)).toEqual(Array.from(ref.data));
      expect(Array.from(eot.ids)).toEqual(Array.from(st.getInt32('input_ids_hf_padded').data));
      const mask = Array.from(st.getInt32('attention_mask').data);
      expect(Array.from(zeros.attentionMask)).toEqual(mask);
      expect(Array.from(eot.attentionMask)).toEqual(mask);
      const eotIndex = Array.from(st.getInt32('eot_index').data);
      expect(Array.from(zeros.eotIndex)).toEqual(eotIndex);
      expect(Array.from(eot.eotIndex)).toEqual(eotIndex);
      expect(zeros.truncated).toEqual(texts.map((t) => t.truncated));
      expect(Array.from(zeros.lengths)).toEqual(texts.map((t) => t.ids.length));
      for (let i = 0; i < 16; i++) {
        const row = Array.from(zeros.ids.subarray(i * 77, (i + 1) * 77));
        expect(row.indexOf(Math.max(...row)), `argmax row ${i}`).toBe(zeros.eotIndex[i]);
      }
    });

    it('without truncate, a long text throws naming its index and length', () => {
      const long = texts.find((t) => t.truncated) as GoldenText;
      expect(() => tok.tokenize(['a cat', long.text], { truncate: false })).toThrow(
        /text 1 has 84 tokens.*77/,
      );
      expect(tok.tokenize([long.text], { contextLength: 90, truncate: false }).eotIndex[0]).toBe(83);
    });

    it('handles empty, whitespace-only and special-token text', () => {
      expect(tok.encode('')).toEqual([SOT, EOT]);
      expect(tok.encode(' \n\t\u3000 ')).toEqual([SOT, EOT]);
      const b = tok.tokenize(['']);
      expect(Array.from(b.ids.subarray(0, 3))).toEqual([SOT, EOT, 0]);
      expect(b.eotIndex[0]).toBe(1);
      // OpenAI's pattern keeps typed special tokens whole, so they map to their ids
      const inner = (t: string) => tok.encode(t).slice(1, -1);
      expect(tok.encode('a <|endoftext|> b')).toEqual([SOT, ...inner('a'), EOT, ...inner('b'), EOT]);
      const typed = tok.tokenize(['a <|endoftext|> b']);
      expect([typed.eotIndex[0], typed.lengths[0]]).toEqual([2, 5]); // pooled at the first EOT, like argmax
    });

    it('survives very long and odd input without crashing', () => {
      const words = tok.encode('a '.repeat(100_000));
      expect(words).toHaveLength(100_002);
      const b = tok.tokenize(['a '.repeat(100_000)]);
      expect(b.eotIndex[0]).toBe(76);
      expect(b.ids[76]).toBe(EOT);
      const t0 = performance.now();
      const oneWord = tok.encode('qz'.repeat(25_000)); // one 50k-symbol BPE word
      expect(performance.now() - t0).toBeLessThan(5000);
      expect(oneWord.length).toBeGreaterThan(2);
      const odd = [
        '\u0000\u0001\u0007',
        '\ud800',
        'x\udfffy',
        '\u{1f469}\u200d\u{1f469}\u200d\u{1f467}',
        '\u202e\u0301\u0301',
        '\uffff\ufffe',
      ];
      // deterministic random code points, surrogates included
      let seed = 12345;
      for (let k = 0; k < 200; k++) {
        let s = '';
        for (let j = 0; j < 30; j++) {
          seed = (seed * 1103515245 + 12345) % 2 ** 31;
          s += String.fromCharCode(seed % 3 === 0 ? seed % 0x10000 : seed % 0x300);
        }
        odd.push(s);
      }
      for (const s of odd) {
        const ids = tok.encode(s);
        expect(ids[0]).toBe(SOT);
        expect(ids[ids.length - 1]).toBe(EOT);
        expect(ids.every((id) => Number.isInteger(id) && id >= 0 && id < tok.vocabSize)).toBe(true);
      }
    });

    it('decodes ids for display', () => {
      expect(tok.decode(tok.encode('A Photo of a CAT'))).toBe('a photo of a cat');
      const row = tok.tokenize(['caf\u00e9 \u{1f431}']).ids; // zero padded; decoding stops at EOT
      expect(tok.decode(row)).toBe('caf\u00e9 \u{1f431}');
      expect(tok.decode([SOT, 2368, EOT], { skipSpecial: false })).toBe('<|startoftext|>cat <|endoftext|>');
      expect(() => tok.decode([49408])).toThrow(/token id 49408/);
    });

    it('is stable across the BPE cache and rejects bad arguments clearly', () => {
      const text = texts[2].text;
      expect(tok.encode(text)).toEqual(tok.encode(text));
      expect(() => tok.tokenize(['ok', 3 as unknown as string])).toThrow(/text 1 is not a string/);
      expect(() => tok.tokenize(['ok'], { contextLength: 1 })).toThrow(/contextLength/);
      expect(() => tok.tokenize(['ok'], { padding: 'left' as 'zeros' })).toThrow(/padding/);
    });
  },
);

describe('ClipTokenizer construction errors', () => {
  const vocab = { a: 0, b: 1, 'a</w>': 2, 'b</w>': 3, 'ab</w>': 4, '<|startoftext|>': 5, '<|endoftext|>': 6 };

  it('builds from data and merges by rank', () => {
    const tok = ClipTokenizer.fromData(vocab, '#version: 0.2\na b</w>\n');
    expect(tok.encode('ab ba')).toEqual([5, 4, 1, 2, 6]);
  });

  it('names the problem', async () => {
    expect(() => ClipTokenizer.fromData(vocab, '#version: 0.2\na b c\n')).toThrow(/merges line 2/);
    expect(() => ClipTokenizer.fromData({ ...vocab, x: -1 }, '')).toThrow(/vocab entry "x"/);
    expect(() => ClipTokenizer.fromData({ a: 0 }, '')).toThrow(/start token/);
    expect(() => ClipTokenizer.fromData(vocab, '').encode('c')).toThrow(
      /"c<\/w>", which is not in the vocabulary/,
    );
    await expect(ClipTokenizer.fromDir('/nonexistent/model-dir')).rejects.toThrow(
      /nonexistent\/model-dir\/vocab\.json/,
    );
  });
});
