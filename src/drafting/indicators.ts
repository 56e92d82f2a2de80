/**
 * Indicators across reports (issue 15), the serving half: the names a table holds, filters, and
 * the CSV and spreadsheet rows of /api/indicators. The table itself is extracted at ingest
 * (src/annotate/indicators.ts, run by src/index/build.ts) and read from the loaded index.
 */
import type { IndicatorFigure, IndicatorKind } from '../annotate/indicators.js';

export { buildIndicatorTable, indicatorNames, INDICATORS, type IndicatorFigure, type IndicatorKind } from '../annotate/indicators.js';

export interface IndicatorFilter {
  town?: string;
  indicator?: string;
  year?: number;
}

export function filterIndicators(table: readonly IndicatorFigure[], filter: IndicatorFilter): IndicatorFigure[] {
  return table.filter((f) => (!filter.town || f.town === filter.town) && (!filter.indicator || f.indicator === filter.indicator) && (filter.year === undefined || f.year === filter.year));
}

export const KIND_LABEL: Record<IndicatorKind, string> = { target: '目标', estimate: '预计', outcome: '实际' };

const CSV_COLUMNS = ['镇（街道）', '指标', '报告中的名称', '时期', '类别', '数值', '单位', '原文数字', '报告', '日期', '章节', '原文句子'] as const;

/** Rows for CSV and spreadsheet export, in CSV_COLUMNS order. */
export function indicatorRows(table: readonly IndicatorFigure[]): Array<Array<string | number>> {
  return table.map((f) => [f.town, f.indicator, f.label, f.period, KIND_LABEL[f.kind], f.value, f.unit, f.text, f.citation.title, f.citation.date, f.citation.section, f.citation.text]);
}

export function indicatorColumns(): readonly string[] {
  return CSV_COLUMNS;
}

/** CSV with a UTF-8 BOM (Excel opens it as UTF-8), cells quoted when needed. */
export function indicatorsToCsv(table: readonly IndicatorFigure[]): string {
  const cell = (v: string | number): string => {
    const s = String(v);
    // A leading =, +, - or @ would be read as a formula by a spreadsheet: prefixed with '.
    const safe = /^[=+@]/.test(s) || (/^-/.test(s) && typeof v !== 'number') ? `'${s}` : s;
    return /[",\n\r]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
  };
  return `\uFEFF${[CSV_COLUMNS as readonly string[], ...indicatorRows(table)].map((r) => r.map(cell).join(',')).join('\r\n')}\r\n`;
}
