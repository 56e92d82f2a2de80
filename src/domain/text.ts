/**
 * Which characters text from outside may hold: C0 and C1 control characters and lone
 * surrogates carry no meaning in a question, a comment, a title or a file name, and are a classic
 * vehicle for log forging and tokenizer surprises. One rule for every boundary (the HTTP
 * requests, the OpenAI-compatible API, uploads, the LLM's rewritten questions); a text guard
 * rejects them, a reader of untrusted history strips them. Pure.
 */

/**
 * Control characters other than tab, line feed and carriage return (a textarea sends \r\n),
 * DEL and the C1 range, and lone surrogates (a well-formed pair is one character, not matched).
 */
const CONTROL_IN_TEXT = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]|\p{Cs}/u;
/** The same, tab and line breaks included: for one-line values (names, query parameters). */
const CONTROL_IN_LINE = /[\u0000-\u001F\u007F-\u009F]|\p{Cs}/u;

export interface ControlCharOptions {
  /** Whether tab, line feed and carriage return are allowed (multi-line text). Default true. */
  lineBreaks?: boolean;
}

/** True when `text` holds a character no text from outside may hold (see the module comment). */
export function hasControlChars(text: string, options: ControlCharOptions = {}): boolean {
  return (options.lineBreaks === false ? CONTROL_IN_LINE : CONTROL_IN_TEXT).test(text);
}

/** `text` without those characters (tab and line breaks kept unless `lineBreaks` is false). */
export function stripControlChars(text: string, options: ControlCharOptions = {}): string {
  const re = options.lineBreaks === false ? CONTROL_IN_LINE : CONTROL_IN_TEXT;
  return text.replace(new RegExp(re.source, 'gu'), '');
}
