// biome-ignore-all lint/suspicious/noControlCharactersInRegex: this module exists to find and fix control characters
/**
 * Text cleaning for CLIP's tokenizer, matching OpenAI's `SimpleTokenizer`:
 * `ftfy.fix_text` (the fixes that matter for prompts), `html.unescape` twice, whitespace collapse, strip, lowercase.
 *
 * `fixText` ports ftfy 6.3.1 `fix_text` with default settings, including its mojibake detection and repair (regexes
 * and code tables generated from ftfy). ftfy leaves dashes (– —) unchanged, and so does this.
 *
 * @example
 * cleanText('Don’t  &amp;amp; “Stop”\n'); // => `don't & "stop"`
 */
import { decodeHTML, decodeHTMLStrict } from 'entities';

/** Python `str.isspace()` characters (Python's `\s`; JS `\s` differs: it lacks \x1c-\x1f and \x85, adds \ufeff). */
const PY_SPACE =
  '\\t\\n\\v\\f\\r\\x1c-\\x20\\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000';
const WHITESPACE_RUN_RE = new RegExp(`[${PY_SPACE}]+`, 'g');
const EDGE_SPACE_RE = new RegExp(`^[${PY_SPACE}]+|[${PY_SPACE}]+$`, 'g');

/**
 * The full cleaning used before BPE: fixText, unescapeHtml twice, whitespace collapse, strip, lowercase.
 *
 * @example
 * cleanText('  A   PHOTO of a Cat '); // => 'a photo of a cat'
 */
export function cleanText(text: string): string {
  const unescaped = unescapeHtml(unescapeHtml(fixText(text)));
  return unescaped.replace(WHITESPACE_RUN_RE, ' ').replace(EDGE_SPACE_RE, '').toLowerCase();
}

// ---------------------------------------------------------------------------------------------------------------
// html.unescape (Python 3 semantics)

