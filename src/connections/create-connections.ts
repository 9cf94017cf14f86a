import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import type { AuditEntry } from '../audit/index.js';
import type { Principal } from '../auth/index.js';
import { resolveSecretAsync, type VaultClient } from '../secrets/index.js';
import type { ConnectionRecord, ConnectionStore } from '../storage/index.js';
import type {
  PersonCredential,
  PersonCredentialSource,
  PersonOAuthConfig,
  PersonSecretConfig,
  UpstreamConfig,
} from '../upstreams/index.js';
import type { ConnectionsConfig } from './config.js';
import type {
  PendingAuthorization,
  UpstreamOAuthClient,
  UpstreamOAuthSettings,
  UpstreamTokenSet,
} from './upstream-oauth-contract.js';
import type { SealBinding, Vault } from './vault.js';

/** What is sealed in a connection row. JSON, then AES-256-GCM (vault.ts). */
type Payload =
  | { readonly kind: 'secret'; readonly secret: string }
  | { readonly kind: 'oauth'; readonly accessToken: string; readonly refreshToken?: string };

/** A person, as the signed-in page or the credential names them. */
export interface Person {
  readonly tenant: string;
  readonly subject: string;
}

/** How one upstream needing a person's credential looks to that person (the connections page). */
export interface ConnectionView {
  readonly upstream: string;
  readonly mode: 'person-oauth' | 'person-secret' | 'token-exchange';
  readonly label: string;
  readonly scopes: readonly { scope: string; text: string }[];
  readonly connection: ConnectionRecord | undefined;
}

export type ConnectOutcome =
  | { readonly ok: true; readonly connection: ConnectionRecord }
  | { readonly ok: false; readonly message: string };

export interface Connections extends PersonCredentialSource {
  /** Upstreams that take a person's credential, with the person's connection to each. */
  overview(person: Person): Promise<ConnectionView[]>;
  /** Keeps a pasted key (person-secret), after its test call if one is configured. */
  connectSecret(person: Person, upstream: string, secret: string, requestId: string): Promise<ConnectOutcome>;
  /** Starts a person-oauth connection: the URL to send the person to. Pending state stays here. */
  beginOAuth(
    person: Person,
    upstream: string,
  ): Promise<{ ok: true; url: string } | { ok: false; message: string }>;
  /** The callback: single use, only for the person who started it, within the TTL. */
  completeOAuth(person: Person, callback: URL, requestId: string): Promise<ConnectOutcome>;
  /** Revokes at the upstream where offered, then deletes; false when the person has no such connection. */
  disconnect(person: Person, connectionId: string, requestId: string): Promise<boolean>;
  /** Administrative revocation (CLI): by id, whoever owns it. */
  revokeById(connectionId: string, requestId: string): Promise<ConnectionRecord | undefined>;
  /** The URL of the connections page (what the model is told to send the person to). */
  readonly pageUrl: string;
  /** Called after a disconnection, to stop that person's running sessions (set by the gateway). */
  onDisconnect(listener: (upstream: string, person: Person) => Promise<void>): void;
  /** Called after a person connects (or reconnects) an upstream. */
  onConnect(listener: (upstream: string, person: Person) => void): void;
  /**
   * Opens every stored credential once, so the redactor knows each value before any call: a
   * result that echoes another person's key is scrubbed too. A row that does not open is
   * reported (it may have been copied or tampered with) and marked broken.
   */
  learnStored(): Promise<{ opened: number; failed: number }>;
  close(): void;
}

export interface ConnectionsDeps {
  readonly upstreams: readonly UpstreamConfig[];
  readonly store: ConnectionStore;
  readonly vault: Vault;
  readonly config: ConnectionsConfig;
  /** The OAuth client of upstream authorization servers (connections/upstream-oauth). */
  readonly oauth?: UpstreamOAuthClient;
  /** Tests a pasted key with the upstream's configured test call; resolves to an error text or undefined. */
  readonly testSecret?: (upstream: string, value: string) => Promise<string | undefined>;
  readonly publicUrl: URL;
  readonly env: NodeJS.ProcessEnv;
  readonly secretsVault?: VaultClient;
  /** Every credential value opened or received: for the redactor (logs, results, errors, audit). */
  readonly onSecret: (value: string) => void;
  readonly audit?: (entry: AuditEntry) => Promise<void>;
  readonly logger: Logger;
  readonly now: () => Date;
}

interface Pending {
  readonly person: Person;
  readonly upstream: string;
  readonly pending: PendingAuthorization;
  readonly expiresAt: number;
}

