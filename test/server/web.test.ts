/**
 * What a government site embedding the widget relies on, over a real server with the real
 * service: the static widget and pages with their cache headers, security headers with a strict
 * CSP, CORS for listed origins only, the per-client rate limit, and suggested questions.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../src/server/app.js';
import { listen, type Listening } from '../browser/harness.js';
import { openTestService } from '../services.js';

const ALLOWED = 'https://www.meili.gov.cn';
const STRANGER = 'https://evil.example';

let app: Listening;
let limited: Listening;

beforeAll(async () => {
  const { service, config } = await openTestService();
  const deps = { service, maxQuestionChars: config.maxQuestionChars, defaultTopK: config.defaultTopK, allowedOrigins: [ALLOWED] };
  app = await listen(createApp(deps));
  limited = await listen(createApp({ ...deps, rateLimitPerMinute: 3 }));
});

afterAll(async () => {
  await app?.close();
  await limited?.close();
});

const preflight = (base: string, origin: string, path = '/api/ask/stream') =>
  fetch(`${base}${path}`, { method: 'OPTIONS', headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type' } });

describe('static widget and pages', () => {
  it('serves /widget.js as JavaScript any site may load, cached briefly', async () => {
    const res = await fetch(`${app.origin}/widget.js`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(res.headers.get('cache-control')).toMatch(/max-age=300/);
    expect(res.headers.get('cross-origin-resource-policy')).toBe('cross-origin');
    expect(res.headers.get('etag')).toBeTruthy();
    expect(await res.text()).toContain('window.TownQA');
  });

  it('serves the staff page at / and the document view at /documents/:docId, revalidated on each load', async () => {
    for (const path of ['/', '/documents/niutang-2022-midyear-report']) {
      const res = await fetch(`${app.origin}${path}`);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
      expect(res.headers.get('cache-control')).toBe('no-cache');
      const html = await res.text();
      // No inline script and no inline handler: every <script> has a src.
      expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
      expect(html).not.toMatch(/\son[a-z]+=/i);
    }
  });

  it('serves assets with a cache lifetime and answers unknown ones with the JSON 404', async () => {
    const css = await fetch(`${app.origin}/assets/app.css`);
    expect(css.status).toBe(200);
    expect(css.headers.get('content-type')).toMatch(/^text\/css/);
    expect(css.headers.get('cache-control')).toBe('public, max-age=3600');
    for (const path of ['/assets/missing.js', '/assets/.env', '/assets/%2e%2e%2fpackage.json']) {
      const res = await fetch(`${app.origin}${path}`);
      expect(res.status).toBe(404);
      expect((await res.json()).error.code).toBe('E_NOT_FOUND');
    }
  });
});

describe('security headers', () => {
  it('sends a CSP without unsafe-inline or unsafe-eval, and the usual hardening headers', async () => {
    for (const path of ['/', '/api/health', '/widget.js']) {
      const res = await fetch(`${app.origin}${path}`);
      const csp = res.headers.get('content-security-policy') ?? '';
      expect(csp).toContain("script-src 'self'");
      expect(csp).toContain("object-src 'none'");
      expect(csp).toContain("frame-ancestors 'self'");
      expect(csp).toContain("require-trusted-types-for 'script'");
      expect(csp).not.toMatch(/unsafe-inline|unsafe-eval/);
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
      expect(res.headers.get('x-frame-options')).toBe('SAMEORIGIN');
      expect(res.headers.get('referrer-policy')).toBe('strict-origin-when-cross-origin');
    }
  });
});

describe('CORS', () => {
  it('lets a listed origin preflight and read the API', async () => {
    const pre = await preflight(app.origin, ALLOWED);
    expect(pre.status).toBe(204);
    expect(pre.headers.get('access-control-allow-origin')).toBe(ALLOWED);
    expect(pre.headers.get('access-control-allow-methods')).toContain('POST');
    expect(pre.headers.get('access-control-allow-headers')?.toLowerCase()).toContain('content-type');
    const res = await fetch(`${app.origin}/api/documents`, { headers: { origin: ALLOWED } });
    expect(res.headers.get('access-control-allow-origin')).toBe(ALLOWED);
    expect(res.headers.get('access-control-expose-headers')).toContain('Retry-After');
    expect(res.headers.get('vary')).toMatch(/origin/i);
  });

  it('gives an unlisted origin no CORS permission, on the preflight or the request', async () => {
    const pre = await preflight(app.origin, STRANGER);
    expect(pre.status).toBe(403);
    expect(pre.headers.get('access-control-allow-origin')).toBeNull();
    expect(pre.headers.get('access-control-allow-methods')).toBeNull();
    const res = await fetch(`${app.origin}/api/documents`, { headers: { origin: STRANGER } });
    expect(res.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('keeps staff tools (/api/admin) to the service own origin, even for listed origins', async () => {
    const pre = await preflight(app.origin, ALLOWED, '/api/admin/reindex');
    expect(pre.status).toBe(403);
    expect(pre.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('always allows the service own origin (the staff page and the widget on it)', async () => {
    const pre = await preflight(app.origin, app.origin);
    expect(pre.status).toBe(204);
    expect(pre.headers.get('access-control-allow-origin')).toBe(app.origin);
  });
});

describe('rate limit', () => {
  it('answers a client over RATE_LIMIT_PER_MINUTE with 429 E_RATE_LIMITED and Retry-After, readable by an allowed origin', async () => {
    const statuses: number[] = [];
    let last: Response | undefined;
    for (let i = 0; i < 4; i++) {
      last = await fetch(`${limited.origin}/api/documents`, { headers: { origin: ALLOWED } });
      statuses.push(last.status);
    }
    expect(statuses).toEqual([200, 200, 200, 429]);
    expect(Number(last!.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(last!.headers.get('access-control-allow-origin')).toBe(ALLOWED);
    const body = await last!.json();
    expect(body.error.code).toBe('E_RATE_LIMITED');
    // Health probes are not counted, and the pages themselves are not limited.
    expect((await fetch(`${limited.origin}/api/health`)).status).toBe(200);
    expect((await fetch(`${limited.origin}/widget.js`)).status).toBe(200);
  });

  it('is off unless the entry point sets it', async () => {
    for (let i = 0; i < 5; i++) expect((await fetch(`${app.origin}/api/documents`)).status).toBe(200);
  });
});

describe('GET /api/suggestions', () => {
  it("offers questions about the town from its own reports, each answered with a citation", async () => {
    const { service } = await openTestService();
    const res = await fetch(`${app.origin}/api/suggestions?town=${encodeURIComponent('牛塘镇')}`);
    expect(res.status).toBe(200);
    const body = await res.json();
    expect(body.towns).toEqual(service.towns);
    expect(body.suggestions.length).toBeGreaterThanOrEqual(2);
    for (const s of body.suggestions) {
      expect(s.town).toBe('牛塘镇');
      expect(s.question).toMatch(/^牛塘镇2022年/);
      const answer = await service.ask({ question: s.question, filters: { town: '牛塘镇' } });
      expect(answer.found).toBe(true);
    }
  });

  it('knows a town by its bare name, as a site may give it', async () => {
    const body = await (await fetch(`${app.origin}/api/suggestions?town=${encodeURIComponent('牛塘')}`)).json();
    expect(body.suggestions.length).toBeGreaterThan(0);
    expect(body.suggestions.every((s: { town: string }) => s.town === '牛塘镇')).toBe(true);
  });

  it('mixes towns when none is named', async () => {
    const body = await (await fetch(`${app.origin}/api/suggestions`)).json();
    const towns = new Set(body.suggestions.map((s: { town: string }) => s.town));
    expect(towns.size).toBeGreaterThanOrEqual(3);
  });

  it('rejects an unknown town or parameter with 400 E_UNKNOWN_FILTER', async () => {
    for (const query of [`town=${encodeURIComponent('不存在镇')}`, 'year=2023']) {
      const res = await fetch(`${app.origin}/api/suggestions?${query}`);
      expect(res.status).toBe(400);
      expect((await res.json()).error.code).toBe('E_UNKNOWN_FILTER');
    }
  });
});
