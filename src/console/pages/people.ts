import { createApiKey, rotateApiKey, SCOPE_PATTERN } from '../../auth/index.js';
import { disableUser, listClients, revokeClient } from '../../oauth/index.js';
import { html, type SafeHtml } from '../../ui/index.js';
import { issueSetupLink, setupLinkUrl, USER_NAME_PATTERN } from '../../users/index.js';
import {
  badge,
  consolePage,
  Forms,
  iso,
  notice,
  recordAction,
  type ConsoleContext,
  type ConsoleDeps,
} from '../kit.js';

const LABEL_MAX = 200;

/** A secret shown once, on the page that made it. */
const once = (what: string, value: string): SafeHtml =>
  html`<div class="notice ok" role="status">
    ${what} It is shown only this once:
    <pre class="block" id="secret">${value}</pre>
  </div>`;

/** People (roles, sign-ins), their API keys (last use) and the OAuth clients; create, disable, revoke, rotate. */
export async function peoplePage(
  c: ConsoleContext,
  deps: ConsoleDeps,
  message?: SafeHtml,
  status?: number,
): Promise<Response> {
  const forms = new Forms(deps, c);
  const now = deps.now();
  const people = await deps.users.list();
  const keys = (await deps.apiKeys.list()).sort((a, b) => +b.createdAt - +a.createdAt);
  const clients = deps.oauth ? await listClients(deps.oauth) : [];
  const keyStatus = (k: (typeof keys)[number]) =>
    k.revokedAt ? 'revoked' : k.expiresAt && k.expiresAt <= now ? 'expired' : 'active';
  const post = (action: string, label: string, kind = 'secondary') =>
    html`<form method="post" action="${action}">
      ${forms.field(action)}<button class="${kind} small" type="submit">${label}</button>
    </form>`;
  return consolePage(c, forms, {
    title: 'People & keys',
    tab: '/admin/people',
    ...(status ? { status } : {}),
    body: html`<h1>People, keys and clients</h1>
      ${message ?? ''}
      <h2>People</h2>
      <table class="grid">
        <thead>
          <tr>
            <th>Name</th>
            <th>Role</th>
            <th>Tenant</th>
            <th>Kind</th>
            <th>Status</th>
            <th>Last sign-in</th>
            <th></th>
          </tr>
        </thead>
        <tbody>
          ${people.map(
            (p) =>
              html`<tr>
                <td>${p.name}</td>
                <td>${p.role ?? '—'}</td>
                <td>${p.tenant}</td>
                <td>${p.federatedIssuer ? 'federated' : 'local'}</td>
                <td>
                  ${badge(p.disabledAt ? 'disabled' : p.passwordHash || p.federatedIssuer ? 'active' : 'pending')}
                </td>
                <td class="mono">${iso(p.lastLoginAt)}</td>
                <td>
                  ${
                    p.disabledAt
                      ? ''
                      : html`<div class="bar">
                          ${p.federatedIssuer ? '' : post(`/admin/people/${encodeURIComponent(p.name)}/reset-link`, 'New setup link')}
                          ${p.name === c.get('consoleUser').name ? '' : post(`/admin/people/${encodeURIComponent(p.name)}/disable`, 'Disable', 'danger')}
                        </div>`
                  }
                </td>
              </tr>`,
          )}
        </tbody>
      </table>
      <form class="inline" method="post" action="/admin/people">
        ${forms.field('/admin/people')}
        <div>
          <label for="p-name">New person</label
          ><input id="p-name" name="name" type="text" required maxlength="128" />
        </div>
        <div>
          <label for="p-role">Role</label
          ><select id="p-role" name="role">
            ${deps.roles.map((r) => html`<option value="${r}" ${r === 'member' ? html` selected` : ''}>${r}</option>`)}
          </select>
        </div>
        <button class="primary small" type="submit">Add and make a setup link</button>
      </form>

      <h2>API keys</h2>
      <table class="grid">
        <thead>
          <tr>
            <th>Id</th>
            <th>Owner</th>
            <th>Label</th>
            <th>Scopes</th>
            <th>Status</th>
            <th>Created</th>
            <th>Last used</th>
            <th></th>
          </tr>
        </thead>
        <tbody>
          ${keys.map(
            (k) =>
              html`<tr>
                <td class="mono">${k.id}</td>
                <td>${k.owner}</td>
                <td>${k.label || '—'}</td>
                <td class="mono">${k.scopes.join(' ')}</td>
                <td>${badge(keyStatus(k))}</td>
                <td class="mono">${iso(k.createdAt)}</td>
                <td class="mono">${iso(k.lastUsedAt)}</td>
                <td>
                  ${keyStatus(k) === 'active' ? html`<div class="bar">${post(`/admin/keys/${k.id}/rotate`, 'Rotate')} ${post(`/admin/keys/${k.id}/revoke`, 'Revoke', 'danger')}</div>` : ''}
                </td>
              </tr>`,
          )}
        </tbody>
      </table>
      <form class="inline" method="post" action="/admin/keys">
        ${forms.field('/admin/keys')}
        <div>
          <label for="k-owner">Owner (a person)</label
          ><select id="k-owner" name="owner">
            ${people.filter((p) => !p.disabledAt).map((p) => html`<option>${p.name}</option>`)}
          </select>
        </div>
        <div>
          <label for="k-label">Label</label
          ><input id="k-label" name="label" type="text" maxlength="${LABEL_MAX}" />
        </div>
        <div>
          <label for="k-scopes">Scopes</label
          ><input id="k-scopes" name="scopes" type="text" required placeholder="memory:read,memory:write" />
        </div>
        <button class="primary small" type="submit">Create key</button>
      </form>

      <h2>OAuth clients</h2>
      ${
        clients.length === 0
          ? html`<p class="fine">No OAuth clients are registered.</p>`
          : html`<table class="grid">
              <thead>
                <tr>
                  <th>Client</th>
                  <th>Name</th>
                  <th>Registered by</th>
                  <th>Grant types</th>
                  <th>Scopes</th>
                  <th></th>
                </tr>
              </thead>
              <tbody>
                ${clients.map(
                  (cl) =>
                    html`<tr>
                      <td class="mono">${cl.clientId}</td>
                      <td>${cl.name || '—'}</td>
                      <td>${cl.registeredBy}</td>
                      <td class="mono">${cl.grantTypes.join(' ')}</td>
                      <td class="mono">${cl.scopes === 'any' ? 'any' : cl.scopes.join(' ')}</td>
                      <td>
                        ${post(`/admin/clients/${encodeURIComponent(cl.clientId)}/revoke`, 'Revoke', 'danger')}
                      </td>
                    </tr>`,
                )}
              </tbody>
            </table>`
      }`,
  });
}

