/**
 * Plain-text / markdown tables for probe results and the `--out DIR` report (report.json + report.md).
 *
 * @example
 * console.log(formatTable(['k', 'acc'], [[2, 0.9]]));
 * await writeReport('out/', 'Linear probe', { accuracy: 0.8 }, [{ title: 'Metrics', header, rows }]);
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

export type TableCell = string | number | null | undefined;

export interface ReportTable {
  title: string;
  header: string[];
  rows: TableCell[][];
}

const fmt = (v: TableCell): string => {
  if (v === null || v === undefined) return '';
  if (typeof v === 'number') return Number.isInteger(v) ? String(v) : v.toFixed(4);
  return v;
};

/**
 * Aligned plain-text table (numbers with 4 decimals).
 *
 * @example
 * formatTable(['probe', 'acc'], [['style', 0.7193]]);
 */
export function formatTable(header: string[], rows: TableCell[][]): string {
  const cells = [header, ...rows.map((r) => r.map(fmt))];
  const widths = header.map((_, j) => Math.max(...cells.map((r) => (r[j] ?? '').length)));
  const line = (r: string[]): string =>
    r
      .map((c, j) => (c ?? '').padEnd(widths[j]))
      .join('  ')
      .trimEnd();
  return [line(cells[0]), widths.map((w) => '-'.repeat(w)).join('  '), ...cells.slice(1).map(line)].join(
    '\n',
  );
}

/**
 * Markdown table.
 *
 * @example
 * markdownTable(['k', 'acc'], [[2, 0.9]]);
 */
export function markdownTable(header: string[], rows: TableCell[][]): string {
  const esc = (s: string): string => s.replace(/\|/g, '\\|');
  return [
    `| ${header.map(esc).join(' | ')} |`,
    `|${header.map(() => '---').join('|')}|`,
    ...rows.map((r) => `| ${r.map((c) => esc(fmt(c))).join(' | ')} |`),
  ].join('\n');
}

/**
 * JSON replacer: typed arrays become plain arrays, non-finite numbers null.
 *
 * @example
 * JSON.stringify(result, jsonReplacer);
 */
export function jsonReplacer(_key: string, value: unknown): unknown {
  if (ArrayBuffer.isView(value) && !(value instanceof DataView))
    return Array.from(value as unknown as ArrayLike<number>);
  if (typeof value === 'number' && !Number.isFinite(value)) return null;
  return value;
}

/**
 * Writes `report.json` (the result object) and `report.md` (title + tables) into `dir`.
 *
 * @example
 * await writeReport('runs/probe1', 'AI style probe', result, tables);
 */
export async function writeReport(
  dir: string,
  title: string,
  result: unknown,
  tables: ReportTable[],
): Promise<void> {
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'report.json'), `${JSON.stringify(result, jsonReplacer, 2)}\n`);
  const md = [
    `# ${title}`,
    '',
    ...tables.flatMap((t) => [`## ${t.title}`, '', markdownTable(t.header, t.rows), '']),
  ].join('\n');
  await writeFile(join(dir, 'report.md'), md);
}
