/**
 * src/domain/ sits below every stage: it imports nothing but itself (no package, no other
 * folder of src/), so any stage, the server and the CLIs can use it without an upward import.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const DIR = path.dirname(fileURLToPath(import.meta.url));

describe('src/domain/', () => {
  it('imports only its own modules', () => {
    const files = fs.readdirSync(DIR).filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts'));
    expect(files.length).toBeGreaterThanOrEqual(7);
    for (const file of files) {
      const specifiers = [...fs.readFileSync(path.join(DIR, file), 'utf8').matchAll(/^\s*(?:import|export)\b[^'"]*?from\s+'([^']+)'/gm)].map((m) => m[1]!);
      for (const s of specifiers) expect(s, `${file} imports ${s}`).toMatch(/^\.\/[\w-]+\.js$/);
    }
  });
});
