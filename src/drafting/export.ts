/**
 * The draft basket's export (issue 15): items named by passage id and offsets are resolved
 * against the index (a client never sends the text, so no invented text can be attributed to a
 * report), then written as a Word document with one real footnote per quote and a source list,
 * or as Markdown with numbered footnotes.
 */
import type { IFontAttributesProperties, Paragraph } from 'docx';
import { AppError } from '../errors.js';
import type { IndexContext } from '../retrieve/context.js';
import { ROLE_LABELS } from '../domain/labels.js';
import type { Role } from '../domain/types.js';
import { checkSpan } from './similar.js';

export interface DraftItem {
  chunkId: string;
  start?: number;
  end?: number;
  note?: string;
}

export interface DraftSource {
  town: string;
  title: string;
  date: string;
  section: string;
  role: Role;
  docId: string;
  chunkId: string;
  start: number;
  end: number;
  /** 1-based paragraph (non-empty line) of the report the quote starts in. */
  paragraph: number;
}

export interface ResolvedItem {
  /** Footnote number, 1-based, in basket order. */
  n: number;
  /** The quote, exactly as the report's cleaned text has it. */
  text: string;
  note?: string;
  source: DraftSource;
}

export const EXPORT_FORMATS = ['docx', 'md'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

/** Items one export may hold (a report draft cites dozens, not thousands). */
export const MAX_EXPORT_ITEMS = 200;
export const MAX_NOTE_CHARS = 1000;
export const MAX_TITLE_CHARS = 100;


/** Resolves every item against the index; the first bad one is a 400 naming it (items[i]). */
export async function resolveDraftItems(index: IndexContext, items: readonly DraftItem[]): Promise<ResolvedItem[]> {
  const chunks = await index.snapshot.getChunks(items.map((item) => item.chunkId));
  // The paragraph number needs the report's text before the quote: read the reports cited, once each.
  const docIds = [...new Set(chunks.flatMap((c) => (c ? [c.docId] : [])))];
  const reports = new Map((await index.snapshot.getDocuments(docIds)).flatMap((d) => (d ? [[d.meta.docId, d] as const] : [])));
  return items.map((item, i) => {
    const { chunk, start, end } = checkSpan(chunks[i], item.chunkId, item.start, item.end, `items[${i}]`);
    const doc = reports.get(chunk.docId);
    if (!doc) throw new AppError('E_NOT_FOUND', `items[${i}]: the report of passage "${item.chunkId.slice(0, 120)}" is not in the index`, { kind: 'unknown-reference' });
    // Paragraphs are the report's non-empty lines; the quote's own line counts from its start.
    const lineStart = doc.text.lastIndexOf('\n', start - 1) + 1;
    const paragraph = doc.text.slice(0, lineStart).split('\n').filter((line) => line.trim() !== '').length + 1;
    const note = item.note?.trim();
    return {
      n: i + 1,
      text: doc.text.slice(start, end).trim(),
      ...(note ? { note } : {}),
      source: {
        town: chunk.town,
        title: doc.meta.title,
        date: doc.meta.date,
        section: chunk.sectionPath.join(' > '),
        role: chunk.role,
        docId: chunk.docId,
        chunkId: chunk.id,
        start,
        end,
        paragraph,
      },
    };
  });
}

/** One line naming a quote's source: town, title, date, section, place in the report. */
export function sourceLine(s: DraftSource): string {
  // A section of no particular role is named by its heading alone.
  const role = s.role === 'other' ? '' : ROLE_LABELS[s.role];
  const section = s.section ? `“${s.section}”部分${role ? `（${role}）` : ''}` : '';
  return `${s.town}《${s.title}》（${s.date}）${section ? `，${section}` : ''}，原文第${s.paragraph}段（第${s.start}–${s.end}字）。`;
}

/** The title an export gets when the basket names none. */
export const DEFAULT_TITLE = '草稿摘录';

function exportedOn(now: Date): string {
  return now.toISOString().slice(0, 10);
}

/** Markdown: each quote as a block quote with a numbered footnote, notes after, sources at the end. */
export function exportMarkdown(title: string | undefined, items: readonly ResolvedItem[], now = new Date()): string {
  const lines = [`# ${title || DEFAULT_TITLE}`, '', `摘录 ${items.length} 条，均引自各镇（街道）政府工作报告原文；导出于 ${exportedOn(now)}。`, ''];
  for (const item of items) {
    // A quote's own line breaks stay inside the block quote.
    lines.push(`${item.text.split('\n').map((l) => `> ${l}`).join('\n')}[^${item.n}]`, '');
    if (item.note) lines.push(`备注：${item.note}`, '');
  }
  lines.push('## 引用来源', '');
  for (const item of items) lines.push(`${item.n}. ${sourceLine(item.source)}`);
  lines.push('');
  for (const item of items) lines.push(`[^${item.n}]: ${sourceLine(item.source)}`);
  return `${lines.join('\n')}\n`;
}

/**
 * Fonts as Chinese government documents set them (GB/T 9704): 仿宋 for body text, 宋体 for the
 * title and the source list, Times New Roman for Latin letters and digits. A machine without a
 * named face substitutes its own (LibreOffice on Linux maps them to Noto Serif CJK).
 */
const BODY_FONT: IFontAttributesProperties = { ascii: 'Times New Roman', hAnsi: 'Times New Roman', eastAsia: '仿宋', cs: 'Times New Roman', hint: 'eastAsia' };
const TITLE_FONT: IFontAttributesProperties = { ascii: 'Times New Roman', hAnsi: 'Times New Roman', eastAsia: '宋体', cs: 'Times New Roman', hint: 'eastAsia' };
/** Half-points: 三号 (16 pt) body, 二号 (22 pt) title, 四号 (14 pt) headings, 小五 (9 pt) footnotes. */
const SIZE = { body: 32, title: 44, heading: 28, footnote: 18, small: 24 };

/** Word: a real footnote (w:footnoteReference) after each quote, a source list at the end. */
export async function exportDocx(title: string | undefined, items: readonly ResolvedItem[], now = new Date()): Promise<Buffer> {
  // Loaded on the first export, not with the server: a process that never exports never holds it.
  const { AlignmentType, Document, FootnoteReferenceRun, HeadingLevel, LineRuleType, Packer, Paragraph, TextRun, convertMillimetersToTwip } = await import('docx');
  const heading = title || DEFAULT_TITLE;
  const footnotes: Record<number, { children: Paragraph[] }> = {};
  const body: Paragraph[] = [
    new Paragraph({ alignment: AlignmentType.CENTER, spacing: { after: 240 }, children: [new TextRun({ text: heading, bold: true, font: TITLE_FONT, size: SIZE.title })] }),
    new Paragraph({
      alignment: AlignmentType.CENTER,
      spacing: { after: 360 },
      children: [new TextRun({ text: `摘录 ${items.length} 条，均引自各镇（街道）政府工作报告原文；导出于 ${exportedOn(now)}。`, font: BODY_FONT, size: SIZE.small })],
    }),
  ];
  for (const item of items) {
    footnotes[item.n] = { children: [new Paragraph({ children: [new TextRun({ text: sourceLine(item.source), font: BODY_FONT, size: SIZE.footnote })] })] };
    const parts = item.text.split('\n').filter((l) => l.trim() !== '');
    parts.forEach((part, i) => {
      body.push(
        new Paragraph({
          // First-line indent of two characters, as report paragraphs are set.
          indent: { firstLine: 640 },
          spacing: { line: 560, lineRule: LineRuleType.EXACT },
          children: [new TextRun({ text: part.trim(), font: BODY_FONT, size: SIZE.body }), ...(i === parts.length - 1 ? [new FootnoteReferenceRun(item.n)] : [])],
        }),
      );
    });
    if (item.note) {
      body.push(new Paragraph({ indent: { firstLine: 640 }, children: [new TextRun({ text: `备注：${item.note}`, italics: true, font: BODY_FONT, size: SIZE.small, color: '555555' })] }));
    }
  }
  body.push(new Paragraph({ heading: HeadingLevel.HEADING_2, spacing: { before: 480, after: 120 }, children: [new TextRun({ text: '引用来源', bold: true, font: TITLE_FONT, size: SIZE.heading, color: '000000' })] }));
  for (const item of items) {
    body.push(new Paragraph({ spacing: { after: 80 }, children: [new TextRun({ text: `${item.n}. ${sourceLine(item.source)}`, font: TITLE_FONT, size: SIZE.small })] }));
  }
  const document = new Document({
    title: heading,
    creator: '乡镇政府工作报告问答',
    description: '草稿篮导出：引文逐条标注出处',
    styles: { default: { document: { run: { font: BODY_FONT, size: SIZE.body } } } },
    footnotes,
    sections: [
      {
        // A4 with the margins of GB/T 9704.
        properties: {
          page: {
            size: { width: convertMillimetersToTwip(210), height: convertMillimetersToTwip(297) },
            margin: { top: convertMillimetersToTwip(37), bottom: convertMillimetersToTwip(35), left: convertMillimetersToTwip(28), right: convertMillimetersToTwip(26) },
          },
        },
        children: body,
      },
    ],
  });
  return Packer.toBuffer(document);
}
