/**
 * Colour contrast of the web UI against WCAG 2.1 AA, computed from the CSS of every element (src/ui/*.ts):
 * text colours need 4.5:1 against their background (the rule's own, else the page's light backgrounds, or the
 * dark header for header rules), focus outlines 3:1 against the background they are drawn on.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { repoRoot } from '../helpers/shared-data.ts';

/** WCAG relative luminance of a #rgb / #rrggbb colour. */
function luminance(hex: string): number {
  const h = hex.replace('#', '');
  const full = h.length === 3 ? [...h].map((c) => c + c).join('') : h;
  const [r, g, b] = [0, 2, 4].map((i) => {
    const c = Number.parseInt(full.slice(i, i + 2), 16) / 255;
    return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  });
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
}

/** WCAG contrast ratio of two colours (1 to 21). */
function contrast(a: string, b: string): number {
  const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x);
  return (hi + 0.05) / (lo + 0.05);
}

const UI = join(repoRoot, 'src', 'ui');
const PAGE = ['#ffffff', '#fafaf8']; // element and page backgrounds
const HEADER = '#14213d';
const DEFAULT_TEXT = '#161616';
const HEX = '#[0-9a-fA-F]{6}\\b|#[0-9a-fA-F]{3}\\b';

interface Rule {
  file: string;
  selector: string;
  body: string;
}

/** Every `selector { declarations }` rule inside the files' css`...` blocks. */
function rules(): Rule[] {
  const out: Rule[] = [];
  for (const file of readdirSync(UI).filter((f) => f.endsWith('.ts'))) {
    const src = readFileSync(join(UI, file), 'utf8');
    for (const block of src.matchAll(/css`([\s\S]*?)`/g)) {
      const text = block[1].replace(/@media[^{]*\{([\s\S]*?\})\s*\}/g, '$1');
      for (const m of text.matchAll(/([^{}]+)\{([^{}]*)\}/g))
        out.push({ file, selector: m[1].trim(), body: m[2] });
    }
  }
  return out;
}

const decl = (body: string, prop: string): string | undefined =>
  body.match(new RegExp(`(?:^|;|\\s)${prop}\\s*:\\s*(${HEX})`))?.[1];

/** A translucent `rgba(...)` background composited over white (the lightest thing under it). */
function rgbaBackground(body: string): string | undefined {
  const m = body.match(/background(?:-color)?\s*:\s*rgba\(\s*(\d+),\s*(\d+),\s*(\d+),\s*([\d.]+)\s*\)/);
  if (!m) return undefined;
  const a = Number(m[4]);
  return `#${[m[1], m[2], m[3]]
    .map((c) =>
      Math.round(Number(c) * a + 255 * (1 - a))
        .toString(16)
        .padStart(2, '0'),
    )
    .join('')}`;
}

it('checks the contrast of every text colour and focus outline of the UI against WCAG AA', () => {
  const all = rules();
  expect(all.length).toBeGreaterThan(50);
  const rows: { where: string; fg: string; bg: string; ratio: number; need: number }[] = [];
  for (const r of all) {
    const where = `${r.file} ${r.selector}`;
    const onHeader = r.file === 'ap-app.ts' && /^(header|nav|\.health)/.test(r.selector);
    const fg = decl(r.body, 'color');
    const bg = decl(r.body, 'background(?:-color)?') ?? rgbaBackground(r.body);
    const backs = bg ? [bg] : onHeader ? [HEADER] : PAGE;
    if (fg) for (const b of backs) rows.push({ where, fg, bg: b, ratio: contrast(fg, b), need: 4.5 });
    // a light background without its own text colour holds the inherited text colour
    else if (bg && luminance(bg) > 0.5 && !/handle|draft|track|region|ramp|sw\b/.test(r.selector))
      rows.push({ where, fg: DEFAULT_TEXT, bg, ratio: contrast(DEFAULT_TEXT, bg), need: 4.5 });
    const outline = r.body.match(new RegExp(`outline\\s*:\\s*\\d+px\\s+solid\\s+(${HEX})`))?.[1];
    if (outline)
      for (const b of onHeader ? [HEADER] : PAGE)
        rows.push({
          where: `${where} (focus outline)`,
          fg: outline,
          bg: b,
          ratio: contrast(outline, b),
          need: 3,
        });
  }
  console.log(
    `contrast: ${rows.length} colour pairs checked, lowest ${Math.min(...rows.map((r) => r.ratio)).toFixed(2)}:1`,
  );
  expect(rows.length).toBeGreaterThan(40);
  expect(
    rows.filter((r) => r.ratio < r.need).map((r) => `${r.where}: ${r.fg} on ${r.bg} = ${r.ratio.toFixed(2)}`),
  ).toEqual([]);
});

it('computes WCAG contrast ratios like the specification', () => {
  expect(contrast('#000', '#fff')).toBeCloseTo(21, 6);
  expect(contrast('#fff', '#fff')).toBe(1);
  expect(contrast('#777777', '#ffffff')).toBeCloseTo(4.48, 2); // the classic "just fails AA" grey
  expect(contrast('#0b5cad', '#ffffff')).toBeGreaterThan(4.5);
});