export async function addPerson(c: ConsoleContext, deps: ConsoleDeps): Promise<Response> {
  const form = c.get('consoleForm');
  const name = (form.name ?? '').trim();
  const role = form.role ?? '';
  if (!USER_NAME_PATTERN.test(name))
    return peoplePage(c, deps, notice('error', 'Names are letters, digits and . _ @ + - (up to 128).'), 400);
  if (!deps.roles.includes(role))
    return peoplePage(c, deps, notice('error', 'Choose one of the roles listed.'), 400);
  if (await deps.users.find(name))
    return peoplePage(c, deps, notice('error', `A person named ${name} exists already.`), 409);
  const now = deps.now();
  await recordAction(deps, c, { reason: 'user-added', details: { user: name, role } });
  await deps.users.insert({
    name,
    tenant: name,
    passwordHash: null,
    federatedIssuer: null,
    federatedSubject: null,
    role,
    createdAt: now,
    disabledAt: null,
    lastLoginAt: null,
  });
  const link = await issueSetupLink(deps.users, name, now);
  return peoplePage(
    c,
    deps,
    once(
      `Added ${name} (${role}). Send them this link to set a password (15 minutes, works once).`,
      setupLinkUrl(deps.publicUrl, link.token),
    ),
  );
}

export async function resetLink(c: ConsoleContext, deps: ConsoleDeps): Promise<Response> {
  const user = await deps.users.find(c.req.param('name') ?? '');
  if (!user || user.disabledAt || user.federatedIssuer)
    return peoplePage(c, deps, notice('error', 'No such local, active person.'), 404);
  await recordAction(deps, c, { reason: 'setup-link-created', details: { user: user.name } });
  const link = await issueSetupLink(deps.users, user.name, deps.now());
  return peoplePage(
    c,
    deps,
    once(
      `A new setup link for ${user.name} (15 minutes, works once; older links stop working).`,
      setupLinkUrl(deps.publicUrl, link.token),
    ),
  );
}

