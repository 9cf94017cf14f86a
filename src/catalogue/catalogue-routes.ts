import { Hono } from 'hono';
import type { Policy } from '../policy/index.js';
import type { SignIn, SignInForm } from '../signin/index.js';
import type { Catalogue } from '../tools/index.js';
import { html, pageResponse, type SafeHtml } from '../ui/index.js';
import { buildCatalogue, type CatalogueItem } from './build-catalogue.js';
import type { CatalogueConfig } from './config.js';

export interface CatalogueRouteDeps {
  readonly config: CatalogueConfig;
  readonly catalogue: Catalogue;
  readonly policy: Policy;
  readonly signin: SignIn;
  readonly publicUrl: URL;
  readonly securityContact: readonly string[];
  readonly now: () => Date;
}

type Env = { Variables: { requestId: string } };

const LOGIN: SignInForm = {
  action: '/catalogue/login',
  purpose: 'catalogue-login',
  lead: 'to see what this gateway serves',
};

const confirmText = (c: CatalogueItem['confirmation']): SafeHtml =>
  c === 'always'
    ? html`<span class="badge confirm">every call</span>`
    : c === 'never'
      ? html`<span class="fine">no</span>`
      : html`<span class="badge confirm">after ${c.after.join(', ')}</span>`;

const contactLink = (v: string): SafeHtml =>
  /^(https:|mailto:)/.test(v) ? html`<a href="${v}">${v.replace(/^mailto:/, '')}</a>` : html`${v}`;

/**
 * `/catalogue` and `/catalogue.json`: every tool, prompt and resource the gateway serves, with
 * its scope, class, data labels and whether it needs confirmation; how to revoke access; and the
 * security contact. `catalogue.visibility` decides who may read it (public, signed-in, off).
 */
export function createCatalogueRoutes(deps: CatalogueRouteDeps): Hono<Env> {
  const app = new Hono<Env>();
  if (deps.config.visibility === 'off') return app;
  const allowed = async (cookie: string | undefined) =>
    deps.config.visibility === 'public' || (await deps.signin.sessions.current(cookie)) !== undefined;
  const doc = () =>
    buildCatalogue(deps.catalogue, deps.policy, {
      publicUrl: deps.publicUrl,
      securityContact: deps.securityContact,
      now: deps.now(),
    });

  app.get('/catalogue.json', async (c) => {
    if (!(await allowed(c.req.header('cookie'))))
      return c.json({ error: 'login_required', error_description: 'Sign in at /catalogue first.' }, 401);
    return c.json(doc(), 200, { 'cache-control': 'no-store' });
  });
  app.post('/catalogue/login', (c) =>
    deps.signin.submit(c, LOGIN, (_user, setCookie) => {
      c.header('set-cookie', setCookie);
      return c.redirect('/catalogue', 303);
    }),
  );
  app.get('/catalogue', async (c) => {
    if (!(await allowed(c.req.header('cookie')))) return deps.signin.page(c, LOGIN);
    const d = doc();
    const groups: [CatalogueItem['kind'], string][] = [
      ['tool', 'Tools'],
      ['prompt', 'Prompts'],
      ['resource-template', 'Resource templates'],
      ['resources', 'Resources'],
    ];
    return pageResponse({
      title: 'Catalogue',
      console: true,
      body: html`<h1>What this gateway serves</h1>
        <p class="lead">
          Every tool, prompt and resource an app can reach through this gateway, with the scope it needs, how
          the operator classifies it, and whether a person must approve each call. (<a href="/catalogue.json"
            >JSON</a
          >)
        </p>
        ${groups.map(([kind, title]) => {
          const items = d.items.filter((i) => i.kind === kind);
          return items.length === 0
            ? ''
            : html`<h2>${title}</h2>
                <table class="grid">
                  <thead>
                    <tr>
                      <th>Name</th>
                      <th>What it does</th>
                      <th>Server</th>
                      <th>Scope</th>
                      <th>Class</th>
                      <th>Data labels</th>
                      <th>Needs confirmation</th>
                    </tr>
                  </thead>
                  <tbody>
                    ${items.map(
                      (i) =>
                        html`<tr>
                          <td><code>${i.name}</code></td>
                          <td>${i.description}</td>
                          <td>${i.server}</td>
                          <td class="mono">${i.scope}</td>
                          <td>${i.class ?? '—'}</td>
                          <td class="mono">${i.labels.join(', ') || '—'}</td>
                          <td>${confirmText(i.confirmation)}</td>
                        </tr>`,
                    )}
                  </tbody>
                </table>`;
        })}
        <h2>Revoking access</h2>
        <p>
          See and disconnect the apps that act for you at <a href="${d.revokeAccess}">${d.revokeAccess}</a>: a
          disconnected app's tokens stop working at its next call. API keys are revoked by the operator.
        </p>
        <h2>Security contact</h2>
        ${
          d.securityContact.length
            ? html`<p>
                Report a vulnerability to
                ${d.securityContact.map((v, i) => html`${i ? ', ' : ''}${contactLink(v)}`)} (also in
                <a href="/.well-known/security.txt">security.txt</a>).
              </p>`
            : html`<p class="fine">
                The operator has not configured a security contact (securityTxt.contact).
              </p>`
        }`,
    });
  });
  return app;
}
