/**
 * The model's tokenizer (BERT WordPiece, as bge-small-zh's tokenizer.json describes it), written
 * to give exactly the ids of Transformers.js 2.x's PreTrainedTokenizer, which the stored indexes
 * were built with. Transformers.js' tokenizer module and its tables cost about 30 MB of RSS in
 * every embedding worker thread; this keeps only the vocabulary.
 *
 * Where Transformers.js differs from the Python/Rust tokenizers, this follows Transformers.js
 * (see the comments below): ids must not change under an existing index.
 */
import fs from 'node:fs';
import path from 'node:path';

/** One int64 tensor as onnxruntime takes it: row-major data and [batch, sequence]. */
export interface TokenTensor {
  data: BigInt64Array;
  dims: [number, number];
}

export interface BatchEncoding {
  input_ids: TokenTensor;
  attention_mask: TokenTensor;
  token_type_ids: TokenTensor;
}

export interface WordPieceTokenizer {
  /** tokenizer_config.json's model_max_length (Infinity when absent or not a number). */
  modelMaxLength: number;
  /**
   * Encodes texts with [CLS]/[SEP], cut to at most maxLength tokens and padded to the longest
   * of the batch, as Transformers.js' `tokenizer(texts, { padding: true, truncation: true })`
   * with model_max_length set to maxLength.
   */
  encode(texts: string[], maxLength: number): BatchEncoding;
  /** The ids of one text with [CLS]/[SEP], untruncated. */
  ids(text: string): number[];
}

// Transformers.js' PUNCTUATION_REGEX: \p{P} plus every ASCII symbol (so $, +, <, ^, ` split words,
// as in BERT's basic tokenizer), while non-ASCII symbols (\p{S}: ￥, emoji) stay inside words.
const PUNCTUATION = '\\p{P}\\u0021-\\u002F\\u003A-\\u0040\\u005B-\\u0060\\u007B-\\u007E';
const PRE_TOKEN = new RegExp(`[^\\s${PUNCTUATION}]+|[${PUNCTUATION}]`, 'gu');
const CONTROL = /^[\p{Cc}\p{Cf}\p{Co}\p{Cs}]$/u;
// Without the u flag, as Transformers.js tests it; only BMP characters can match either way.
const WHITESPACE = /^\s$/;
const SURROGATE = /[\uD800-\uDFFF]/;

/**
 * Transformers.js tests CJK ranges on UTF-16 code units, so ideographs outside the BMP
 * (extensions B-F, compatibility supplement) are never spaced out and stay inside the
 * surrounding word, unlike in the Rust tokenizer. Only the BMP ranges can match.
 */
function isSpacedCjk(code: number): boolean {
  return (code >= 0x4e00 && code <= 0x9fff) || (code >= 0x3400 && code <= 0x4dbf) || (code >= 0xf900 && code <= 0xfaff);
}

/** BertNormalizer with clean_text and handle_chinese_chars, no lower-casing, no accent stripping. */
function normalize(text: string): string {
  let out = '';
  for (const char of text) {
    const code = char.charCodeAt(0);
    if (code < 0x80) {
      // Fast path for ASCII; the same decisions as below.
      if (code === 9 || code === 10 || code === 13 || code === 32) out += ' ';
      else if (code >= 0x21 && code !== 0x7f) out += char;
      continue;
    }
    if (code === 0xfffd || CONTROL.test(char)) continue;
    if (isSpacedCjk(code)) out += ` ${char} `;
    else if (WHITESPACE.test(char)) out += ' ';
    else out += char;
  }
  return out;
}

interface Settings {
  vocab: Map<string, number>;
  unkId: number;
  padId: number;
  prefix: string;
  maxInputChars: number;
  /** Longest vocabulary entry in code points: no longer piece can match. */
  longestEntry: number;
  /** [CLS] and [SEP] with their type ids, from the post-processor's template. */
  head: { id: number; typeId: number };
  sequenceTypeId: number;
  tail: { id: number; typeId: number };
  added: Array<{ content: string; id: number }>;
  addedPattern: RegExp | null;
  modelMaxLength: number;
}

function refuse(file: string, what: string): never {
  throw new Error(`${file}: ${what}; src/embed/wordpiece.ts implements only BERT WordPiece (BertNormalizer clean_text + handle_chinese_chars without lowercase or strip_accents, BertPreTokenizer, TemplateProcessing [CLS] A [SEP])`);
}

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