/** Most connect flows waiting for their callback at once (each is small; this bounds a flood). */
const MAX_PENDING = 10_000;
/** lastUsedAt is written at most this often per connection. */
const TOUCH_EVERY_MS = 60_000;

const newId = () => `conn_${randomBytes(12).toString('base64url')}`;
const bindingOf = (r: Pick<ConnectionRecord, 'tenant' | 'subject' | 'upstream' | 'id'>): SealBinding => ({
  tenant: r.tenant,
  subject: r.subject,
  upstream: r.upstream,
  connectionId: r.id,
});

/**
 * People's own upstream credentials: connecting (a pasted key, or OAuth at the upstream's AS),
 * keeping them sealed in the vault, and handing the calling person's — and only theirs — to
 * upstreams/ at call time, refreshed server-side before expiry.
 */
export function createConnections(deps: ConnectionsDeps): Connections {
  const configs = new Map(deps.upstreams.filter((u) => u.auth).map((u) => [u.name, u]));
  const pageUrl = new URL('/account/connections', deps.publicUrl).href;
  const redirectUri = new URL('/account/connections/callback', deps.publicUrl).href;
  const pending = new Map<string, Pending>();
  const refreshing = new Map<string, Promise<void>>();
  /** Connections the upstream answered 401 to: refreshed (or broken) at the next resolve. */
  const forceRefresh = new Set<string>();
  const disconnectListeners: ((upstream: string, person: Person) => Promise<void>)[] = [];
  const connectListeners: ((upstream: string, person: Person) => void)[] = [];
  const log = deps.logger.child({ component: 'connections' });

  const record = async (
    entry: Omit<AuditEntry, 'latencyMs' | 'bytesIn' | 'bytesOut' | 'event' | 'decision' | 'outcome'> &
      Partial<AuditEntry>,
  ) => {
    await deps.audit?.({
      event: 'admin',
      decision: 'allow',
      outcome: 'ok',
      latencyMs: 0,
      bytesIn: 0,
      bytesOut: 0,
      ...entry,
    });
  };

  const open = (r: ConnectionRecord): Payload => {
    const payload = JSON.parse(deps.vault.open(r.sealed, bindingOf(r))) as Payload;
    for (const v of payload.kind === 'secret'
      ? [payload.secret]
      : [payload.accessToken, payload.refreshToken])
      if (v) deps.onSecret(v);
    return payload;
  };
  const seal = (r: Pick<ConnectionRecord, 'tenant' | 'subject' | 'upstream' | 'id'>, p: Payload) => {
    for (const v of p.kind === 'secret' ? [p.secret] : [p.accessToken, p.refreshToken])
      if (v) deps.onSecret(v);
    return deps.vault.seal(JSON.stringify(p), bindingOf(r));
  };

  async function settingsOf(config: UpstreamConfig): Promise<UpstreamOAuthSettings> {
    const auth = config.auth as PersonOAuthConfig;
    const secret = auth.clientSecret
      ? await resolveSecretAsync(auth.clientSecret, {
          env: deps.env,
          ...(deps.secretsVault ? { vault: deps.secretsVault } : {}),
        })
      : undefined;
    if (secret) deps.onSecret(secret);
    return {
      upstream: config.name,
      resource: config.http!.url,
      ...(auth.issuer ? { issuer: auth.issuer } : {}),
      clientId: auth.clientId,
      ...(secret ? { clientSecret: secret } : {}),
      scopes: auth.scopes,
    };
  }

  const reconnectText = (upstream: string) =>
    `Ask the person to reconnect their ${upstream} account at ${pageUrl} and then try again.`;

  async function markBroken(r: ConnectionRecord, reason: string, detail: string) {
    await deps.store.update(r.id, { state: 'broken', brokenReason: reason });
    log.warn({ upstream: r.upstream, connection: r.id, detail }, 'connection broken');
    await record({
      correlationId: `conn-${r.id}`,
      principal: r.subject,
      tenant: r.tenant,
      credentialId: r.id,
      upstream: r.upstream,
      reasons: ['connection-broken'],
    }).catch((err: unknown) => log.error({ err }, 'connection breakage not recorded in the audit log'));
  }

  /** Refreshes one connection (single flight per connection in this process; CAS across replicas). */
  function refresh(r: ConnectionRecord, payload: Extract<Payload, { kind: 'oauth' }>): Promise<void> {
    let running = refreshing.get(r.id);
    if (running) return running;
    running = (async () => {
      const config = configs.get(r.upstream)!;
      if (!payload.refreshToken || !deps.oauth) {
        await deps.store.update(r.id, { state: 'expired' });
        return;
      }
      const result = await deps.oauth.refresh(await settingsOf(config), payload.refreshToken);
      if (!result.ok) {
        if (result.reason === 'unavailable') {
          log.warn(
            { upstream: r.upstream, connection: r.id, detail: result.detail },
            'refresh failed; will retry',
          );
          return;
        }
        await markBroken(r, 'The upstream refused to renew access.', result.detail);
        return;
      }
      const tokens = result.value;
      const next: Payload = {
        kind: 'oauth',
        accessToken: tokens.accessToken,
        // RFC 9700 §4.14.2: a rotated refresh token replaces the old one; none back keeps the old.
        ...((tokens.refreshToken ?? payload.refreshToken)
          ? { refreshToken: tokens.refreshToken ?? payload.refreshToken }
          : {}),
      };
      const swapped = await deps.store.swapSealed(r.id, r.sealed, {
        sealed: seal(r, next),
        state: 'connected',
        expiresAt: tokens.expiresAt === undefined ? null : new Date(tokens.expiresAt),
        scopes: tokens.scopes,
        brokenReason: null,
      });
      forceRefresh.delete(r.id);
      if (!swapped) log.info({ connection: r.id }, 'another replica refreshed this connection first');
    })().finally(() => refreshing.delete(r.id));
    refreshing.set(r.id, running);
    return running;
  }

  const none = (
    reason: 'missing' | 'expired' | 'broken' | 'no-person',
    message: string,
  ): PersonCredential => ({
    kind: 'none',
    reason,
    message,
  });

  async function resolve(upstream: string, principal: Principal): Promise<PersonCredential> {
    const config = configs.get(upstream);
    if (!config?.auth)
      return none('missing', `The server "${upstream}" does not take people's own accounts.`);
    const fallback = config.auth.fallback === 'shared';
    if (principal.clientCredentials) {
      return fallback
        ? { kind: 'shared' }
        : none(
            'no-person',
            `The server "${upstream}" acts with a person's own account, and no person is behind this call.`,
          );
    }
    if (config.auth.mode === 'token-exchange') {
      return fallback
        ? { kind: 'shared' }
        : none(
            'missing',
            `The server "${upstream}" needs token exchange, which this gateway cannot do yet for this call.`,
          );
    }
    let r = await deps.store.find(principal.tenant, principal.subject, upstream);
    if (!r) {
      if (fallback) return { kind: 'shared' };
      return none(
        'missing',
        `The server "${upstream}" acts with the person's own account, and they have not connected it yet. Ask the person to connect their ${upstream} account at ${pageUrl} and then try again.`,
      );
    }
    // A connection the person made is theirs to fix: never silently swapped for the shared identity.
    if (r.state !== 'connected') {
      return none(
        r.state,
        `The person's ${upstream} connection is ${r.state}${r.brokenReason ? ` (${r.brokenReason})` : ''}. ${reconnectText(upstream)}`,
      );
    }
    let payload: Payload;
    try {
      payload = open(r);
    } catch (err) {
      // A row that does not open for this person (copied from another, or tampered with) is
      // never anyone's credential: it is marked broken and the person is asked to reconnect.
      log.error(
        { alert: 'connection-unopenable', connection: r.id, err },
        'a stored connection does not open',
      );
      await markBroken(r, 'The stored credential cannot be opened.', 'vault-open-failed');
      return none('broken', `The person's ${upstream} connection cannot be used. ${reconnectText(upstream)}`);
    }
    if (payload.kind === 'oauth') {
      const dueAt = (r.expiresAt?.getTime() ?? Infinity) - deps.config.refreshBeforeSeconds * 1000;
      if (forceRefresh.has(r.id) || deps.now().getTime() >= dueAt) {
        await refresh(r, payload);
        r = (await deps.store.get(r.id))!;
        if (!r || r.state !== 'connected') {
          return none(
            r?.state === 'expired' ? 'expired' : 'broken',
            `The person's ${upstream} connection can no longer be used. ${reconnectText(upstream)}`,
          );
        }
        payload = open(r);
        if (r.expiresAt && r.expiresAt.getTime() <= deps.now().getTime()) {
          return none(
            'expired',
            `The ${upstream} server's authorization server cannot be reached to renew access; try again shortly.`,
          );
        }
      }
    }
    if (!r.lastUsedAt || deps.now().getTime() - r.lastUsedAt.getTime() > TOUCH_EVERY_MS)
      await deps.store.update(r.id, { lastUsedAt: deps.now() });
    const value =
      payload.kind === 'secret'
        ? (config.auth as PersonSecretConfig).scheme
          ? `${(config.auth as PersonSecretConfig).scheme} ${payload.secret}`
          : payload.secret
        : `Bearer ${payload.accessToken}`;
    return { kind: 'person', connectionId: r.id, upstreamSubject: r.upstreamSubject, value };
  }

  async function store(
    person: Person,
    config: UpstreamConfig,
    payload: Payload,
    fields: Partial<ConnectionRecord>,
    requestId: string,
  ) {
    const id = newId();
    const base = { id, tenant: person.tenant, subject: person.subject, upstream: config.name };
    const connection: ConnectionRecord = {
      ...base,
      mode: config.auth!.mode,
      state: 'connected',
      upstreamSubject: null,
      scopes: [],
      createdAt: deps.now(),
      lastUsedAt: null,
      expiresAt: null,
      brokenReason: null,
      ...fields,
      sealed: seal(base, payload),
    };
    const replaced = await deps.store.put(connection);
    if (replaced) await revokeAtUpstream(replaced);
    await record({
      correlationId: requestId,
      principal: person.subject,
      tenant: person.tenant,
      credentialId: id,
      upstream: config.name,
      reasons: [replaced ? 'connection-replaced' : 'connection-created'],
    });
    log.info(
      { upstream: config.name, connection: id, upstreamSubject: connection.upstreamSubject },
      'connection made',
    );
    for (const l of disconnectListeners) await l(config.name, person);
    for (const l of connectListeners) l(config.name, person);
    return connection;
  }

  async function revokeAtUpstream(r: ConnectionRecord) {
    if (r.mode !== 'person-oauth' || !deps.oauth) return;
    const config = configs.get(r.upstream);
    if (!config) return;
    let payload: Payload;
    try {
      payload = open(r);
    } catch {
      return;
    }
    if (payload.kind !== 'oauth') return;
    const settings = await settingsOf(config);
    // RFC 7009 §2.1: revoking the refresh token revokes its access tokens where the AS links them.
    for (const token of [payload.refreshToken, payload.accessToken]) {
      if (!token) continue;
      const result = await deps.oauth.revoke(settings, token);
      if (!result.ok)
        log.warn({ connection: r.id, detail: result.detail }, 'revocation at the upstream failed');
    }
  }

  async function remove(r: ConnectionRecord, requestId: string, by: string) {
    await revokeAtUpstream(r).catch((err: unknown) =>
      log.warn({ err, connection: r.id }, 'revocation failed'),
    );
    await deps.store.delete(r.id);
    forceRefresh.delete(r.id);
    for (const l of disconnectListeners) await l(r.upstream, { tenant: r.tenant, subject: r.subject });
    await record({
      correlationId: requestId,
      principal: by,
      tenant: r.tenant,
      credentialId: r.id,
      upstream: r.upstream,
      reasons: ['connection-revoked'],
    }).catch((err: unknown) => log.error({ err }, 'disconnection not recorded in the audit log'));
  }

  const sweep = setInterval(() => {
    const t = Date.now();
    for (const [state, p] of pending) if (p.expiresAt <= t) pending.delete(state);
  }, 60_000);
  sweep.unref();

  return {
    pageUrl,
    resolve: (upstream, principal) => resolve(upstream, principal),
    async refused(upstream, connectionId, detail) {
      const r = await deps.store.get(connectionId);
      if (!r || r.upstream !== upstream) return;
      if (r.mode === 'person-secret') await markBroken(r, 'The upstream refused this key.', detail);
      else forceRefresh.add(connectionId);
    },
    async overview(person) {
      const mine = await deps.store.list({ tenant: person.tenant, subject: person.subject });
      return [...configs.values()]
        .filter((c) => c.auth!.mode !== 'token-exchange')
        .map((c) => {
          const auth = c.auth!;
          return {
            upstream: c.name,
            mode: auth.mode,
            label: auth.mode === 'person-secret' ? auth.label : `your ${c.name} account`,
            scopes:
              auth.mode === 'person-oauth'
                ? auth.scopes.map((s) => ({ scope: s, text: auth.scopeText[s] ?? s }))
                : [],
            connection: mine.find((r) => r.upstream === c.name),
          };
        });
    },
    async connectSecret(person, upstream, secret, requestId) {
      const config = configs.get(upstream);
      if (config?.auth?.mode !== 'person-secret')
        return { ok: false, message: 'That server does not take a pasted key.' };
      const auth = config.auth;
      const value = secret.trim();
      // eslint-disable-next-line no-control-regex -- control characters cannot be in a header or env value
      if (value === '' || value.length > auth.maxLength || /[\u0000-\u001f\u007f\s]/.test(value)) {
        return {
          ok: false,
          message: `Paste ${auth.label}: one line, no spaces, at most ${auth.maxLength} characters.`,
        };
      }
      deps.onSecret(value);
      if (auth.testCall && deps.testSecret) {
        const problem = await deps.testSecret(upstream, auth.scheme ? `${auth.scheme} ${value}` : value);
        if (problem) return { ok: false, message: `The key did not work: ${problem}` };
      }
      const connection = await store(person, config, { kind: 'secret', secret: value }, {}, requestId);
      return { ok: true, connection };
    },
    async beginOAuth(person, upstream) {
      const config = configs.get(upstream);
      if (config?.auth?.mode !== 'person-oauth' || !deps.oauth)
        return { ok: false, message: 'That server cannot be connected here.' };
      if (pending.size >= MAX_PENDING)
        return { ok: false, message: 'Too many connections are being made; try again shortly.' };
      const begun = await deps.oauth.beginAuthorization(await settingsOf(config), redirectUri);
      if (!begun.ok) {
        log.warn({ upstream, reason: begun.reason, detail: begun.detail }, 'cannot start a connection');
        return {
          ok: false,
          message: `The sign-in page of ${upstream} cannot be reached right now; try again later.`,
        };
      }
      pending.set(begun.value.pending.state, {
        person,
        upstream,
        pending: begun.value.pending,
        expiresAt: Date.now() + deps.config.pendingTtlSeconds * 1000,
      });
      return { ok: true, url: begun.value.url };
    },
    async completeOAuth(person, callback, requestId) {
      const state = callback.searchParams.get('state') ?? '';
      const p = pending.get(state);
      // Single use: whatever happens next, this state is spent.
      pending.delete(state);
      if (!p || p.expiresAt <= Date.now())
        return {
          ok: false,
          message:
            'This connection attempt is unknown or has expired. Start again from the connections page.',
        };
      if (p.person.tenant !== person.tenant || p.person.subject !== person.subject) {
        log.warn(
          { alert: 'connection-callback-other-person', upstream: p.upstream },
          'a connect callback came back to another signed-in person; refused',
        );
        return {
          ok: false,
          message:
            'This connection attempt was started by someone else. Start again from the connections page.',
        };
      }
      const config = configs.get(p.upstream)!;
      const result = await deps.oauth!.completeAuthorization(await settingsOf(config), p.pending, callback);
      if (!result.ok) {
        log.warn(
          { upstream: p.upstream, reason: result.reason, detail: result.detail },
          'connection not completed',
        );
        return {
          ok: false,
          message:
            result.reason === 'refused'
              ? `${p.upstream} did not grant access.`
              : `The connection to ${p.upstream} could not be completed; try again.`,
        };
      }
      const tokens: UpstreamTokenSet = result.value;
      const connection = await store(
        person,
        config,
        {
          kind: 'oauth',
          accessToken: tokens.accessToken,
          ...(tokens.refreshToken ? { refreshToken: tokens.refreshToken } : {}),
        },
        {
          upstreamSubject: tokens.subject ?? null,
          scopes: tokens.scopes,
          expiresAt: tokens.expiresAt === undefined ? null : new Date(tokens.expiresAt),
        },
        requestId,
      );
      return { ok: true, connection };
    },
    async disconnect(person, connectionId, requestId) {
      const r = await deps.store.get(connectionId);
      // Another person's connection looks exactly like an unknown one.
      if (!r || r.tenant !== person.tenant || r.subject !== person.subject) return false;
      await remove(r, requestId, person.subject);
      return true;
    },
    async revokeById(connectionId, requestId) {
      const r = await deps.store.get(connectionId);
      if (!r) return undefined;
      await remove(r, requestId, 'portcullis:cli');
      return r;
    },
    onDisconnect: (l) => void disconnectListeners.push(l),
    onConnect: (l) => void connectListeners.push(l),
    async learnStored() {
      let opened = 0;
      let failed = 0;
      for (const r of await deps.store.list({})) {
        try {
          open(r);
          opened++;
        } catch (err) {
          failed++;
          log.error(
            { alert: 'connection-unopenable', connection: r.id, err },
            'a stored connection does not open (copied or tampered row?)',
          );
          if (r.state !== 'broken')
            await markBroken(r, 'The stored credential cannot be opened.', 'vault-open-failed');
        }
      }
      return { opened, failed };
    },
    close: () => clearInterval(sweep),
  };
}
