/**
 * Indicators across reports (issue 15), the extraction half: which figure of which sentence is
 * one of the common indicators (地区生产总值, 一般公共预算收入, 固定资产投资, …), with value, unit,
 * period, whether it is a target, an estimate (预计) or an outcome, and the sentence it stands in.
 * A pure function over documents, chunks and the sentence annotations (./sentence.ts say what each
 * figure measures and its stance; this module names the indicators and files them). It lives here,
 * below src/index, because ingest runs it; filtering and export are src/drafting/indicators.ts's.
 */
import type { Chunk, ParsedDocument, Passage } from '../domain/types.js';
import type { Figure, SentenceAnnotation, Stance } from './sentence.js';

export type IndicatorKind = Stance;

/** One figure of one indicator, with its citation. */
export interface IndicatorFigure {
  /** Canonical indicator, e.g. 地区生产总值, 地区生产总值增速. */
  indicator: string;
  /** How the report names it (新认定高新技术企业, 全社会固定资产投资). */
  label: string;
  value: number;
  unit: string;
  /** The figure as written (105亿元), verbatim in `citation.text`. */
  text: string;
  /** 2019, or 2022上半年. */
  period: string;
  year: number;
  kind: IndicatorKind;
  town: string;
  /** A passage's citation fields, but `text`/`start`/`end` are the sentence holding the figure; `passage` is its chunk's span. */
  citation: Omit<Passage, 'score' | 'town'> & { passage: { start: number; end: number } };
}

/**
 * The common indicators and how the reports name them. Order matters: the first match wins,
 * so 规上工业总产值 is tried before 工业总产值.
 */
export const INDICATORS: ReadonlyArray<{ name: string; pattern: RegExp; kinds?: readonly Figure['kind'][]; exclude?: RegExp }> = [
  { name: '地区生产总值', pattern: /地区生产总值|GDP/ },
  { name: '一般公共预算收入', pattern: /一般公共预算收入|公共财政预算收入/ },
  { name: '全社会固定资产投资', pattern: /固定资产投资/ },
  { name: '工业投资', pattern: /^(?:其中)?工业投资/ },
  { name: '规上工业总产值', pattern: /规(?:模以)?上工业(?:总)?产值/, exclude: /民营/ },
  { name: '工业总产值', pattern: /^工业总产值/ },
  { name: '新兴产业产值', pattern: /新兴产业产值/, exclude: /比重/ },
  { name: '新兴产业投资', pattern: /新兴产业投资/ },
  { name: '高新技术产业投资', pattern: /高新技术产业投资/ },
  { name: '进出口总额', pattern: /进出口总额|外贸进出口/ },
  { name: '实际使用外资', pattern: /实际使用外资|到账外资|账外资|利用外资/ },
  { name: '限上批零住餐销售额', pattern: /限额以上批零住餐销售额|社会消费品零售总额/ },
  { name: '新增就业', pattern: /新增就业/ },
  { name: '城乡居民人均可支配收入', pattern: /人均可支配收入/ },
  { name: '村级集体稳定收入', pattern: /村级稳定收入|集体稳定性?收入/ },
  { name: '高新技术企业数', pattern: /高新技术企业/, kinds: ['count'] },
  { name: '科技型中小企业数', pattern: /科技型中小(?:型)?企业/, kinds: ['count'] },
  { name: '高校毕业生就业率', pattern: /毕业生就业率/, kinds: ['rate'] },
  { name: '安全生产检查', pattern: /安全(?:生产)?(?:专项)?检查|检查各类主体/, kinds: ['count'] },
  { name: '安全隐患排查整改', pattern: /隐患/, kinds: ['count'], exclude: /广告/ },
];

/** A rate after an indicator's amount is its growth: 地区生产总值增长4.37% → 地区生产总值增速. */
const GROWTH = /(?:增长|增幅|下降|同比)$/;
const DECLINE = /下降|减少/;
export const GROWTH_SUFFIX = '增速';

function canonical(figure: Figure): { indicator: string; negative: boolean } | undefined {
  const phrase = figure.indicator.replace(/^(?:\d{4}年)/, '');
  const growth = figure.kind === 'rate' && GROWTH.test(phrase);
  const base = growth ? phrase.replace(/(?:同比)?(?:增长|增幅|下降|同比)$/, '') : phrase;
  for (const entry of INDICATORS) {
    if (!entry.pattern.test(base) || entry.exclude?.test(base)) continue;
    if (growth) return { indicator: `${entry.name}${GROWTH_SUFFIX}`, negative: DECLINE.test(figure.clause) };
    if (figure.kind === 'rate' && !entry.kinds?.includes('rate')) return undefined;
    if (entry.kinds && !entry.kinds.includes(figure.kind)) return undefined;
    if (!entry.kinds && figure.kind !== 'money' && figure.kind !== 'quantity') return undefined;
    return { indicator: entry.name, negative: false };
  }
  return undefined;
}