function readSettings(modelPath: string): Settings {
  const file = path.join(modelPath, 'tokenizer.json');
  const json = JSON.parse(fs.readFileSync(file, 'utf8')) as Json;
  const normalizer = json.normalizer;
  if (!isObject(normalizer) || normalizer.type !== 'BertNormalizer') refuse(file, `normalizer ${JSON.stringify((normalizer as Json | null)?.type)} is not BertNormalizer`);
  // lowercase false with strip_accents null or false: Transformers.js neither lower-cases nor strips.
  if (normalizer.clean_text !== true || normalizer.handle_chinese_chars !== true || normalizer.lowercase !== false || (normalizer.strip_accents !== null && normalizer.strip_accents !== false)) {
    refuse(file, `BertNormalizer settings ${JSON.stringify(normalizer)} differ`);
  }
  const pre = json.pre_tokenizer;
  if (!isObject(pre) || pre.type !== 'BertPreTokenizer') refuse(file, `pre_tokenizer ${JSON.stringify((pre as Json | null)?.type)} is not BertPreTokenizer`);
  const model = json.model;
  if (!isObject(model) || model.type !== 'WordPiece' || !isObject(model.vocab)) refuse(file, `model ${JSON.stringify((model as Json | null)?.type)} is not WordPiece with a vocab`);
  if (model.fuse_unk !== undefined && model.fuse_unk !== false) refuse(file, 'WordPiece fuse_unk is set');
  const prefix = model.continuing_subword_prefix ?? '##';
  const unk = model.unk_token;
  const maxInputChars = model.max_input_chars_per_word ?? 100;
  if (typeof prefix !== 'string' || typeof unk !== 'string' || typeof maxInputChars !== 'number') refuse(file, 'WordPiece unk_token, continuing_subword_prefix or max_input_chars_per_word is malformed');

  const vocab = new Map<string, number>();
  let longestEntry = 0;
  for (const [token, id] of Object.entries(model.vocab)) {
    if (typeof id !== 'number') refuse(file, `vocab entry ${token} has no numeric id`);
    vocab.set(token, id);
  }
  // Transformers.js puts added tokens into the model's lookup as well, over the vocab.
  const added: Settings['added'] = [];
  for (const token of Array.isArray(json.added_tokens) ? (json.added_tokens as unknown[]) : []) {
    if (!isObject(token) || typeof token.content !== 'string' || typeof token.id !== 'number') refuse(file, 'malformed added_tokens entry');
    // lstrip/rstrip change how Transformers.js splits them out of the text; not implemented.
    if (token.lstrip === true || token.rstrip === true) refuse(file, `added token ${token.content} has lstrip/rstrip`);
    added.push({ content: token.content, id: token.id });
    vocab.set(token.content, token.id);
  }
  for (const token of vocab.keys()) {
    const length = SURROGATE.test(token) ? [...token].length : token.length;
    if (length > longestEntry) longestEntry = length;
  }
  const unkId = vocab.get(unk);
  if (unkId === undefined) refuse(file, `unk_token ${unk} is not in the vocab`);

  const post = json.post_processor;
  const single = isObject(post) && post.type === 'TemplateProcessing' && Array.isArray(post.single) ? (post.single as unknown[]) : null;
  const special = (item: unknown): { id: number; typeId: number } | null => {
    const token = isObject(item) && isObject(item.SpecialToken) ? item.SpecialToken : null;
    const id = token && typeof token.id === 'string' ? vocab.get(token.id) : undefined;
    return token && id !== undefined && typeof token.type_id === 'number' ? { id, typeId: token.type_id } : null;
  };
  const sequence = single?.[1];
  const sequenceTypeId = isObject(sequence) && isObject(sequence.Sequence) && sequence.Sequence.id === 'A' ? sequence.Sequence.type_id : undefined;
  const head = special(single?.[0]);
  const tail = special(single?.[2]);
  if (!single || single.length !== 3 || !head || !tail || typeof sequenceTypeId !== 'number') refuse(file, 'post_processor is not a TemplateProcessing of special token, A, special token');

  const configFile = path.join(modelPath, 'tokenizer_config.json');
  const config = fs.existsSync(configFile) ? (JSON.parse(fs.readFileSync(configFile, 'utf8')) as Json) : {};
  // Transformers.js gives token_type_ids for BertTokenizer; other classes change that and more.
  if (config.tokenizer_class !== undefined && config.tokenizer_class !== 'BertTokenizer' && config.tokenizer_class !== 'BertTokenizerFast') refuse(configFile, `tokenizer_class ${String(config.tokenizer_class)} is not BertTokenizer`);
  if (config.remove_space === true || config.do_lowercase_and_remove_accent === true) refuse(configFile, 'remove_space or do_lowercase_and_remove_accent is set');
  const padToken = config.pad_token ?? config.eos_token;
  const padId = typeof padToken === 'string' ? vocab.get(padToken) : undefined;
  if (padId === undefined) refuse(configFile, `pad_token ${JSON.stringify(padToken)} is not in the vocab`);

  // As Transformers.js builds it: the first alternative matching at the leftmost position wins.
  const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const addedPattern = added.length > 0 ? new RegExp(added.map((t) => `(${escape(t.content)})`).join('|')) : null;
  return {
    vocab,
    unkId,
    padId,
    prefix,
    maxInputChars,
    longestEntry,
    head,
    sequenceTypeId,
    tail,
    added,
    addedPattern,
    modelMaxLength: typeof config.model_max_length === 'number' ? config.model_max_length : Infinity,
  };
}

