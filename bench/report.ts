/**
 * Plain-text tables and target checks for the benchmark report.
 *
 * @example
 * console.log(formatTable(['a', 'b'], [[1, 'x']]));
 */

/** Columns padded to their widest cell; numbers right-aligned. */
export function formatTable(header: string[], rows: (string | number)[][]): string {
  const cells = [header, ...rows.map((r) => r.map((c) => (typeof c === 'number' ? formatNumber(c) : c)))];
  const widths = header.map((_, j) => Math.max(...cells.map((r) => String(r[j] ?? '').length)));
  const line = (r: (string | number)[], src?: (string | number)[]) =>
    r
      .map((c, j) =>
        typeof src?.[j] === 'number' ? String(c).padStart(widths[j]) : String(c).padEnd(widths[j]),
      )
      .join('  ')
      .trimEnd();
  return [
    line(header),
    widths.map((w) => '-'.repeat(w)).join('  '),
    ...cells.slice(1).map((r, i) => line(r, rows[i])),
  ].join('\n');
}

function formatNumber(x: number): string {
  if (!Number.isFinite(x) || Number.isInteger(x)) return String(x);
  const a = Math.abs(x);
  if (a >= 100) return x.toFixed(0);
  if (a >= 10) return x.toFixed(1);
  if (a >= 1) return x.toFixed(2);
  return x.toFixed(3);
}

export interface TargetCheck {
  target: string;
  value: number;
  limit: number;
  unit: string;
  pass: boolean;
}

/** value ≤ limit. */
export function checkTarget(target: string, value: number, limit: number, unit: string): TargetCheck {
  return { target, value, limit, unit, pass: value <= limit };
}

export function formatChecks(checks: TargetCheck[]): string {
  return formatTable(
    ['target', 'measured', 'limit', 'result'],
    checks.map((c) => [
      c.target,
      `${formatNumber(c.value)} ${c.unit}`,
      `≤ ${formatNumber(c.limit)} ${c.unit}`,
      c.pass ? 'PASS' : 'MISS',
    ]),
  );
}
