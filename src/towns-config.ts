/**
 * Per-town widget settings (config/towns.json): the welcome line, preset first questions, and how
 * to reach a person (contact line, office hours) when the reports do not answer. Read and
 * validated once at start by the entry point; a bad file stops the start with a message naming
 * the file and the bad field. Core modules receive the parsed value.
 */
import fs from 'node:fs';
import { z } from 'zod';
import { AppError } from './errors.js';
import { matchTown } from './domain/towns.js';

/** Longest text a setting may hold: these are lines in a chat panel, not documents. */
const LINE = z.string().trim().min(1).max(200);

const settingsSchema = z.strictObject({
  /** First line of the chat, e.g. "您好！我可以回答梅李镇政府工作报告中的问题。" */
  welcome: LINE.optional(),
  /** Questions offered on first open (at most 6), instead of the derived suggestions. */
  presets: z.array(LINE).max(6).optional(),
  /** How to reach a person, shown with every answer the reports do not settle, e.g. "镇政府办公室 0512-…" or "12345". */
  contact: LINE.optional(),
  /** When that person is reachable, e.g. "工作日 8:30-17:00". */
  hours: LINE.optional(),
});

const fileSchema = z.strictObject({
  /** Settings for towns the file does not name, and the base every town's settings extend. */
  default: settingsSchema.default({}),
  /** Settings by the town's name as the reports give it (梅李镇, 天生港镇街道). */
  towns: z.record(z.string().trim().min(1).max(50), settingsSchema).default({}),
});

export type TownSettings = z.infer<typeof settingsSchema>;
export type TownsConfig = z.infer<typeof fileSchema>;

/** No file: no welcome override, no presets, no contact line. */
export const EMPTY_TOWNS_CONFIG: TownsConfig = Object.freeze({ default: {}, towns: {} });

/** Validates parsed JSON; throws E_CONFIG naming `source` and each bad field. */
export function parseTownsConfig(value: unknown, source = 'towns config'): TownsConfig {
  const parsed = fileSchema.safeParse(value);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.') || '(top level)'}: ${i.message}`).join('; ');
    throw new AppError('E_CONFIG', `${source}: invalid town settings: ${problems}`);
  }
  return parsed.data;
}

/** Reads and validates the file; a missing file is no settings at all (the file is optional). */
export function loadTownsConfig(file: string): TownsConfig {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return EMPTY_TOWNS_CONFIG;
    throw new AppError('E_CONFIG', `${file}: cannot read town settings: ${(err as Error).message}`, { cause: err });
  }
  let json: unknown;
  try {
    json = JSON.parse(text.replace(/^\uFEFF/, ''));
  } catch (err) {
    throw new AppError('E_CONFIG', `${file}: town settings are not valid JSON: ${(err as Error).message}`, { cause: err });
  }
  return parseTownsConfig(json, file);
}

/** The town's settings over the defaults; an unknown or absent town gets the defaults. */
export function settingsFor(config: TownsConfig, town: string | undefined): TownSettings {
  // A site may write its town without the suffix (梅李 for 梅李镇).
  const key = town === undefined ? undefined : matchTown(town, Object.keys(config.towns));
  const own = key === undefined ? {} : config.towns[key] ?? {};
  return { ...config.default, ...own };
}
