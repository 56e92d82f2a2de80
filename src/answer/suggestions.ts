/**
 * Suggested first questions for a town, derived from the headings (and, for a few everyday
 * topics, the text) of the town's own reports, and kept only when the service answers them from
 * a passage: a first-time user who taps one gets a cited answer, not an apology.
 */
import type { Role } from '../domain/types.js';
import type { DocumentSummary, QaService } from './service.js';

/** A question to offer, with the town it is about. */
export interface Suggestion {
  question: string;
  town: string;
}

/** A question derived from a report, before the service has been asked whether it can answer it. */
export interface SuggestionCandidate extends Suggestion {
  topic: string;
  role: Extract<Role, 'review' | 'plan'>;
}

/**
 * Topics residents ask about, in plain words, with what marks them in a heading. Ordered so
 * that the first suggestions are the broadest.
 */
const HEADING_TOPICS: ReadonlyArray<{ topic: string; heading: RegExp }> = [
  { topic: '经济发展', heading: /经济|产业|项目建设|招商/ },
  { topic: '民生', heading: /民生|惠民|幸福|高品质生活|社会事业/ },
  { topic: '乡村振兴', heading: /乡村|农业|农村|三农/ },
  { topic: '生态环境', heading: /生态|环境|绿色/ },
  { topic: '科技创新', heading: /创新|科技|人才|动能/ },
  { topic: '城镇建设', heading: /城镇|城乡|城市/ },
  { topic: '社会治理', heading: /治理|执法|治安|平安/ },
  { topic: '党建', heading: /党建/ },
];

/** Everyday topics that rarely head a section but fill its text: offered when a plan mentions them. */
const TEXT_TOPICS: ReadonlyArray<{ topic: string; text: RegExp }> = [
  { topic: '养老', text: /养老|老年人/ },
  { topic: '教育', text: /教育|学校|幼儿园/ },
  { topic: '就业', text: /就业/ },
];

/** "2022年上半年" when a heading on the path names a half year, else the year itself. */
function periodOf(path: readonly string[], years: readonly number[], role: SuggestionCandidate['role'], docYears: readonly number[]): string | undefined {
  for (const heading of path) {
    const half = /(\d{4})年(上半年|下半年)/.exec(heading);
    if (half) return `${half[1]}年${half[2]}`;
  }
  const pool = years.length > 0 ? years : docYears;
  if (pool.length === 0) return undefined;
  // A review looks back at its earliest year, a plan ahead to its latest.
  const year = role === 'plan' ? Math.max(...pool) : Math.min(...pool);
  return `${year}年`;
}

function questionOf(town: string, period: string, topic: string, role: SuggestionCandidate['role']): string {
  return role === 'plan' ? `${town}${period}${topic}有什么打算?` : `${town}${period}${topic}做了哪些工作?`;
}

/**
 * Candidate questions for each town, in the order they should be tried: heading topics in
 * report order, alternating plan and review, then the everyday topics. Pure.
 */
export function suggestionCandidates(documents: ReadonlyArray<DocumentSummary & { text: string }>): SuggestionCandidate[] {
  const byTown = new Map<string, { plan: SuggestionCandidate[]; review: SuggestionCandidate[]; text: SuggestionCandidate[] }>();
  const seen = new Set<string>();
  const add = (list: SuggestionCandidate[], candidate: SuggestionCandidate): void => {
    if (seen.has(candidate.question)) return;
    seen.add(candidate.question);
    list.push(candidate);
  };
  for (const doc of documents) {
    const town = doc.town;
    if (!town) continue;
    let lists = byTown.get(town);
    if (!lists) byTown.set(town, (lists = { plan: [], review: [], text: [] }));
    const topicsSeen = new Set<string>();
    for (const section of doc.sections) {
      if (section.role !== 'plan' && section.role !== 'review') continue;
      const role = section.role;
      const period = periodOf(section.path, section.years, role, doc.years);
      if (!period) continue;
      for (const { topic, heading } of HEADING_TOPICS) {
        if (!heading.test(section.heading) || topicsSeen.has(`${role}:${topic}`)) continue;
        topicsSeen.add(`${role}:${topic}`);
        add(lists[role], { question: questionOf(town, period, topic, role), town, topic, role });
      }
    }
    const planText = doc.sections
      .filter((s) => s.role === 'plan' && s.path.length === 1)
      .map((s) => ({ period: periodOf(s.path, s.years, 'plan', doc.years), text: doc.text.slice(s.start, s.end) }));
    for (const { topic, text } of TEXT_TOPICS) {
      const section = planText.find((s) => s.period && text.test(s.text));
      if (section?.period) add(lists.text, { question: questionOf(town, section.period, topic, 'plan'), town, topic, role: 'plan' });
    }
  }
  const ordered: SuggestionCandidate[] = [];
  for (const { plan, review, text } of byTown.values()) {
    for (let i = 0; i < Math.max(plan.length, review.length); i++) {
      if (plan[i]) ordered.push(plan[i]!);
      if (review[i]) ordered.push(review[i]!);
    }
    ordered.push(...text);
  }
  return ordered;
}

export interface SuggesterOptions {
  /** Suggestions kept per town. Default 4. */
  perTown?: number;
  /** Candidates tried per town before giving up on more. Default 12. */
  maxTries?: number;
}

export interface Suggester {
  /** Suggestions for one town, or (no town) the best one or two of every town. Cached. */
  suggest(town?: string): Promise<Suggestion[]>;
}

/**
 * An answer that only introduces a list ("主要做了以下五个方面的工作:[1]") cites a passage but
 * answers nothing: a suggestion leading to it is dropped.
 */
const INTRO_ONLY = /[:：]\[\d+\]/;

/** Asks the service each town's candidates (once, lazily) and keeps those it answers well. */
export function createSuggester(service: QaService, options: SuggesterOptions = {}): Suggester {
  const perTown = options.perTown ?? 4;
  const maxTries = options.maxTries ?? 12;
  const documents = service.listDocuments().map((d) => service.getDocument(d.docId)!);
  const candidates = suggestionCandidates(documents);
  const cache = new Map<string, Promise<Suggestion[]>>();

  const forTown = (town: string): Promise<Suggestion[]> => {
    let pending = cache.get(town);
    if (!pending) {
      pending = (async () => {
        const kept: Suggestion[] = [];
        const passages = new Set<string>();
        for (const candidate of candidates.filter((c) => c.town === town).slice(0, maxTries)) {
          if (kept.length >= perTown) break;
          const answer = await service.ask({ question: candidate.question, filters: { town } });
          const first = answer.citations[0];
          if (!answer.found || !first || INTRO_ONLY.test(answer.answer) || passages.has(first.chunkId)) continue;
          passages.add(first.chunkId);
          kept.push({ question: candidate.question, town });
        }
        return kept;
      })();
      // A failure is not cached: the next request tries again.
      pending.catch(() => cache.delete(town));
      cache.set(town, pending);
    }
    return pending;
  };

  return {
    async suggest(town) {
      if (town !== undefined) return forTown(town);
      const all = await Promise.all(service.towns.map((t) => forTown(t)));
      // Interleaved, so every town shows up before any shows twice.
      const mixed: Suggestion[] = [];
      for (let i = 0; i < 2; i++) for (const list of all) if (list[i]) mixed.push(list[i]!);
      return mixed.slice(0, 6);
    },
  };
}
