/**
 * Decompression bombs built in memory for the bomb tests: a small .docx whose word/document.xml
 * inflates to hundreds of MB, and a small PDF whose Flate content stream does. Deflated in
 * streaming fashion so the test itself never holds the inflated bytes.
 */
import zlib from 'node:zlib';

const MB = 1024 * 1024;

function adler32(piece: Buffer, previous: number): number {
  let a = previous & 0xffff;
  let b = previous >>> 16;
  for (let i = 0; i < piece.length; ) {
    // 3800 bytes keep the sums below 2^31 between reductions.
    const end = Math.min(piece.length, i + 3800);
    for (; i < end; i++) {
      a += piece[i]!;
      b += a;
    }
    a %= 65521;
    b %= 65521;
  }
  return ((b << 16) | a) >>> 0;
}

/**
 * Deflates `head`, then `chunk` repeated `times`, then `tail`, without ever holding the inflated
 * bytes: each piece is deflated on its own and ends on a byte boundary (sync flush), so the pieces
 * concatenate into one valid stream; the repeated piece is deflated once. `raw`: no zlib wrapper
 * (zip entries); otherwise zlib header and Adler-32 (PDF FlateDecode).
 */
function deflateRepeated(head: Buffer, chunk: Buffer, times: number, tail: Buffer, raw: boolean): { data: Buffer; size: number; crc: number } {
  const piece = (b: Buffer) => zlib.deflateRawSync(b, { level: 9, finishFlush: zlib.constants.Z_SYNC_FLUSH });
  const repeated = piece(chunk);
  const parts: Buffer[] = raw ? [] : [Buffer.from([0x78, 0xda])];
  parts.push(piece(head));
  let crc = zlib.crc32(head);
  let adler = adler32(head, 1);
  const chunkAdler = (prev: number) => adler32(chunk, prev);
  for (let i = 0; i < times; i++) {
    parts.push(repeated);
    crc = zlib.crc32(chunk, crc);
    adler = chunkAdler(adler);
  }
  parts.push(piece(tail));
  crc = zlib.crc32(tail, crc);
  adler = adler32(tail, adler);
  // The final block: fixed Huffman, empty (BFINAL=1, BTYPE=01, end-of-block).
  parts.push(Buffer.from([0x03, 0x00]));
  if (!raw) {
    const check = Buffer.alloc(4);
    check.writeUInt32BE(adler, 0);
    parts.push(check);
  }
  return { data: Buffer.concat(parts), size: head.length + chunk.length * times + tail.length, crc: crc >>> 0 };
}

interface ZipEntry {
  name: string;
  data: Buffer;
  size: number;
  crc: number;
  /** The size the directory claims (a lying bomb claims little). */
  declared?: number;
}

function zip(entries: ZipEntry[]): Buffer {
  const locals: Buffer[] = [];
  const central: Buffer[] = [];
  let offset = 0;
  for (const e of entries) {
    const name = Buffer.from(e.name, 'utf8');
    const declared = e.declared ?? e.size;
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt16LE(0, 6);
    local.writeUInt16LE(8, 8); // deflate
    local.writeUInt32LE(e.crc, 14);
    local.writeUInt32LE(e.data.length, 18);
    local.writeUInt32LE(declared, 22);
    local.writeUInt16LE(name.length, 26);
    locals.push(local, name, e.data);
    const dir = Buffer.alloc(46);
    dir.writeUInt32LE(0x02014b50, 0);
    dir.writeUInt16LE(20, 4);
    dir.writeUInt16LE(20, 6);
    dir.writeUInt16LE(8, 10);
    dir.writeUInt32LE(e.crc, 16);
    dir.writeUInt32LE(e.data.length, 20);
    dir.writeUInt32LE(declared, 24);
    dir.writeUInt16LE(name.length, 28);
    dir.writeUInt32LE(offset, 42);
    central.push(dir, name);
    offset += 30 + name.length + e.data.length;
  }
  const directory = Buffer.concat(central);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(entries.length, 8);
  end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(directory.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, directory, end]);
}

function stored(name: string, text: string): ZipEntry {
  const data = Buffer.from(text, 'utf8');
  return { name, data: zlib.deflateRawSync(data), size: data.length, crc: zlib.crc32(data) >>> 0 };
}

/**
 * A .docx (about 1 MB or less) whose word/document.xml inflates to `inflatedMb` MB of one paragraph.
 * `lie`: the zip directory claims the part is 2 KB, so only the extraction child's memory or
 * time limit can stop it.
 */
export function docxBomb(inflatedMb: number, lie = false): Buffer {
  const head = Buffer.from('<?xml version="1.0" encoding="UTF-8"?><w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body><w:p><w:r><w:t>');
  const tail = Buffer.from('</w:t></w:r></w:p></w:body></w:document>');
  const body = deflateRepeated(head, Buffer.alloc(MB, '镇'), inflatedMb, tail, true);
  return zip([
    stored(
      '[Content_Types].xml',
      '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>',
    ),
    stored(
      '_rels/.rels',
      '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="word/document.xml"/></Relationships>',
    ),
    { name: 'word/document.xml', ...body, ...(lie ? { declared: 2048 } : {}) },
  ]);
}

/** A one-page PDF whose FlateDecode content stream inflates to `inflatedMb` MB of text operators. */
export function pdfBomb(inflatedMb: number): Buffer {
  const ops = Buffer.from('BT /F1 12 Tf 72 720 Td (a) Tj ET\n'.repeat(Math.floor(MB / 33)).padEnd(MB, ' '));
  const stream = deflateRepeated(Buffer.from(''), ops, inflatedMb, Buffer.from(''), false).data;
  const objects: Buffer[] = [
    Buffer.from('<< /Type /Catalog /Pages 2 0 R >>'),
    Buffer.from('<< /Type /Pages /Kids [3 0 R] /Count 1 >>'),
    Buffer.from('<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>'),
    Buffer.concat([Buffer.from(`<< /Length ${stream.length} /Filter /FlateDecode >>\nstream\n`), stream, Buffer.from('\nendstream')]),
    Buffer.from('<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>'),
  ];
  const out: Buffer[] = [Buffer.from('%PDF-1.4\n')];
  let length = out[0]!.length;
  const offsets: number[] = [];
  objects.forEach((body, i) => {
    offsets.push(length);
    const piece = Buffer.concat([Buffer.from(`${i + 1} 0 obj\n`), body, Buffer.from('\nendobj\n')]);
    out.push(piece);
    length += piece.length;
  });
  out.push(
    Buffer.from(
      `xref\n0 ${objects.length + 1}\n0000000000 65535 f \n${offsets.map((o) => `${String(o).padStart(10, '0')} 00000 n \n`).join('')}` +
        `trailer\n<< /Size ${objects.length + 1} /Root 1 0 R >>\nstartxref\n${length}\n%%EOF\n`,
    ),
  );
  return Buffer.concat(out);
}
