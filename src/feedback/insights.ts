/**
 * What staff read from the feedback store: the questions residents asked that the reports did not
 * answer (not_found, partial) or that residents disliked, grouped by similar wording with the
 * app's own embedding model, so that "镇上给老人做了什么" and "老年人有什么服务" count as one need.
 * Pure over the entries and an embedding function; the CSV is for Excel (BOM, CRLF).
 */
import { csvCell } from '../commitments/book.js';
import type { AnswerStatus } from '../domain/answer.js';
import { STATUS_LABELS } from '../domain/labels.js';
import type { FeedbackEntry, StoredEntry } from './store.js';

/** Questions that mean the same, in plain words. */
export interface QuestionGroup {
  /** The most frequent wording (the earliest among equals). */
  question: string;
  /** Other wordings in the group, most frequent first (at most 10). */
  variants: string[];
  count: number;
  firstAt: string;
  lastAt: string;
  towns: string[];
  statuses: Record<AnswerStatus, number>;
  ratings: { up: number; down: number };
  /** Quick reasons picked with a 👎, by count. */
  reasons: Record<string, number>;
  /** Newest comments first (at most 5). */
  comments: string[];
}

export type Embed = (text: string) => Promise<Float32Array>;

export interface GroupOptions {
  /**
   * Cosine at or above which two questions are one group. Default 0.78: with bge-small-zh,
   * rewordings of one question score 0.86-0.90 ("临湖镇地区生产总值是多少" / "临湖镇GDP多少"), different
   * questions about one town 0.5-0.6.
   */
  threshold?: number;
}

/** Entries for /api/admin/unanswered: not settled by the reports, or disliked. One per answer. */
export function unansweredEntries(entries: readonly StoredEntry[]): StoredEntry[] {
  return latestPerAnswer(entries).filter((e) => e.status !== 'answered' || (e.kind === 'feedback' && e.rating === 'down'));
}

/** Entries for /api/admin/feedback: every rating, the latest per answer. */
export function feedbackEntries(entries: readonly StoredEntry[]): FeedbackEntry[] {
  return latestPerAnswer(entries).filter((e): e is FeedbackEntry => e.kind === 'feedback');
}

/** A rating supersedes the unanswered-log line of the same answer, and a later rating an earlier one. */
function latestPerAnswer(entries: readonly StoredEntry[]): StoredEntry[] {
  const byAnswer = new Map<string, StoredEntry>();
  for (const e of entries) {
    const prior = byAnswer.get(e.answerId);
    if (prior && prior.kind === 'feedback' && e.kind === 'unanswered') continue;
    byAnswer.set(e.answerId, e);
  }
  return [...byAnswer.values()];
}

const cosine = (a: Float32Array, b: Float32Array): number => {
  let dot = 0;
  for (let i = 0; i < a.length; i++) dot += a[i]! * b[i]!;
  return dot;
};

/** Spacing and trailing punctuation do not make a question different. */
const normalize = (q: string): string => q.replace(/\s+/g, '').replace(/[?？!！。.,，]+$/, '');

/**
 * Groups entries by the wording of their questions: each distinct wording joins the group whose
 * first wording it is closest to (vectors are L2-normalised, so the dot product is the cosine),
 * when that is at least the threshold. Groups come most frequent first, then most recent.
 */
export async function groupQuestions(entries: readonly StoredEntry[], embed: Embed, options: GroupOptions = {}): Promise<QuestionGroup[]> {
  const threshold = options.threshold ?? 0.78;
  // Grouped within a town: "临湖镇GDP多少" and "梅李镇GDP多少" are two towns' gaps, not one.
  const byWording = new Map<string, StoredEntry[]>();
  for (const e of [...entries].sort((a, b) => timeOf(a).localeCompare(timeOf(b)))) {
    const key = `${e.town ?? ''}\u0000${normalize(e.question)}`;
    const list = byWording.get(key);
    if (list) list.push(e);
    else byWording.set(key, [e]);
  }
  const clusters: Array<{ town: string; vector: Float32Array; wordings: string[] }> = [];
  for (const wording of byWording.keys()) {
    const town = wording.slice(0, wording.indexOf('\u0000'));
    const vector = await embed(wording.slice(town.length + 1));
    let best: (typeof clusters)[number] | undefined;
    let bestScore = threshold;
    for (const c of clusters) {
      if (c.town !== town) continue;
      const score = cosine(vector, c.vector);
      if (score >= bestScore) [best, bestScore] = [c, score];
    }
    if (best) best.wordings.push(wording);
    else clusters.push({ town, vector, wordings: [wording] });
  }
  const groups = clusters.map(({ wordings }) => summarize(wordings.map((w) => ({ wording: w, entries: byWording.get(w)! }))));
  return groups.sort((a, b) => b.count - a.count || b.lastAt.localeCompare(a.lastAt));
}

const timeOf = (e: StoredEntry): string => (e.kind === 'feedback' ? e.ratedAt : e.at);

function summarize(wordings: Array<{ wording: string; entries: StoredEntry[] }>): QuestionGroup {
  const ranked = [...wordings].sort((a, b) => b.entries.length - a.entries.length);
  const all = wordings.flatMap((w) => w.entries);
  const times = all.map(timeOf).sort();
  const statuses: Record<AnswerStatus, number> = { answered: 0, partial: 0, not_found: 0 };
  const ratings = { up: 0, down: 0 };
  const reasons: Record<string, number> = {};
  const comments: Array<{ at: string; text: string }> = [];
  const towns = new Set<string>();
  for (const e of all) {
    statuses[e.status] += 1;
    if (e.town) towns.add(e.town);
    if (e.kind !== 'feedback') continue;
    ratings[e.rating] += 1;
    if (e.feedbackReason) reasons[e.feedbackReason] = (reasons[e.feedbackReason] ?? 0) + 1;
    if (e.comment) comments.push({ at: e.ratedAt, text: e.comment });
  }
  // The wording residents actually typed (the first entry's), not its normalised key.
  const shown = (w: (typeof ranked)[number]): string => w.entries[0]!.question;
  return {
    question: shown(ranked[0]!),
    variants: ranked.slice(1, 11).map(shown),
    count: all.length,
    firstAt: times[0]!,
    lastAt: times[times.length - 1]!,
    towns: [...towns].sort(),
    statuses,
    ratings,
    reasons,
    comments: comments.sort((a, b) => b.at.localeCompare(a.at)).slice(0, 5).map((c) => c.text),
  };
}

/** One row per group, for a spreadsheet: a UTF-8 BOM (so Excel reads the Chinese) and CRLF. */
export function groupsToCsv(groups: readonly QuestionGroup[]): string {
  const header = ['问题', '相似问法', '次数', '首次', '最近', '镇（街道）', '结果', '点赞', '点踩', '原因', '留言'];
  const lines = [header.map(csvCell).join(',')];
  for (const g of groups) {
    const statuses = (Object.keys(g.statuses) as AnswerStatus[]).filter((s) => g.statuses[s] > 0).map((s) => `${STATUS_LABELS[s]}${g.statuses[s]}`);
    const reasons = Object.entries(g.reasons).map(([r, n]) => `${r}${n}`);
    const row = [g.question, g.variants.join(' | '), g.count, g.firstAt, g.lastAt, g.towns.join('、'), statuses.join('、'), g.ratings.up, g.ratings.down, reasons.join('、'), g.comments.join(' | ')];
    lines.push(row.map(csvCell).join(','));
  }
  return `\uFEFF${lines.join('\r\n')}\r\n`;
}