export async function disablePerson(c: ConsoleContext, deps: ConsoleDeps): Promise<Response> {
  const user = await deps.users.find(c.req.param('name') ?? '');
  if (!user) return peoplePage(c, deps, notice('error', 'No such person.'), 404);
  if (user.name === c.get('consoleUser').name)
    return peoplePage(c, deps, notice('error', 'You cannot disable yourself here.'), 400);
  if (!deps.oauth)
    return peoplePage(c, deps, notice('error', 'OAuth is off: people are managed with the CLI.'), 409);
  await recordAction(deps, c, { reason: 'user-disabled', tenant: user.tenant, details: { user: user.name } });
  await disableUser(deps.users, deps.oauth, user.name, deps.now());
  return peoplePage(
    c,
    deps,
    notice('ok', `Disabled ${user.name}; every app connected to the account is disconnected.`),
  );
}

export async function createKey(c: ConsoleContext, deps: ConsoleDeps): Promise<Response> {
  const form = c.get('consoleForm');
  const owner = await deps.users.find(form.owner ?? '');
  const scopes = (form.scopes ?? '').split(/[\s,]+/).filter(Boolean);
  const label = (form.label ?? '').trim();
  if (!owner || owner.disabledAt)
    return peoplePage(c, deps, notice('error', 'A key belongs to an active person.'), 400);
  if (
    scopes.length === 0 ||
    scopes.length > 50 ||
    !scopes.every((s) => SCOPE_PATTERN.test(s)) ||
    label.length > LABEL_MAX
  )
    return peoplePage(
      c,
      deps,
      notice('error', 'Give one or more scopes such as memory:read, and a label of up to 200 characters.'),
      400,
    );
  const now = deps.now();
  const { record, key } = await createApiKey(
    deps.apiKeys,
    { owner: owner.name, tenant: owner.tenant, label, scopes, expiresAt: null },
    now,
  );
  await recordAction(deps, c, {
    reason: 'key-created',
    credentialId: record.id,
    tenant: record.tenant,
    details: { owner: record.owner, label, scopes },
  });
  return peoplePage(
    c,
    deps,
    once(`Created key ${record.id} for ${owner.name}; it is capped by their role.`, key),
  );
}

export async function rotateKey(c: ConsoleContext, deps: ConsoleDeps): Promise<Response> {
  const rotated = await rotateApiKey(deps.apiKeys, c.req.param('id') ?? '', deps.now());
  if (!rotated) return peoplePage(c, deps, notice('error', 'No such live key.'), 404);
  await recordAction(deps, c, {
    reason: 'key-rotated',
    credentialId: rotated.record.id,
    tenant: rotated.record.tenant,
    details: { replaces: rotated.old.id, owner: rotated.record.owner },
  });
  return peoplePage(
    c,
    deps,
    once(`Key ${rotated.old.id} is revoked; its replacement is ${rotated.record.id}.`, rotated.key),
  );
}

export async function revokeKey(c: ConsoleContext, deps: ConsoleDeps): Promise<Response> {
  const key = await deps.apiKeys.findById(c.req.param('id') ?? '');
  if (!key) return peoplePage(c, deps, notice('error', 'No such key.'), 404);
  await recordAction(deps, c, {
    reason: 'key-revoked',
    credentialId: key.id,
    tenant: key.tenant,
    details: { owner: key.owner },
  });
  await deps.apiKeys.revoke(key.id, deps.now());
  return peoplePage(c, deps, notice('ok', `Revoked ${key.id}; its next call is refused.`));
}

export async function revokeClientAction(c: ConsoleContext, deps: ConsoleDeps): Promise<Response> {
  const id = c.req.param('id') ?? '';
  if (!deps.oauth) return peoplePage(c, deps, notice('error', 'OAuth is off.'), 409);
  await recordAction(deps, c, { reason: 'client-revoked', clientId: id, details: { clientId: id } });
  if (!(await revokeClient(deps.oauth, id, deps.now())))
    return peoplePage(c, deps, notice('error', 'No such client.'), 404);
  return peoplePage(c, deps, notice('ok', `Revoked ${id}: its registration, grants and tokens are gone.`));
}
