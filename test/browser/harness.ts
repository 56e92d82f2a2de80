/**
 * What the browser tests (and the screenshot script) share: finding and launching Debian's
 * chromium through playwright-core, serving the real app on 127.0.0.1, and serving a town
 * website on another loopback origin that embeds the widget with the one documented tag.
 * No vitest import here, so `npx tsx test/browser/take-screenshots.ts` can use it too.
 */
import fs from 'node:fs';
import http, { type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { chromium, type Browser } from 'playwright-core';

/** Where chromium may live: CHROMIUM_PATH, then Debian's and Ubuntu's names. */
export function findChromium(): string | undefined {
  const candidates = [process.env['CHROMIUM_PATH'], '/usr/bin/chromium', '/usr/bin/chromium-browser'].filter((p): p is string => Boolean(p));
  return candidates.find((p) => fs.existsSync(p));
}

/**
 * Chromium for a browser suite: its path, or undefined (the suite skips, saying why) when it is
 * missing outside CI. In CI (CI=true or 1) a missing browser is a broken setup, never a reason
 * to pass: this throws, and the suite fails.
 */
export function chromiumForTests(): string | undefined {
  const found = findChromium();
  if (found) return found;
  if (/^(true|1|yes)$/i.test(process.env['CI'] ?? '')) {
    throw new Error('browser tests: chromium not found; .ci/run installs it (apt-get install chromium), or set CHROMIUM_PATH');
  }
  console.warn('browser tests SKIPPED: chromium not found (apt-get install chromium, or set CHROMIUM_PATH to run them)');
  return undefined;
}

/** Flags for a quiet, offline, sandbox-less headless chromium in a container. */
const CHROMIUM_ARGS = ['--headless=new', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

export function launchBrowser(executablePath: string): Promise<Browser> {
  return chromium.launch({ executablePath, args: CHROMIUM_ARGS });
}

export interface Listening {
  server: Server;
  origin: string;
  close(): Promise<void>;
}

/** Serves a request handler (an Express app or a plain one) on 127.0.0.1 at a free port. */
export async function listen(handler: http.RequestListener): Promise<Listening> {
  const server = http.createServer(handler);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    server,
    origin,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export interface HostSite {
  /** The town website's origin (another port than the app: another origin). */
  origin: string;
  /** Points the site's pages at the app (the widget tag's src and the site's CSP). */
  setApp(appOrigin: string, attributes?: Record<string, string>): void;
  close(): Promise<void>;
}

/**
 * A town government website: two pages (/ and /news.html) that embed the widget with one tag,
 * a stylesheet that tries hard to break embedded content, and a strict CSP of its own (no
 * inline scripts or styles; scripts and connections allowed to the app's origin only).
 */
export async function serveHostSite(options: { stylesheet?: 'hostile' | 'plain' } = {}): Promise<HostSite> {
  let app = '';
  let attrs: Record<string, string> = { 'data-town': '梅李镇' };
  const escapeAttr = (v: string): string => v.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;');
  const page = (title: string, body: string, withWidget: boolean): string => {
    const tagAttrs = Object.entries(attrs)
      .map(([k, v]) => ` ${k}="${escapeAttr(v)}"`)
      .join('');
    return `<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title}</title><link rel="stylesheet" href="/site.css"></head>
<body><nav><a href="/">首页</a> <a href="/news.html">政务公开</a></nav>
<h1>${title}</h1>${body}
${withWidget ? `<script src="${app}/widget.js"${tagAttrs} async></script>` : ''}
</body></html>`;
  };
  const hostile = `/* A site stylesheet with rules that would wreck an un-isolated widget. */
* { font-family: serif !important; letter-spacing: 3px; }
button { background: lime !important; color: lime !important; font-size: 30px !important; }
div, p, span, a { color: #ff00ff; line-height: 3; }
textarea { display: none; }
body { font-size: 20px; margin: 16px; background: #f4efe6; }
`;
  // A sober town-site look, for screenshots.
  const plain = `body { margin: 0; font: 16px/1.7 "Noto Sans CJK SC", sans-serif; color: #222; background: #f5f5f5; }
nav { padding: 10px 32px; background: #a61b1b; } nav a { color: #fff; margin-right: 24px; text-decoration: none; }
h1 { margin: 0; padding: 28px 32px; font-size: 28px; color: #a61b1b; background: #fff; border-bottom: 1px solid #ddd; }
p { margin: 20px 32px; max-width: 720px; } p a { color: #a61b1b; }
`;
  const stylesheet = options.stylesheet === 'plain' ? plain : hostile;
  const pages: Record<string, string> = {
    '/': '<p>欢迎访问镇政府门户网站。本站提供政务公开、办事指南等服务。</p><p><a href="/news.html">查看通知公告</a></p>',
    '/news.html': '<p>通知公告：关于做好2023年度民生实事项目征集工作的通知。</p>',
  };
  const site = await listen((req, res) => {
    const [path = '/', query = ''] = (req.url ?? '/').split('?');
    if (path === '/favicon.ico') {
      res.writeHead(204);
      res.end();
      return;
    }
    if (path === '/site.css') {
      res.writeHead(200, { 'content-type': 'text/css; charset=utf-8' });
      res.end(stylesheet);
      return;
    }
    const body = pages[path];
    if (body === undefined) {
      res.writeHead(404, { 'content-type': 'text/plain' });
      res.end('not found');
      return;
    }
    res.writeHead(200, {
      'content-type': 'text/html; charset=utf-8',
      'content-security-policy': `default-src 'self'; script-src 'self' ${app}; connect-src 'self' ${app}; style-src 'self'; img-src 'self'; object-src 'none'; base-uri 'none'`,
    });
    // ?bare: the same page without the widget, to compare against.
    res.end(page(path === '/' ? '梅李镇人民政府' : '政务公开 - 梅李镇人民政府', body, !/(^|&)bare\b/.test(query)));
  });
  return {
    origin: site.origin,
    setApp(appOrigin, attributes) {
      app = appOrigin;
      if (attributes) attrs = attributes;
    },
    close: site.close,
  };
}
