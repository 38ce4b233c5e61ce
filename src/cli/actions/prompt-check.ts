/**
 * Reports prompts that CLIP cannot read whole: its text encoder reads a fixed number of tokens (77 for every
 * released CLIP, start and end markers included) and the rest of a longer prompt is cut silently. The
 * commands that encode prompts (encode, explain, probe zero-shot) call this before any work, so a cut prompt
 * is said once, on stderr, with its token count. Prompts given on the command line are also limited to
 * {@link MAX_PROMPT_CHARS} characters (as the server's API is): CLIP would read a few hundred of them at most.
 *
 * @example
 * checkPromptLengths(['a cat'], '--text'); // fine; a 100 000-character text throws
 * const cut = reportTruncatedPrompts(clip, ['a cat', longText]); // 1; prints one warning line
 */
import type { Clip } from '../../core/clip.ts';

/**
 * Longest prompt accepted on the command line (the API's limit too): CLIP reads 75 tokens, a few hundred
 * characters, so anything longer is a mistake (and very long command lines crash onnxruntime-node, whose
 * session creation recurses deeply on the main thread's stack).
 *
 * @example
 * checkPromptLengths(texts, '--prompt');
 */
export const MAX_PROMPT_CHARS = 2000;

/**
 * Refuses empty prompts and prompts above {@link MAX_PROMPT_CHARS} characters, naming the option.
 *
 * @example
 * checkPromptLengths(o.text, '--text');
 */
export function checkPromptLengths(texts: string[], flag: string): void {
  texts.forEach((t, i) => {
    if (!t.trim()) throw new Error(`${flag} ${i + 1} is empty`);
    if (t.length > MAX_PROMPT_CHARS)
      throw new Error(
        `${flag} ${i + 1} is ${t.length} characters long, above the limit of ${MAX_PROMPT_CHARS} (CLIP reads only its first 75 tokens, a few hundred characters)`,
      );
  });
}

/** Shortened for a one-line message. */
const shown = (t: string) => JSON.stringify(t.length > 60 ? `${t.slice(0, 59)}…` : t);

/**
 * Writes one warning per distinct prompt longer than the model's context, and returns how many there were.
 *
 * @example
 * reportTruncatedPrompts(clip, targets.flatMap(targetTexts));
 */
export function reportTruncatedPrompts(
  clip: Pick<Clip, 'tokenizer' | 'config'>,
  texts: string[],
  write: (line: string) => void = (line) => process.stderr.write(line),
): number {
  const context = clip.config.text.contextLength;
  let cut = 0;
  for (const text of new Set(texts)) {
    const tokens = clip.tokenizer.encode(text).length; // with the start and end markers
    if (tokens <= context) continue;
    cut++;
    write(
      `artprobe: warning: prompt ${shown(text)} (${text.length} characters) is ${tokens - 2} tokens; CLIP reads only the first ${context - 2}, the rest is cut\n`,
    );
  }
  return cut;
}
