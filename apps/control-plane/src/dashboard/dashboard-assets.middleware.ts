import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Injectable, type NestMiddleware, NotFoundException } from '@nestjs/common';
import express, { type NextFunction, type Request, type Response } from 'express';

/** Where `npx nx build dashboard` writes the dashboard: `apps/dashboard/dist`, beside this app. */
export const DASHBOARD_DIST = resolve(__dirname, '../../../dashboard/dist');

/**
 * The page may load only its own scripts and styles and talk only to this origin (the API token lives in its
 * storage). Inline styles are allowed: React and uPlot set element styles.
 */
const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
  "form-action 'none'",
].join('; ');

/**
 * Serves the dashboard: its page at `/` and its content-hashed files under `/assets/`. Nothing else: every other
 * path stays the API's, so the dashboard routes in the URL fragment (`/#/devices`) and a reload never meets an
 * API route. Everything here is public; the page asks for an API token and sends it with each API call.
 */
@Injectable()
export class DashboardAssetsMiddleware implements NestMiddleware {
  private readonly indexHtml: Buffer | undefined;
  private readonly assets = express.static(DASHBOARD_DIST, {
    index: false,
    immutable: true,
    maxAge: '1y',
    fallthrough: true,
  });

  constructor() {
    const indexFile = join(DASHBOARD_DIST, 'index.html');
    this.indexHtml = existsSync(indexFile) ? readFileSync(indexFile) : undefined;
  }

  use(request: Request, response: Response, next: NextFunction): void {
    if (request.path === '/') {
      this.sendPage(response);
      return;
    }
    if (request.path.startsWith('/assets/')) {
      this.assets(request, response, next);
      return;
    }
    next();
  }

  private sendPage(response: Response): void {
    if (this.indexHtml === undefined) {
      throw new NotFoundException(
        `the dashboard is not built (no ${join(DASHBOARD_DIST, 'index.html')}): run \`npx nx build dashboard\``,
      );
    }
    response
      .status(200)
      .set({
        'content-type': 'text/html; charset=utf-8',
        'cache-control': 'no-cache',
        'content-security-policy': CONTENT_SECURITY_POLICY,
        'x-content-type-options': 'nosniff',
        'referrer-policy': 'no-referrer',
      })
      .send(this.indexHtml);
  }
}
