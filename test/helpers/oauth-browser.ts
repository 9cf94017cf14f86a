/**
 * A headless "person with a browser" for OAuth tests that do not need Chromium: keeps cookies,
 * follows redirects within the gateway, fills in the login and consent forms. It stops at the
 * first redirect that leaves the gateway (the client's redirect URI) and returns it.
 */
export class TestBrowser {
  readonly cookies = new Map<string, string>();

  constructor(readonly origin: string) {}

  cookieHeader(): string {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  }

  private remember(res: Response) {
    for (const line of res.headers.getSetCookie()) {
      const [pair, ...attrs] = line.split(';');
      const i = pair!.indexOf('=');
      const name = pair!.slice(0, i).trim();
      const value = pair!.slice(i + 1).trim();
      const expired = attrs.some((a) => /^\s*max-age=0\s*$/i.test(a) || /expires=Thu, 01 Jan 1970/i.test(a));
      if (expired || value === '') this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
  }

  async request(url: string, init: { method?: string; form?: Record<string, string>; origin?: string } = {}) {
    const res = await fetch(new URL(url, this.origin), {
      method: init.method ?? (init.form ? 'POST' : 'GET'),
      redirect: 'manual',
      headers: {
        cookie: this.cookieHeader(),
        ...(init.form
          ? { 'content-type': 'application/x-www-form-urlencoded', origin: init.origin ?? this.origin }
          : {}),
      },
      ...(init.form ? { body: new URLSearchParams(init.form).toString() } : {}),
    });
    this.remember(res);
    return res;
  }

  /** GETs or POSTs and follows redirects while they stay on the gateway; returns the last response and URL. */
  async navigate(
    url: string,
    init: { form?: Record<string, string> } = {},
  ): Promise<{ res: Response; url: string; body: string }> {
    let current = new URL(url, this.origin).href;
    let res = await this.request(current, init);
    for (let hops = 0; hops < 20; hops++) {
      const location = res.headers.get('location');
      if (res.status < 300 || res.status >= 400 || !location) break;
      const next = new URL(location, current);
      if (next.origin !== this.origin) return { res, url: next.href, body: '' };
      current = next.href;
      res = await this.request(current);
    }
    return { res, url: current, body: await res.text() };
  }

  /**
   * Runs an authorization request to the end as a person would: signs in if asked, consents if
   * asked (or denies), and returns the URL the gateway finally sends the browser to.
   */
  async authorize(
    authorizationUrl: string,
    person: { name: string; password: string; consent?: 'allow' | 'deny' },
  ): Promise<URL> {
    let page = await this.navigate(authorizationUrl);
    for (let step = 0; step < 5; step++) {
      if (new URL(page.url).origin !== this.origin) return new URL(page.url);
      const csrf = /name="csrf" value="([^"]+)"/.exec(page.body)?.[1];
      const action = /<form method="post" action="([^"]+)"/.exec(page.body)?.[1];
      if (!csrf || !action)
        throw new Error(`no form on ${page.url} (${page.res.status}): ${page.body.slice(0, 400)}`);
      if (action.endsWith('/login')) {
        page = await this.navigate(action, { form: { csrf, name: person.name, password: person.password } });
        const alert = /role="alert">([^<]*)</.exec(page.body)?.[1];
        if (alert) throw new Error(`login refused: ${alert}`);
      } else if (action.endsWith('/confirm')) {
        const target = person.consent === 'deny' ? action.replace(/\/confirm$/, '/abort') : action;
        page = await this.navigate(target, { form: { csrf } });
      } else {
        throw new Error(`unexpected form action ${action}`);
      }
    }
    throw new Error('authorization did not finish');
  }
}

/** Pulls the CSRF token and form action out of a rendered page. */
export function formOf(body: string): { csrf: string; action: string } {
  const csrf = /name="csrf" value="([^"]+)"/.exec(body)?.[1];
  const action = /<form method="post" action="([^"]+)"/.exec(body)?.[1];
  if (!csrf || !action) throw new Error(`no form in page: ${body.slice(0, 300)}`);
  return { csrf, action };
}