/** Reads tokenizer.json and tokenizer_config.json of a model folder; throws on a tokenizer it does not implement. */
export function loadWordPiece(modelPath: string): WordPieceTokenizer {
  const s = readSettings(modelPath);
  const { vocab, unkId, prefix, maxInputChars, longestEntry } = s;

  const pushWord = (word: string, out: number[]): void => {
    // Code points, as Transformers.js counts and slices; strings without surrogates slice as they are.
    const chars = SURROGATE.test(word) ? [...word] : null;
    const length = chars ? chars.length : word.length;
    if (length > maxInputChars) {
      out.push(unkId);
      return;
    }
    const mark = out.length;
    let start = 0;
    while (start < length) {
      let end = Math.min(length, start + longestEntry);
      let found: number | undefined;
      for (; end > start; end--) {
        const piece = chars ? chars.slice(start, end).join('') : word.slice(start, end);
        found = vocab.get(start > 0 ? prefix + piece : piece);
        if (found !== undefined) break;
      }
      if (found === undefined) {
        out.length = mark;
        out.push(unkId);
        return;
      }
      out.push(found);
      start = end;
    }
  };

  const pushSection = (section: string, out: number[]): void => {
    const normalized = normalize(section);
    for (const match of normalized.trim().matchAll(PRE_TOKEN)) pushWord(match[0], out);
  };

  const ids = (text: string): number[] => {
    const out = [s.head.id];
    if (s.addedPattern) {
      // String.split with capture groups, empties and unmatched groups dropped: Transformers.js'
      // way of keeping special tokens written in the text whole, before normalisation.
      for (const section of text.split(s.addedPattern)) {
        if (!section) continue;
        const token = s.added.find((t) => t.content === section);
        if (token) out.push(token.id);
        else pushSection(section, out);
      }
    } else {
      pushSection(text, out);
    }
    out.push(s.tail.id);
    return out;
  };

  return {
    modelMaxLength: s.modelMaxLength,
    ids,
    encode(texts: string[], maxLength: number): BatchEncoding {
      if (texts.length === 0) throw new Error('wordpiece: no texts to encode');
      const rows = texts.map(ids);
      // Transformers.js cuts at the limit without putting [SEP] back at the end (the Rust
      // tokenizer would keep it); vectors of long chunks in existing indexes depend on that.
      const width = Math.min(
        maxLength,
        rows.reduce((m, r) => Math.max(m, r.length), 0),
      );
      const inputIds = new BigInt64Array(rows.length * width);
      const mask = new BigInt64Array(rows.length * width);
      const types = new BigInt64Array(rows.length * width);
      const pad = BigInt(s.padId);
      rows.forEach((row, r) => {
        const offset = r * width;
        const used = Math.min(width, row.length);
        for (let i = 0; i < width; i++) {
          if (i < used) {
            inputIds[offset + i] = BigInt(row[i]!);
            mask[offset + i] = 1n;
            const typeId = i === 0 ? s.head.typeId : i === row.length - 1 ? s.tail.typeId : s.sequenceTypeId;
            types[offset + i] = BigInt(typeId);
          } else {
            inputIds[offset + i] = pad;
          }
        }
      });
      const dims: [number, number] = [rows.length, width];
      return { input_ids: { data: inputIds, dims }, attention_mask: { data: mask, dims }, token_type_ids: { data: types, dims } };
    },
  };
}
