/**
 * Strict parsers of option values for commander (light: no imports at all), so that every command checks type
 * and range before any work starts: `--max-pixels abc`, `--port 1e9`, `--opacity 0.5x` are refused with an
 * Error naming the option, its range and the value given (the CLI prints it as one line and exits with 1;
 * in-process callers get a rejected promise). `Number.parseInt` and `parseFloat` are not used: they accept
 * `12abc` as 12.
 *
 * @example
 * .option('--port <n>', 'port', intOption('--port', 0, 65535), 8787)
 * .option('--opacity <f>', 'overlay opacity', numberOption('--opacity', 0, 1), 0.6)
 */
const INT_RE = /^[+-]?\d+$/;
const NUMBER_RE = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

/**
 * A parser of integers in [min, max] (digits only; `_` and `,` separators allowed, e.g. 100_000_000).
 *
 * @example
 * intOption('--max-pixels', 1, 1e9)('100_000_000'); // 100000000
 * intOption('--max-pixels', 1, 1e9)('abc'); // throws: --max-pixels must be an integer in 1..1000000000, got "abc"
 */
export function intOption(flag: string, min: number, max: number): (v: string) => number {
  return (v) => {
    const t = v.trim().replace(/[_,](?=\d)/g, '');
    const n = INT_RE.test(t) ? Number(t) : Number.NaN;
    if (!Number.isSafeInteger(n) || n < min || n > max)
      throw new Error(`${flag} must be an integer in ${min}..${max}, got "${v}"`);
    return n;
  };
}

/**
 * A parser of finite numbers in [min, max] (`maxExclusive`: in [min, max)).
 *
 * @example
 * numberOption('--tile-overlap', 0, 1, { maxExclusive: true })('0.25'); // 0.25
 */
export function numberOption(
  flag: string,
  min: number,
  max: number,
  o: { maxExclusive?: boolean } = {},
): (v: string) => number {
  return (v) => {
    const t = v.trim();
    const n = NUMBER_RE.test(t) ? Number(t) : Number.NaN;
    if (!Number.isFinite(n) || n < min || (o.maxExclusive ? n >= max : n > max))
      throw new Error(`${flag} must be a number in [${min}, ${max}${o.maxExclusive ? ')' : ']'}, got "${v}"`);
    return n;
  };
}

/**
 * A parser that accepts one of `choices`.
 *
 * @example
 * choiceOption('--view', ['crop', 'pad', 'tiles'])('pad'); // 'pad'
 */
export function choiceOption<const C extends readonly string[]>(
  flag: string,
  choices: C,
): (v: string) => C[number] {
  return (v) => {
    if (!(choices as readonly string[]).includes(v))
      throw new Error(`${flag} must be one of ${choices.join(', ')}, got "${v}"`);
    return v;
  };
}

/**
 * A parser of a non-empty text of at most `maxLength` characters (repeatable options collect into a list).
 *
 * @example
 * textOption('--title', 200)('My report'); // 'My report'
 */
export function textOption(flag: string, maxLength: number): (v: string) => string {
  return (v) => {
    if (!v.trim()) throw new Error(`${flag} must not be empty`);
    if (v.length > maxLength)
      throw new Error(`${flag} is ${v.length} characters long, above the limit of ${maxLength}`);
    return v;
  };
}

/**
 * The view kinds of `--view` (those of attribution/views.ts, repeated so that declaring options loads no
 * image code; test/cli checks that they agree).
 *
 * @example
 * choiceOption('--view', VIEW_CHOICES);
 */
export const VIEW_CHOICES = ['crop', 'pad', 'tiles'] as const;

/**
 * Default and largest value of `--max-tiles` (DEFAULT_MAX_TILES and MAX_TILES of attribution/views.ts,
 * repeated for the same reason; test/cli checks them).
 *
 * @example
 * intOption('--max-tiles', 1, CLI_MAX_TILES.max);
 */
export const CLI_MAX_TILES = { default: 64, max: 256 } as const;

/**
 * Default map pixel budget of `serve --max-map-pixels` (DEFAULT_MAX_MAP_PIXELS of server/jobs.ts).
 *
 * @example
 * intOption('--max-map-pixels', 50_176, 100_000_000);
 */
export const CLI_DEFAULT_MAP_PIXELS = 2048 * 2048;
