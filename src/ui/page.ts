import { html, type SafeHtml } from './html.js';
import { STYLESHEET_PATH } from './styles.js';

export interface PageOptions {
  readonly title: string;
  readonly body: SafeHtml;
  /** Wider card for tables (connected apps, admin lists). */
  readonly wide?: boolean;
  /** The widest card, for the operator console. */
  readonly console?: boolean;
  /** Links in the header (e.g. "Connected apps", "Sign out" when signed in). */
  readonly nav?: SafeHtml;
  /**
   * Origins a form on this page may end up at. Chromium applies `form-action` to the redirects
   * that follow a submission, so a consent form whose answer ends at the client's redirect URI
   * must name that origin; everything else posts only to 'self'.
   */
  readonly formTargets?: readonly string[];
  readonly status?: number;
}

/**
 * The page's Content-Security-Policy: nothing but our own stylesheet, no script at all, forms
 * only to ourselves (and the named redirect origins), never framed.
 */
function pageCsp(formTargets: readonly string[] = []): string {
  return [
    "default-src 'none'",
    "style-src 'self'",
    "img-src 'self' data:",
    `form-action 'self'${formTargets.map((o) => ` ${o}`).join('')}`,
    "frame-ancestors 'none'",
    "base-uri 'none'",
  ].join('; ');
}

/** Renders a full page with the shared layout. */
export function renderPage(opts: PageOptions): string {
  return html`<!doctype html>
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>${opts.title} · Portcullis</title>
        <link rel="stylesheet" href="${STYLESHEET_PATH}" />
      </head>
      <body>
        <header class="top">
          <span class="mark" aria-hidden="true">P</span><span class="name">Portcullis</span>
          ${opts.nav ? html`<nav>${opts.nav}</nav>` : ''}
        </header>
        <main>
          <div class="card${opts.console ? ' console' : opts.wide ? ' wide' : ''}">${opts.body}</div>
        </main>
        <footer>Protected by Portcullis</footer>
      </body>
    </html> `.value;
}

/** A page as an HTTP response, with the page CSP and the headers pages must never lack. */
export function pageResponse(opts: PageOptions, headers: Record<string, string> = {}): Response {
  return new Response(renderPage(opts), {
    status: opts.status ?? 200,
    headers: {
      'content-type': 'text/html; charset=utf-8',
      'content-security-policy': pageCsp(opts.formTargets),
      'x-frame-options': 'DENY',
      'cache-control': 'no-store',
      // Forms need their Origin header (the gateway refuses `Origin: null`, which is what
      // browsers send under `no-referrer`); `same-origin` still sends nothing to other sites.
      'referrer-policy': 'same-origin',
      ...headers,
    },
  });
}

/** A short error page: public text only, with a correlation id for support. */
export function errorPage(title: string, message: string, status: number, requestId?: string): Response {
  return pageResponse({
    title,
    status,
    body: html`<h1>${title}</h1>
      <p class="lead">${message}</p>
      ${requestId ? html`<p class="fine">Reference: <span class="mono">${requestId}</span></p>` : ''}`,
  });
}

/** The answer to a form whose CSRF token does not check out: the same words on every page. */
export function csrfRefusedPage(requestId?: string): Response {
  return errorPage(
    'Request refused',
    'This form was not sent from this page. Reload the page and try again.',
    403,
    requestId,
  );
}
