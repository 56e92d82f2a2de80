/**
 * The browser shows the domain's words: /assets/labels.js exports the maps of src/domain/, the
 * widget is served with them written in, and no page or widget holds a copy of its own.
 */
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import express from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TOPICS } from '../../src/domain/commitment.js';
import { FIRMNESS_LABELS, FOLLOW_UP_STATUS_LABELS, REASON_LABELS, ROLE_LABELS, STATUS_LABELS } from '../../src/domain/labels.js';
import { TOWN_SUFFIXES } from '../../src/domain/towns.js';
import { withSharedValues } from '../../src/server/labels-asset.js';
import { createStaticRoutes, DEFAULT_WEB_DIR } from '../../src/server/static.js';
import { listen, type Listening } from '../browser/harness.js';

let app: Listening;

beforeAll(async () => {
  const router = express();
  router.use(createStaticRoutes());
  app = await listen(router);
});

afterAll(async () => {
  await app?.close();
});

describe('/assets/labels.js', () => {
  it('is a module exporting the domain maps, cached like the other assets', async () => {
    const res = await fetch(`${app.origin}/assets/labels.js`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(res.headers.get('cache-control')).toBe('public, max-age=3600');
    const mod = (await import(`data:text/javascript;base64,${Buffer.from(await res.text()).toString('base64')}`)) as Record<string, unknown>;
    expect({ ...mod }).toEqual({ ROLE_LABELS, FOLLOW_UP_STATUS_LABELS, FIRMNESS_LABELS, STATUS_LABELS, REASON_LABELS, TOWN_SUFFIXES, TOPICS });
  });
});

describe('/widget.js', () => {
  it('carries the role labels and town suffixes, with an ETag that revalidates', async () => {
    const res = await fetch(`${app.origin}/widget.js`);
    expect(res.status).toBe(200);
    const body = await res.text();
    expect(body).toContain(`const SHARED = ${JSON.stringify({ roles: ROLE_LABELS, townSuffixes: TOWN_SUFFIXES })};`);
    expect(body).not.toContain('/*@shared*/');
    const etag = res.headers.get('etag');
    expect(etag).toBeTruthy();
    // node:http, not fetch: fetch marks a conditional request no-cache, which no server answers with 304.
    const status = await new Promise<number | undefined>((resolve, reject) => {
      http.get(`${app.origin}/widget.js`, { headers: { 'if-none-match': etag! } }, (r) => resolve(r.resume().statusCode)).on('error', reject);
    });
    expect(status).toBe(304);
  });

  it('refuses a widget that lost its placeholder', () => {
    expect(() => withSharedValues('const SHARED = {};')).toThrow(/placeholder/);
  });
});

describe('web/', () => {
  it('holds no copy of a domain label or of the town suffixes', () => {
    const words = [...Object.values(ROLE_LABELS), ...Object.values(FOLLOW_UP_STATUS_LABELS), ...Object.values(STATUS_LABELS), ...Object.values(REASON_LABELS)].filter((w) => w !== '其他');
    for (const file of fs.readdirSync(DEFAULT_WEB_DIR).filter((f) => /\.(js|html)$/.test(f))) {
      const text = fs.readFileSync(path.join(DEFAULT_WEB_DIR, file), 'utf8');
      for (const word of words) expect(text.includes(`'${word}'`) || text.includes(`>${word}<`), `${file} holds '${word}'`).toBe(false);
      expect(text, file).not.toMatch(/镇街道\|街道\|镇/);
      expect(text, file).not.toContain("'养老与社会保障'");
    }
  });
});
