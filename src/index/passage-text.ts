/**
 * What is embedded and keyword-indexed for a chunk: its text, preceded by the town and the
 * heading it sits under, so that a passage deep in a section still matches 梅李镇 or 安置房.
 */
import type { Chunk } from '../domain/types.js';

export function textForIndexing(chunk: Chunk): string {
  const heading = chunk.sectionPath.at(-1) ?? '';
  const context = chunk.text.startsWith(heading) ? chunk.town : `${chunk.town} ${heading}`;
  return `${context}\n${chunk.text}`;
}
