/**
 * A `word value` table (jieba's general IDF table: 270,000 lines, 6 MB of UTF-8) for looking up a
 * few words per question. A Map<string, number> of it held ~34 MB of the serving thread's heap
 * (its keys, sliced from the decoded text, kept all 9 MB of that alive too). This keeps the bytes,
 * which jieba's module holds anyway, and an open-addressing hash of line numbers: ~5 MB.
 * Lookups give what Map.set per line would (`word` up to the line's last space; a word listed
 * twice keeps its last value).
 */
export class IdfTable {
  private readonly bytes: Buffer;
  private readonly wordStart: Int32Array;
  private readonly wordLength: Int32Array;
  private readonly values: Float64Array;
  /** Line number + 1 per slot; 0 is empty. */
  private readonly slots: Int32Array;
  private lines = 0;
  private at = 0;

  constructor(bytes: Uint8Array) {
    this.bytes = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    let count = 1;
    for (let i = this.bytes.indexOf(0x0a); i !== -1; i = this.bytes.indexOf(0x0a, i + 1)) count++;
    this.wordStart = new Int32Array(count);
    this.wordLength = new Int32Array(count);
    this.values = new Float64Array(count);
    // A power of two at least twice the lines: probes stay short.
    this.slots = new Int32Array(2 ** Math.ceil(Math.log2(count * 2)));
  }

  /** Whether every line has been read. */
  get complete(): boolean {
    return this.at >= this.bytes.length;
  }

  /** Reads up to `max` more lines (so a serving process can read it between event-loop turns). */
  read(max = Number.POSITIVE_INFINITY): void {
    const { bytes } = this;
    for (let n = 0; n < max && this.at < bytes.length; n++) {
      const newline = bytes.indexOf(0x0a, this.at);
      const end = newline === -1 ? bytes.length : newline;
      const start = this.at;
      this.at = end + 1;
      let space = end - 1;
      while (space > start && bytes[space] !== 0x20) space--;
      if (space <= start) continue;
      this.insert(start, space - start, Number(bytes.toString('latin1', space + 1, end)));
    }
  }

  /** The value of `word`, or undefined when the table does not list it (read() it first). */
  get(word: string): number | undefined {
    const key = Buffer.from(word, 'utf8');
    const line = this.find(key, 0, key.length);
    return line === -1 ? undefined : this.values[line];
  }

  private insert(start: number, length: number, value: number): void {
    const known = this.find(this.bytes, start, length);
    if (known !== -1) {
      this.values[known] = value;
      return;
    }
    const line = this.lines++;
    this.wordStart[line] = start;
    this.wordLength[line] = length;
    this.values[line] = value;
    const mask = this.slots.length - 1;
    let slot = hash(this.bytes, start, length) & mask;
    while (this.slots[slot] !== 0) slot = (slot + 1) & mask;
    this.slots[slot] = line + 1;
  }

  /** The line whose word is `key[start, start + length)`, or -1. */
  private find(key: Uint8Array, start: number, length: number): number {
    const mask = this.slots.length - 1;
    for (let slot = hash(key, start, length) & mask; this.slots[slot] !== 0; slot = (slot + 1) & mask) {
      const line = this.slots[slot]! - 1;
      if (this.wordLength[line] === length && equalBytes(this.bytes, this.wordStart[line]!, key, start, length)) return line;
    }
    return -1;
  }
}

/** FNV-1a over bytes. */
function hash(bytes: Uint8Array, start: number, length: number): number {
  let h = 0x811c9dc5;
  for (let i = start; i < start + length; i++) h = Math.imul(h ^ bytes[i]!, 0x01000193);
  return h >>> 0;
}

function equalBytes(a: Uint8Array, from: number, b: Uint8Array, start: number, length: number): boolean {
  for (let i = 0; i < length; i++) if (a[from + i] !== b[start + i]) return false;
  return true;
}
