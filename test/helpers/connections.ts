import { createHash, randomBytes } from 'node:crypto';
import type { UpstreamOAuthClient } from '../../src/connections/index.js';
import path from 'node:path';
import { formOf, TestBrowser } from './oauth-browser.js';

const ROOT = path.resolve(import.meta.dirname, '../../..');

/** The stdio server that reports its key (test/fixtures/keyed-server.ts, compiled). */
export const KEYED_SERVER = path.join(ROOT, 'dist/test/fixtures/keyed-server.js');

/** What keyed-server's whoami reports for a key. */
export const keyLabel = (key: string) => `key:${createHash('sha256').update(key).digest('hex').slice(0, 16)}`;

/** A person signed in on /account/connections, with a cookie jar (no JavaScript, like the page). */
export async function signedInOnConnections(
  origin: string,
  person: { name: string; password: string },
): Promise<TestBrowser> {
  const browser = new TestBrowser(origin);
  const page = await browser.navigate('/account/connections');
  const { csrf, action } = formOf(page.body);
  const after = await browser.navigate(action, {
    form: { csrf, name: person.name, password: person.password },
  });
  if (!after.body.includes('Your accounts on other services'))
    throw new Error(`sign-in failed: ${after.body.slice(0, 400)}`);
  return browser;
}

/** The CSRF token and the action of the form on the page whose action ends with `suffix`. */
export function formEndingWith(body: string, suffix: string): { csrf: string; action: string } {
  const forms = [
    ...body.matchAll(/<form method="post" action="([^"]+)"[\s\S]*?name="csrf" value="([^"]+)"/g),
  ];
  const found = forms.find((m) => m[1]!.endsWith(suffix));
  if (!found) throw new Error(`no form ending with ${suffix}`);
  return { action: found[1]!, csrf: found[2]! };
}

/** Pastes a key for an upstream on the connections page; returns the final page. */
export async function pasteKey(browser: TestBrowser, upstream: string, key: string) {
  const page = await browser.navigate('/account/connections');
  const { csrf, action } = formEndingWith(page.body, `/${upstream}/secret`);
  return browser.navigate(action, { form: { csrf, secret: key } });
}

/**
 * A protocol-free UpstreamOAuthClient: only the contract, so the connections side (pending state,
 * binding to the person, single use, sealing) is attacked on its own. The real client
 * (connections/upstream-oauth/) runs against test/fixtures/upstream-as.ts in
 * test/e2e/connections-oauth.test.ts.
 */
export function standInOAuthClient(): UpstreamOAuthClient & { issued: string[]; revoked: string[] } {
  const issued: string[] = [];
  const revoked: string[] = [];
  return {
    issued,
    revoked,
    async beginAuthorization(settings, redirectUri) {
      const state = randomBytes(16).toString('base64url');
      const url = `https://as.example/authorize?client_id=${settings.clientId}&state=${state}`;
      return {
        ok: true,
        value: {
          url,
          pending: {
            state,
            codeVerifier: randomBytes(32).toString('base64url'),
            redirectUri,
            issuer: 'https://as.example',
          },
        },
      };
    },
    async completeAuthorization(_settings, pending, callback) {
      if (callback.searchParams.get('state') !== pending.state)
        return { ok: false, reason: 'mismatch', detail: 'state' };
      const code = callback.searchParams.get('code') ?? '';
      if (!code.startsWith('code-for-')) return { ok: false, reason: 'refused', detail: 'invalid_grant' };
      const accessToken = `at-${randomBytes(12).toString('hex')}`;
      issued.push(accessToken);
      return {
        ok: true,
        value: {
          accessToken,
          refreshToken: `rt-${randomBytes(12).toString('hex')}`,
          expiresAt: Date.now() + 3_600_000,
          scopes: ['repo'],
          subject: code.slice('code-for-'.length),
        },
      };
    },
    async refresh() {
      return { ok: false, reason: 'refused', detail: 'stand-in does not refresh' };
    },
    async revoke(_settings, token) {
      revoked.push(token);
      return { ok: true, value: true };
    },
    async exchangeToken() {
      return { ok: false, reason: 'refused', detail: 'stand-in does not exchange' };
    },
  };
}
