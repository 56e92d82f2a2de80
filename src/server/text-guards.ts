/**
 * The one rule for control characters in what clients send: C0 and C1 control characters except
 * tab, line feed and carriage return (a question pasted from a textarea arrives with \r\n), and
 * lone surrogates. They carry no meaning in a question and are a classic vehicle for log forging
 * and tokenizer surprises, so request fields are rejected for them, not silently stripped (a
 * client that sends them has a bug worth seeing); text the server only carries along (an earlier
 * answer quoted as history) is stripped instead.
 */

const CONTROL_CHARS = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]|\p{Cs}/u;
const CONTROL_CHARS_ALL = new RegExp(CONTROL_CHARS.source, 'gu');
/** Tab and line breaks too: a value that must fit on one line (a query parameter, an id). */
const LINE_BREAKS = /[\t\n\r]/;

export interface ControlCharOptions {
  /** Also refuse tab, line feed and carriage return. Default false. */
  singleLine?: boolean;
}

/** Whether `text` holds a control character (see the rule above). */
export function hasControlChars(text: string, options: ControlCharOptions = {}): boolean {
  return CONTROL_CHARS.test(text) || (options.singleLine === true && LINE_BREAKS.test(text));
}

/** `text` without its control characters (tab and line breaks kept). */
export function stripControlChars(text: string): string {
  return text.replace(CONTROL_CHARS_ALL, '');
}