/**
 * How the report names the indicator, without the lead-in the clause carries (举2019年完成…)
 * and with a first character the clause split cut off restored (账外资 of 到账外资).
 */
function labelOf(figure: Figure, sentence: string): string {
  const label = figure.indicator.replace(/^.*?\d{4}年/, '').replace(/^(?:完成|实现|其中|全年|累计)/, '') || figure.indicator;
  const at = sentence.lastIndexOf(label, figure.start);
  return at > 0 && sentence[at - 1] === '到' ? `到${label}` : label;
}

/** 预计数 in brackets after a figure (完成地区生产总值45.2亿元(预计数)) makes it an estimate. */
function stanceOf(figure: Figure, sentence: string): Stance {
  const after = sentence.slice(figure.end, figure.end + 8);
  if (/^\s*[(（]\s*预计/.test(after)) return 'estimate';
  return figure.stance;
}

function periodLabel(annotation: SentenceAnnotation): { period: string; year: number } | undefined {
  const year = annotation.period.years.at(-1);
  if (year === undefined) return undefined;
  const years = annotation.period.years.length > 1 ? `${annotation.period.years[0]}–${year}` : String(year);
  const half = annotation.period.half === 'first' ? '上半年' : annotation.period.half === 'second' ? '下半年' : '';
  return { period: `${years}${half}`, year };
}

/**
 * The indicator table of an index, from its documents, chunks and sentence annotations (one per
 * sentence row, in row order, as ingest computes them). Run at ingest (src/retrieve/derive.ts) and
 * stored in the generation as a derived record, so /api/indicators only reads it.
 */
export function buildIndicatorTable(documents: readonly ParsedDocument[], chunks: readonly Chunk[], annotations: readonly SentenceAnnotation[]): IndicatorFigure[] {
  const docs = new Map(documents.map((d) => [d.meta.docId, d]));
  const all = annotations;
  const out: IndicatorFigure[] = [];
  const seen = new Set<string>();
  let row = 0;
  for (const chunk of chunks) {
    const doc = docs.get(chunk.docId);
    for (const [s, e] of chunk.sentences) {
      const annotation = all[row++];
      if (!doc || !annotation) continue;
      const text = doc.text.slice(s, e);
      const period = periodLabel(annotation);
      if (!period) continue;
      // The stance of each indicator's amount in this sentence: its growth rate shares it
      // (预计完成地区生产总值105亿元,同比增长4.37%: the 4.37% is estimated too).
      const amountKind = new Map<string, Stance>();
      for (const figure of annotation.figures) {
        const named = canonical(figure);
        if (!named) continue;
        const growthOf = named.indicator.endsWith(GROWTH_SUFFIX) ? named.indicator.slice(0, -GROWTH_SUFFIX.length) : undefined;
        const kind = (growthOf !== undefined ? amountKind.get(growthOf) : undefined) ?? stanceOf(figure, text);
        if (growthOf === undefined) amountKind.set(named.indicator, kind);
        const label = labelOf(figure, text);
        const value = named.negative ? -figure.value : figure.value;
        // A figure repeated in one report (in a summary and again in its section) is listed once.
        const key = [chunk.docId, named.indicator, period.period, kind, value, figure.unit].join('|');
        if (seen.has(key)) continue;
        seen.add(key);
        out.push({
          indicator: named.indicator,
          label,
          value,
          unit: figure.unit,
          text: figure.text,
          period: period.period,
          year: period.year,
          kind,
          town: chunk.town,
          citation: {
            chunkId: chunk.id,
            docId: chunk.docId,
            title: doc.meta.title,
            date: doc.meta.date,
            section: chunk.sectionPath.join(' > '),
            role: chunk.role,
            text,
            start: s,
            end: e,
            passage: { start: chunk.start, end: chunk.end },
          },
        });
      }
    }
  }
  return out;
}

/** The indicators a table holds, in INDICATORS order (地区生产总值 first), each growth rate after its amount. */
export function indicatorNames(table: readonly IndicatorFigure[]): string[] {
  const rank = (name: string): number => {
    const base = name.endsWith(GROWTH_SUFFIX) ? name.slice(0, -GROWTH_SUFFIX.length) : name;
    const at = INDICATORS.findIndex((e) => e.name === base);
    return (at < 0 ? INDICATORS.length : at) * 2 + (base === name ? 0 : 1);
  };
  return [...new Set(table.map((f) => f.indicator))].sort((a, b) => rank(a) - rank(b));
}