/** Python's `html._charref` pattern. */
const CHARREF_RE = /&(#[0-9]+;?|#[xX][0-9a-fA-F]+;?|[^\t\n\f <&#;]{1,32};?)/g;

/** Windows-1252 characters for bytes 0x80-0x9f (undefined bytes map to the same C1 code point, as Python does). */
const CP1252_HIGH =
  '\u20ac\x81\u201a\u0192\u201e\u2026\u2020\u2021\u02c6\u2030\u0160\u2039\u0152\x8d\u017d\x8f' +
  '\x90\u2018\u2019\u201c\u201d\u2022\u2013\u2014\u02dc\u2122\u0161\u203a\u0153\x9d\u017e\u0178';

/** Numeric references that browsers (and Python) treat as errors: the replacement, or '' to drop it. */
function decodeNumericRef(num: number): string {
  if (num === 0) return '\ufffd';
  if (num === 0x0d) return '\r';
  if (num >= 0x80 && num <= 0x9f) return CP1252_HIGH[num - 0x80];
  if ((num >= 0xd800 && num <= 0xdfff) || num > 0x10ffff) return '\ufffd';
  const invalid =
    (num >= 0x1 && num <= 0x8) ||
    num === 0xb ||
    (num >= 0xe && num <= 0x1f) ||
    num === 0x7f ||
    (num >= 0xfdd0 && num <= 0xfdef) ||
    (num & 0xfffe) === 0xfffe;
  return invalid ? '' : String.fromCodePoint(num);
}

/**
 * Python `html.unescape`: named (all HTML5 entities, legacy ones also without ';', longest-prefix rule; decoded
 * by the `entities` package), decimal and hex references, with the HTML5 error handling for invalid code points.
 *
 * @example
 * unescapeHtml('Tom &amp; Jerry &lt;3 &eacute &#x1F600;'); // => 'Tom & Jerry <3 é 😀'
 */
export function unescapeHtml(text: string): string {
  if (!text.includes('&')) return text;
  return text.replace(CHARREF_RE, (whole, ref: string) => {
    if (ref[0] !== '#') return decodeHTML(whole);
    const hex = ref[1] === 'x' || ref[1] === 'X';
    const digits = ref.slice(hex ? 2 : 1).replace(/;$/, '');
    return decodeNumericRef(Number.parseInt(digits, hex ? 16 : 10));
  });
}

// ---------------------------------------------------------------------------------------------------------------
// ftfy.fix_text

const FTFY_ENTITY_RE = /&#?[0-9A-Za-z]{1,24};/g;
const ANSI_ESCAPE_RE = /\x1b\[(?:\p{Nd}|;)*[a-zA-Z]/gu;
const C1_CONTROL_RE = /[\x80-\x9f]/g;
const LIGATURE_RE = /[\u0132\u0133\u0149\u01c4-\u01cc\u01f1-\u01f3\ufb00-\ufb06]/g;
const WIDE_RE = /[\u3000\uff01-\uffef]/g;
const CONTROL_CHAR_RE = /[\x00-\x08\x0b\x0e-\x1f\x7f\u206a-\u206f\ufeff\ufff9-\ufffc]/g;
const LINE_BREAK_RE = /\r\n|[\r\u2028\u2029\x85]/g;
const LONE_SURROGATE_RE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

// ftfy's mojibake detector and byte patterns, generated from ftfy 6.3.1 (badness.BADNESS_RE, chardata.UTF8_DETECTOR_RE,
// chardata.ALTERED_UTF8_RE, chardata.LOSSY_UTF8_RE, fixes.A_GRAVE_WORD_RE) with verbose whitespace removed, Python
// `\s`/`\w` spelled out, and byte patterns written as Latin-1 characters (one char per byte).
const BADNESS_SRC =
  '[\x80-\x9f]|[¦¤¨¬¯¸ƒˆˇ˘˛˜†‡‰⌐◊�ªºßà-ñăąāćčďđęěēėğģįīķĺľłļœŕśşšťüźżžґﬁﬂÀ-ÑØÜÝĂĀĄĆČĎĐĘĚĒĖĞĢİĪĶĹĽŁĻŃŇŅŒŘŚŞŠŢŤŮŰŸŹŻŽҐ│┌┐┘├┤┬┼═-╬▀▄█▌▐░▒▓¡«¿©΄΅‘‚“„•‹\uf8ff®»˝”›™¢£¥₧€²³¹±¼½¾×µ÷⁄∂∆∏∑√∞∩∫≈≠≡≤≥№¶§][¦¤¨¬¯¸ƒˆˇ˘˛˜†‡‰⌐◊�ªº]|[a-zA-Z][α-ωάέήίΰа-џÞΑ-ΩΆΈΉΊΌΎΏΪΫЁ-Я][¦¤¨¬¯¸ƒˆˇ˘˛˜†‡‰⌐◊�ªº]|[¦¤¨¬¯¸ƒˆˇ˘˛˜†‡‰⌐◊�ªº][ßà-ñăąāćčďđęěēėğģįīķĺľłļœŕśşšťüźżžґﬁﬂÀ-ÑØÜÝĂĀĄĆČĎĐĘĚĒĖĞĢİĪĶĹĽŁĻŃŇŅŒŘŚŞŠŢŤŮŰŸŹŻŽҐ│┌┐┘├┤┬┼═-╬▀▄█▌▐░▒▓¡«¿©΄΅‘‚“„•‹\uf8ff®»˝”›™¢£¥₧€²³¹±¼½¾×µ÷⁄∂∆∏∑√∞∩∫≈≠≡≤≥№¶§]|[ßà-ñăąāćčďđęěēėğģįīķĺľłļœŕśşšťüźżžґﬁﬂα-ωάέήίΰа-џ│┌┐┘├┤┬┼═-╬▀▄█▌▐░▒▓®»˝”›™¢£¥₧€²³¹±¼½¾×µ÷⁄∂∆∏∑√∞∩∫≈≠≡≤≥№][À-ÑØÜÝĂĀĄĆČĎĐĘĚĒĖĞĢİĪĶĹĽŁĻŃŇŅŒŘŚŞŠŢŤŮŰŸŹŻŽҐ]|[│┌┐┘├┤┬┼═-╬▀▄█▌▐░▒▓®»˝”›™¢£¥₧€²³¹±¼½¾×µ÷⁄∂∆∏∑√∞∩∫≈≠≡≤≥№][ßà-ñăąāćčďđęěēėğģįīķĺľłļœŕśşšťüźżžґﬁﬂ]|[ßà-ñăąāćčďđęěēėğģįīķĺľłļœŕśşšťüźżžґﬁﬂ│┌┐┘├┤┬┼═-╬▀▄█▌▐░▒▓®»˝”›™][¢£¥₧€]|[\\t\\n\\v\\f\\r\\x1c-\\x20\\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000][À-ÑØÜÝĂĀĄĆČĎĐĘĚĒĖĞĢİĪĶĹĽŁĻŃŇŅŒŘŚŞŠŢŤŮŰŸŹŻŽҐ][¢£¥₧€]|[À-ÑØÜÝĂĀĄĆČĎĐĘĚĒĖĞĢİĪĶĹĽŁĻŃŇŅŒŘŚŞŠŢŤŮŰŸŹŻŽҐ│┌┐┘├┤┬┼═-╬▀▄█▌▐░▒▓][²³¹±¼½¾×µ÷⁄∂∆∏∑√∞∩∫≈≠≡≤≥№¶§]|[ßà-ñăąāćčďđęěēėğģįīķĺľłļœŕśşšťüźżžґﬁﬂÀ-ÑØÜÝĂĀĄĆČĎĐĘĚĒĖĞĢİĪĶĹĽŁĻŃŇŅŒŘŚŞŠŢŤŮŰŸŹŻŽҐ│┌┐┘├┤┬┼═-╬▀▄█▌▐░▒▓¢£¥₧€®»˝”›™][¡«¿©΄΅‘‚“„•‹\uf8ff][²³¹±¼½¾×µ÷⁄∂∆∏∑√∞∩∫≈≠≡≤≥№]|[ßà-ñăąāćčďđęěēėğģįīķĺľłļœŕśşšťüźżžґﬁﬂÀ-ÑØÜÝĂĀĄĆČĎĐĘĚĒĖĞĢİĪĶĹĽŁĻŃŇŅŒŘŚŞŠŢŤŮŰŸŹŻŽҐ¢£¥₧€²³¹±¼½¾×µ÷⁄∂∆∏∑√∞∩∫≈≠≡≤≥№│┌┐┘├┤┬┼═-╬▀▄█▌▐░▒▓¶§][®»˝”›™][¡«¿©΄΅‘‚“„•‹\uf8ff]|[¢£¥₧€²³¹±¼½¾×µ÷⁄∂∆∏∑√∞∩∫≈≠≡≤≥№│┌┐┘├┤┬┼═-╬▀▄█▌▐░▒▓][¡«¿©΄΅‘‚“„•‹\uf8ff]|[a-z][À-ÑØÜÝĂĀĄĆČĎĐĘĚĒĖĞĢİĪĶĹĽŁĻŃŇŅŒŘŚŞŠŢŤŮŰŸŹŻŽҐ][¡«¿©΄΅‘‚“„•‹\uf8ff¢£¥₧€]|[│┌┐┘├┤┬┼═-╬▀▄█▌▐░▒▓][Ò-ÖÙ-Üò-öø-üŐŌŪŲ°]|[ßà-ñăąāćčďđęěēėğģįīķĺľłļœŕśşšťüźżžґﬁﬂÀ-ÑØÜÝĂĀĄĆČĎĐĘĚĒĖĞĢİĪĶĹĽŁĻŃŇŅŒŘŚŞŠŢŤŮŰŸŹŻŽҐ¢£¥₧€²³¹±¼½¾×µ÷⁄∂∆∏∑√∞∩∫≈≠≡≤≥№¡«¿©΄΅‘‚“„•‹\uf8ff®»˝”›™¶§][│┌┐┘├┤┬┼═-╬▀▄█▌▐░▒▓]|[│┌┐┘├┤┬┼═-╬▀▄█▌▐░▒▓][®»˝”›™]|[ßà-ñăąāćčďđęěēėğģįīķĺľłļœŕśşšťüźżžґﬁﬂÀ-ÑØÜÝĂĀĄĆČĎĐĘĚĒĖĞĢİĪĶĹĽŁĻŃŇŅŒŘŚŞŠŢŤŮŰŸŹŻŽҐ][¡«¿©΄΅‘‚“„•‹\uf8ff®»˝”›™][\\p{L}\\p{N}_]|[Œœ][^A-Za-z]|[À-ÑØÜÝĂĀĄĆČĎĐĘĚĒĖĞĢİĪĶĹĽŁĻŃŇŅŒŘŚŞŠŢŤŮŰŸŹŻŽҐ]°|[ÂÃÎÐ][€œŠš¢£Ÿž\\xa0\\xad®©°·»¡«¿©΄΅‘‚“„•‹\uf8ff®»˝”›™–—´]|×[²³]|[ØÙ][\xa0\xad·´–—―…’¢£¥₧€¦¤¨¬¯¸ƒˆˇ˘˛˜†‡‰⌐◊�ªº²³¹±¼½¾×µ÷⁄∂∆∏∑√∞∩∫≈≠≡≤≥№¡«¿©΄΅‘‚“„•‹\uf8ffŸŠ®°µ»][ØÙ][\xa0\xad·´–—―…’¢£¥₧€¦¤¨¬¯¸ƒˆˇ˘˛˜†‡‰⌐◊�ªº²³¹±¼½¾×µ÷⁄∂∆∏∑√∞∩∫≈≠≡≤≥№¡«¿©΄΅‘‚“„•‹\uf8ffŸŠ®°µ»]|à[²µ¹¼½¾]|√[±∂†≠®™´≤≥¥µø]|≈[°¢]|‚Ä[ìîïòôúùû†°¢π]|‚[âó][àä°ê]|вЂ|[ВГРС][\x80-\x9f¦¤¨¬¯¸ƒˆˇ˘˛˜†‡‰⌐◊�ªº¡«¿©΄΅‘‚“„•‹\uf8ff®»˝”›™¢£¥₧€°µ][ВГРС]|ГўВЂВ[^\\n][A-Za-z ]|Ã[\\xa0¡]|[a-z][\\t\\n\\v\\f\\r\\x1c-\\x20\\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000]?[ÃÂ][ ]|^[ÃÂ][ ]|[a-z.,?!®»˝”›™]Â[ ¡«¿©΄΅‘‚“„•‹\uf8ff®»˝”›™]|β€[™\\xa0Ά\\xad®°]|[ΒΓΞΟ][\x80-\x9f¦¤¨¬¯¸ƒˆˇ˘˛˜†‡‰⌐◊�ªº¡«¿©΄΅‘‚“„•‹\uf8ff®»˝”›™¢£¥₧€°][ΒΓΞΟ]|ā€';
const UTF8_DETECTOR_SRC =
  '(?<![\x80-¿ĄÆĽŁØŖŚŠŞŤŸŹŽŻŒąæƒľłøŗśšşťźžżœˆˇ˘˛˜˝΄΅ΆΈΉΊΌΎΏЁЂЃЄЅІЇЈЉЊЋЌЎЏёђѓєѕіїјљњћќўџҐґ†‡‰‹›€№™])([ĂÂÄĀÅÃÆĆČÇĎĐÉĚÊËĖÈĒĘÐĞĢÍÎÏİÌĪĶĹĻŁŃŇŅÑÓÔÖŐÒŌØÕŘŚŠŞŢÞÚÛÜŰÙŪŲŮÝŹŽŻß×ΒΓΔΕΖΗΘΙΚΛΜΝΞΟΠΡΣΤΥΦΧΨΩΪΫάέήίВГДЕЖЗИЙКЛМНОПРСТУФХЦЧШЩЪЫЬЭЮЯ][\x80-¿ ĄÆĽŁØŖŚŠŞŤŸŹŽŻŒąæƒľłøŗśšşťźžżœˆˇ˘˛˜˝΄΅ΆΈΉΊΌΎΏЁЂЃЄЅІЇЈЉЊЋЌЎЏёђѓєѕіїјљњћќўџҐґ–—―‘’‚“”„†‡•…‰‹›€№™]|[áăâäàāąåãæćčçďéěêëėèēęęģíîïìīįķĺļŕźΰαβγδεζηθικλμνξοабвгдежзийклмноп][\x80-¿ ĄÆĽŁØŖŚŠŞŤŸŹŽŻŒąæƒľłøŗśšşťźžżœˆˇ˘˛˜˝΄΅ΆΈΉΊΌΎΏЁЂЃЄЅІЇЈЉЊЋЌЎЏёђѓєѕіїјљњћќўџҐґ–—―‘’‚“”„†‡•…‰‹›€№™]{2}|[đðğóšπσру][\x80-¿ ĄÆĽŁØŖŚŠŞŤŸŹŽŻŒąæƒľłøŗśšşťźžżœˆˇ˘˛˜˝΄΅ΆΈΉΊΌΎΏЁЂЃЄЅІЇЈЉЊЋЌЎЏёђѓєѕіїјљњћќўџҐґ–—―‘’‚“”„†‡•…‰‹›€№™]{3})+';
const ALTERED_UTF8_SRC =
  '[ÂÃÅÎÐÙ][ ]|[âã][ ][\x80-\x84\x86-\x9f¡-¿]|[à-ã][\x80-\x84\x86-\x9f¡-¿][ ]|[ð][ ][\x80-¿][\x80-¿]|[ð][\x80-¿][ ][\x80-¿]|[ð][\x80-¿][\x80-¿][ ]';
const LOSSY_UTF8_SRC =
  '[Â-ß][\x1a]|[Â-Ã][?]|í[\xa0-¯][\x1a?]í[°-¿][\x1a?\x80-¿]|í[\xa0-¯][\x1a?\x80-¿]í[°-¿][\x1a?]|[à-ï][\x1a?][\x1a\x80-¿]|[à-ï][\x1a\x80-¿][\x1a?]|[ð-ô][\x1a?][\x1a\x80-¿][\x1a\x80-¿]|[ð-ô][\x1a\x80-¿][\x1a?][\x1a\x80-¿]|[ð-ô][\x1a\x80-¿][\x1a\x80-¿][\x1a?]|\x1a';
const A_GRAVE_WORD_SRC = 'Ã (?! |quele|quela|quilo|s )';
const BADNESS_RE = new RegExp(BADNESS_SRC, 'u');
const UTF8_DETECTOR_RE = new RegExp(UTF8_DETECTOR_SRC, 'gu');
const ALTERED_UTF8_RE = new RegExp(ALTERED_UTF8_SRC, 'g');
const LOSSY_UTF8_RE = new RegExp(LOSSY_UTF8_SRC, 'g');
const A_GRAVE_WORD_RE = new RegExp(A_GRAVE_WORD_SRC, 'g');
const CESU8_RE = /\xed[\xa0-\xaf][\x80-\xbf]\xed[\xb0-\xbf][\x80-\xbf]/g;
const utf8Strict = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
/** ftfy CHARMAP_ENCODINGS, in its order: the characters for bytes 0x80-0xff, then for byte 0x1a. */
const CHARMAPS: [string, string][] = [
  [
    'latin-1',
    '\x80\x81\x82\x83\x84\x85\x86\x87\x88\x89\x8a\x8b\x8c\x8d\x8e\x8f\x90\x91\x92\x93\x94\x95\x96\x97\x98\x99\x9a\x9b\x9c\x9d\x9e\x9f\xa0¡¢£¤¥¦§¨©ª«¬\xad®¯°±²³´µ¶·¸¹º»¼½¾¿ÀÁÂÃÄÅÆÇÈÉÊËÌÍÎÏÐÑÒÓÔÕÖ×ØÙÚÛÜÝÞßàáâãäåæçèéêëìíîïðñòóôõö÷øùúûüýþÿ\x1a',
  ],
  [
    'sloppy-windows-1252',
    '€\x81‚ƒ„…†‡ˆ‰Š‹Œ\x8dŽ\x8f\x90‘’“”•–—˜™š›œ\x9džŸ\xa0¡¢£¤¥¦§¨©ª«¬\xad®¯°±²³´µ¶·¸¹º»¼½¾¿ÀÁÂÃÄÅÆÇÈÉÊËÌÍÎÏÐÑÒÓÔÕÖ×ØÙÚÛÜÝÞßàáâãäåæçèéêëìíîïðñòóôõö÷øùúûüýþÿ�',
  ],
  [
    'sloppy-windows-1251',
    'ЂЃ‚ѓ„…†‡€‰Љ‹ЊЌЋЏђ‘’“”•–—\x98™љ›њќћџ\xa0ЎўЈ¤Ґ¦§Ё©Є«¬\xad®Ї°±Ііґµ¶·ё№є»јЅѕїАБВГДЕЖЗИЙКЛМНОПРСТУФХЦЧШЩЪЫЬЭЮЯабвгдежзийклмнопрстуфхцчшщъыьэюя�',
  ],
  [
    'sloppy-windows-1250',
    '€\x81‚\x83„…†‡\x88‰Š‹ŚŤŽŹ\x90‘’“”•–—\x98™š›śťžź\xa0ˇ˘Ł¤Ą¦§¨©Ş«¬\xad®Ż°±˛ł´µ¶·¸ąş»Ľ˝ľżŔÁÂĂÄĹĆÇČÉĘËĚÍÎĎĐŃŇÓÔŐÖ×ŘŮÚŰÜÝŢßŕáâăäĺćçčéęëěíîďđńňóôőö÷řůúűüýţ˙�',
  ],
  [
    'sloppy-windows-1253',
    '€\x81‚ƒ„…†‡\x88‰\x8a‹\x8c\x8d\x8e\x8f\x90‘’“”•–—\x98™\x9a›\x9c\x9d\x9e\x9f\xa0΅Ά£¤¥¦§¨©ª«¬\xad®―°±²³΄µ¶·ΈΉΊ»Ό½ΎΏΐΑΒΓΔΕΖΗΘΙΚΛΜΝΞΟΠΡÒΣΤΥΦΧΨΩΪΫάέήίΰαβγδεζηθικλμνξοπρςστυφχψωϊϋόύώÿ�',
  ],
  [
    'sloppy-windows-1254',
    '€\x81‚ƒ„…†‡ˆ‰Š‹Œ\x8d\x8e\x8f\x90‘’“”•–—˜™š›œ\x9d\x9eŸ\xa0¡¢£¤¥¦§¨©ª«¬\xad®¯°±²³´µ¶·¸¹º»¼½¾¿ÀÁÂÃÄÅÆÇÈÉÊËÌÍÎÏĞÑÒÓÔÕÖ×ØÙÚÛÜİŞßàáâãäåæçèéêëìíîïğñòóôõö÷øùúûüışÿ�',
  ],
  [
    'sloppy-windows-1257',
    '€\x81‚\x83„…†‡\x88‰\x8a‹\x8c¨ˇ¸\x90‘’“”•–—\x98™\x9a›\x9c¯˛\x9f\xa0¡¢£¤¥¦§Ø©Ŗ«¬\xad®Æ°±²³´µ¶·ø¹ŗ»¼½¾æĄĮĀĆÄÅĘĒČÉŹĖĢĶĪĻŠŃŅÓŌÕÖ×ŲŁŚŪÜŻŽßąįāćäåęēčéźėģķīļšńņóōõö÷ųłśūüżž˙�',
  ],
  [
    'iso-8859-2',
    '\x80\x81\x82\x83\x84\x85\x86\x87\x88\x89\x8a\x8b\x8c\x8d\x8e\x8f\x90\x91\x92\x93\x94\x95\x96\x97\x98\x99\x9a\x9b\x9c\x9d\x9e\x9f\xa0Ą˘Ł¤ĽŚ§¨ŠŞŤŹ\xadŽŻ°ą˛ł´ľśˇ¸šşťź˝žżŔÁÂĂÄĹĆÇČÉĘËĚÍÎĎĐŃŇÓÔŐÖ×ŘŮÚŰÜÝŢßŕáâăäĺćçčéęëěíîďđńňóôőö÷řůúűüýţ˙\x1a',
  ],
  [
    'macroman',
    'ÄÅÇÉÑÖÜáàâäãåçéèêëíìîïñóòôöõúùûü†°¢£§•¶ß®©™´¨≠ÆØ∞±≤≥¥µ∂∑∏π∫ªºΩæø¿¡¬√ƒ≈∆«»…\xa0ÀÃÕŒœ–—“”‘’÷◊ÿŸ⁄€‹›ﬁﬂ‡·‚„‰ÂÊÁËÈÍÎÏÌÓÔ\uf8ffÒÚÛÙıˆ˜¯˘˙˚¸˝˛ˇ\x1a',
  ],
  [
    'cp437',
    'ÇüéâäàåçêëèïîìÄÅÉæÆôöòûùÿÖÜ¢£¥₧ƒáíóúñÑªº¿⌐¬½¼¡«»░▒▓│┤╡╢╖╕╣║╗╝╜╛┐└┴┬├─┼╞╟╚╔╩╦╠═╬╧╨╤╥╙╘╒╓╫╪┘┌█▄▌▐▀αßΓπΣσµτΦΘΩδ∞φε∩≡±≥≤⌠⌡÷≈°∙·√ⁿ²■\xa0\x1a',
  ],
];
/** Per encoding: character -> byte for the non-ASCII bytes and 0x1a (U+FFFD in the sloppy-* codecs). */
const CHARMAP_ENCODERS = CHARMAPS.map(([name, chars]): [string, Map<string, number>] => [
  name,
  new Map(Array.from(chars, (ch, i) => [ch, i < 128 ? 0x80 + i : 0x1a])),
]);

/** ftfy `is_bad`: does the text contain a sequence that looks like mojibake? */
function isBad(text: string): boolean {
  return BADNESS_RE.test(text);
}

/** Encode to a byte string (one char per byte) with a single-byte charmap; null when a character has no byte. */
function encodeSingleByte(text: string, charmap: Map<string, number>): string | null {
  let out = '';
  for (const ch of text) {
    if (ch < '\x80' && ch !== '\x1a') out += ch;
    else {
      const b = charmap.get(ch);
      if (b === undefined) return null;
      out += String.fromCharCode(b);
    }
  }
  return out;
}

/** ftfy's `utf-8-variants` decoding of a byte string (CESU-8 surrogate pairs, Java's C0 80 null); null if invalid. */
function decodeUtf8Variants(bytes: string): string | null {
  let b = bytes;
  if (b.includes('\xed') || b.includes('\xc0')) {
    b = b.replace(CESU8_RE, (m) => {
      const c = m.split('').map((x) => x.charCodeAt(0));
      const cp =
        ((c[1] & 0x0f) << 16) + ((c[2] & 0x3f) << 10) + ((c[4] & 0x0f) << 6) + (c[5] & 0x3f) + 0x10000;
      return String.fromCharCode(
        0xf0 | (cp >> 18),
        0x80 | ((cp >> 12) & 0x3f),
        0x80 | ((cp >> 6) & 0x3f),
        0x80 | (cp & 0x3f),
      );
    });
    b = b.replaceAll('\xc0\x80', '\x00');
  }
  try {
    return utf8Strict.decode(Uint8Array.from(b, (ch) => ch.charCodeAt(0)));
  } catch {
    return null;
  }
}

/**
 * One step of ftfy `fix_encoding`: UTF-8 misread in a single-byte encoding (the whole text), then embedded
 * mojibake runs, then Latin-1 C1 controls as Windows-1252.
 */
function fixEncodingOnce(text: string): string {
  if (/^[\x00-\x7f]*$/.test(text) || !isBad(text)) return text;
  for (const [name, charmap] of CHARMAP_ENCODERS) {
    let bytes = encodeSingleByte(text, charmap);
    if (bytes === null) continue;
    if (ALTERED_UTF8_RE.test(bytes)) {
      ALTERED_UTF8_RE.lastIndex = 0;
      bytes = bytes
        .replace(A_GRAVE_WORD_RE, '\xc3\xa0 ')
        .replace(ALTERED_UTF8_RE, (m) => m.replaceAll(' ', '\xa0'));
    }
    if (name.startsWith('sloppy')) bytes = bytes.replace(LOSSY_UTF8_RE, '\xef\xbf\xbd');
    const decoded = decodeUtf8Variants(bytes);
    if (decoded !== null) return decoded;
  }
  const inconsistent = text.replace(UTF8_DETECTOR_RE, (m) =>
    m.length < text.length && isBad(m) ? fixEncoding(m) : m,
  );
  if (inconsistent !== text) return inconsistent;
  if (/^[\x00-\xff]*$/.test(text) && !/[\x81\x8d\x8f\x90\x9d]/.test(text)) {
    // Latin-1 text with C1 controls: ftfy re-decodes it as (strict) Windows-1252
    const fixed = text.replace(C1_CONTROL_RE, (c) => CP1252_HIGH[c.charCodeAt(0) - 0x80]);
    if (fixed !== text) return fixed;
  }
  return text.replace(C1_CONTROL_RE, (c) => CP1252_HIGH[c.charCodeAt(0) - 0x80]);
}

/** ftfy `fix_encoding`: repeat single steps until the text stops changing. */
function fixEncoding(text: string): string {
  let t = text;
  for (let i = 0; i < 16; i++) {
    const next = fixEncodingOnce(t);
    if (next === t) break;
    t = next;
  }
  return t;
}

/**
 * ftfy's `unescape_html`: only `&...;` forms (HTML5 names exactly, numeric as html.unescape), plus upper-cased
 * forms of all-lowercase names that are not entities themselves, like `&EACUTE;` -> 'É'.
 */
function unescapeHtmlFtfy(text: string): string {
  if (!text.includes('&')) return text;
  return text.replace(FTFY_ENTITY_RE, (ref) => {
    if (ref.startsWith('&#')) {
      const decoded = unescapeHtml(ref);
      return decoded.includes(';') ? ref : decoded;
    }
    const named = decodeHTMLStrict(ref);
    if (named !== ref) return named;
    const lower = ref.toLowerCase();
    if (ref !== lower.toUpperCase() || unescapeHtml(ref) !== ref) return ref;
    const value = decodeHTMLStrict(lower);
    return value === lower ? ref : value.toUpperCase();
  });
}

/** NFKC replacements for ftfy's ligature and character-width fixes, memoised per character. */
const nfkcMemo = new Map<string, string>([['\u3000', ' ']]);
function toNfkc(c: string): string {
  let v = nfkcMemo.get(c);
  if (v === undefined) {
    v = c.normalize('NFKC');
    nfkcMemo.set(c, v);
  }
  return v;
}

/** One pass of ftfy's fixers, in ftfy's order (`fix_and_explain`). */
function fixOnce(text: string, html: boolean): string {
  let t = html ? unescapeHtmlFtfy(text) : text;
  t = fixEncoding(t);
  t = t.replace(C1_CONTROL_RE, (c) => CP1252_HIGH[c.charCodeAt(0) - 0x80]);
  t = t.replace(LIGATURE_RE, toNfkc).replace(WIDE_RE, toNfkc);
  t = t.replace(/[\u02bc\u2018-\u201b]/g, "'").replace(/[\u201c-\u201f]/g, '"');
  t = t.replace(LINE_BREAK_RE, '\n');
  t = t.replace(LONE_SURROGATE_RE, '\ufffd');
  t = t.replace(ANSI_ESCAPE_RE, '').replace(CONTROL_CHAR_RE, '');
  return t.normalize('NFC');
}

/**
 * ftfy 6.3 `fix_text` with default settings (see the module note for the mojibake approximation):
 * HTML entities (skipped from the first line that contains '<' on), mojibake, C1 controls as Windows-1252,
 * Latin ligatures, full-width characters, curly quotes to straight ones, line breaks, lone surrogates to U+FFFD,
 * terminal escapes and control characters removed, NFC; repeated until nothing changes.
 *
 * @example
 * fixText('don’t “quote” ﬁne Ｃａｔ'); // => `don't "quote" fine Cat`
 */
export function fixText(text: string): string {
  let html = true;
  let out = '';
  for (const line of text.split(/(?<=\n)/)) {
    if (html && line.includes('<')) html = false;
    let fixed = line;
    for (let i = 0; i < 16; i++) {
      const next = fixOnce(fixed, html);
      if (next === fixed) break;
      fixed = next;
    }
    out += fixed;
  }
  return out;
}
