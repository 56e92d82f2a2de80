/**
 * Town names as the reports and their readers write them: the administrative suffixes
 * (镇, 街道, 乡, and 镇街道 for a 街道 named after its former 镇), the names a town goes by
 * (梅李镇 and 梅李; 天生港镇街道, 天生港镇 and 天生港), and place-shaped runs of text that are
 * common nouns rather than names (全镇, 城镇, 乡镇, 小镇, 特色小镇). Every stage that reads a town
 * from text (document structure, questions, answers, commitments, feedback, town settings) uses
 * these rules; the widget gets the suffixes served with its labels (src/server/labels-asset.ts).
 * Pure, no I/O.
 */

/** Suffixes of a township-level name, longest first (天生港镇街道 is a 街道, not a 镇). */
export const TOWN_SUFFIXES: readonly string[] = Object.freeze(['镇街道', '街道', '镇', '乡']);

/** The suffixes as a regular-expression alternation, for patterns built around a town name. */
export const TOWN_SUFFIX_PATTERN = `(?:${TOWN_SUFFIXES.join('|')})`;

/** Suffixes of the city and district a town belongs to (常州市武进区). */
const DISTRICT_SUFFIXES = ['市', '区', '县'];

const TOWN_SUFFIX_AT_END = new RegExp(`${TOWN_SUFFIX_PATTERN}$`);
const ANY_SUFFIX_AT_END = new RegExp(`(?:${[...TOWN_SUFFIXES, ...DISTRICT_SUFFIXES].join('|')})$`);

/** A town's name without its administrative suffix: 梅李镇 → 梅李, 天生港镇街道 → 天生港. */
export function townStem(name: string): string {
  return name.replace(TOWN_SUFFIX_AT_END, '');
}

/** A town's or a district's name without its suffix (武进区 → 武进), for dictionary terms. */
export function placeStem(name: string): string {
  return name.replace(ANY_SUFFIX_AT_END, '');
}

/**
 * The names a town goes by, longest first: the full name, without 街道 (天生港镇), and the stem
 * (天生港). A stem shorter than two characters is no name of its own (it would match anywhere).
 */
export function townAliases(town: string): string[] {
  return [...new Set([town, town.replace(/街道$/, ''), townStem(town)])].filter((a) => a.length >= 2).sort((a, b) => b.length - a.length);
}

/** True when `text` names `town` by any of its names. */
export function namesTown(text: string, town: string): boolean {
  return townAliases(town).some((alias) => text.includes(alias));
}

/** Known towns a text names, by any of their names (NFKC-normalised first), in `knownTowns`' order. */
export function townsNamed(text: string, knownTowns: readonly string[]): string[] {
  const t = text.normalize('NFKC');
  return knownTowns.filter((town) => namesTown(t, town));
}

/**
 * The known town a name given by a site or a user means: the same name, else the one with the
 * same stem (梅李 or 梅李街道 for 梅李镇). Undefined when none fits.
 */
export function matchTown(name: string, knownTowns: readonly string[]): string | undefined {
  return knownTowns.find((t) => t === name) ?? knownTowns.find((t) => townStem(t) === townStem(name));
}

/**
 * Stems that make a place-shaped run a common noun, not a name: quantifiers and pronouns
 * (全镇, 本镇, 各乡, 每个镇, 两镇), kinds (城镇, 乡镇, 小镇, 强镇, 名镇, 特色小镇, 集镇, 古镇), higher
 * levels (市, 县, 区), and glue words that a run can start with (在镇里, 到乡下, 返乡, 回乡).
 */
const COMMON_STEM = /^(全|本|各|该|我|乡|城|小|强|大|新|特色|集|古|名|重|建|市|县|区|的|在|和|与|及|个|为|里|上|那|这|哪|每|村|两|三|四|五|六|七|八|九|十|百|千|万|多|入|进|到|返|离|回)/;
/** Function words no place name holds. */
const FUNCTION_CHAR = /[的了在和与是有么个]/;

/** True when `stem` (the characters before a town suffix) can be a place's name. */
export function isPlaceStem(stem: string): boolean {
  return /^[\u4e00-\u9fff]+$/.test(stem) && !COMMON_STEM.test(stem) && !FUNCTION_CHAR.test(stem);
}

/** A place-shaped run of text: a 2-3 character stem, then a town suffix. */
export interface PlaceRun {
  /** The whole run, 周庄镇. */
  name: string;
  /** The characters before the suffix, 周庄. */
  stem: string;
  /** Offset of the run in the text. */
  index: number;
}

const PLACE = new RegExp(`([\\u4e00-\\u9fff]{2,3}?)(${TOWN_SUFFIXES.join('|')})`, 'g');

/** The runs of a text shaped like a place name (XX镇, XXX街道, XX乡) whose stem can be a name, in text order. */
export function placeRuns(text: string): PlaceRun[] {
  const out: PlaceRun[] = [];
  for (const m of text.matchAll(PLACE)) {
    const stem = m[1]!;
    if (isPlaceStem(stem)) out.push({ name: stem + m[2]!, stem, index: m.index });
  }
  return out;
}
