import { html, type SafeHtml } from '../ui/index.js';

/** What a page puts around the one sign-in form. */
export interface LoginViewOptions {
  readonly action: string;
  readonly csrf: string;
  /** What signing in is for, under the heading (e.g. "to continue to <app>"). */
  readonly lead: SafeHtml | string;
  /** Shown above the form (the OAuth pages show the app asking). */
  readonly context?: SafeHtml;
  readonly error?: string;
  /** The name typed last time, shown again after a failed attempt. */
  readonly name?: string;
  readonly federated?: { readonly url: string; readonly label: string };
  /** A second form to give up (the OAuth pages return to the app). */
  readonly abortAction?: string;
}

export function loginView(opts: LoginViewOptions): SafeHtml {
  return html`<h1>Sign in</h1>
    <p class="lead">${opts.lead}</p>
    ${opts.context ?? ''}
    ${opts.error ? html`<div class="notice error" role="alert">${opts.error}</div>` : ''}
    <form method="post" action="${opts.action}">
      <input type="hidden" name="csrf" value="${opts.csrf}" />
      <label for="name">Account name</label>
      <input
        id="name"
        name="name"
        type="text"
        autocomplete="username"
        autocapitalize="none"
        spellcheck="false"
        required
        value="${opts.name ?? ''}"
        autofocus
      />
      <label for="password">Password</label>
      <input id="password" name="password" type="password" autocomplete="current-password" required />
      <div class="actions"><button class="primary grow" type="submit">Sign in</button></div>
    </form>
    ${
      opts.federated
        ? html`<div class="divider">or</div>
            <div class="actions">
              <a class="button secondary grow" href="${opts.federated.url}">${opts.federated.label}</a>
            </div>`
        : ''
    }
    ${
      opts.abortAction
        ? html`<form method="post" action="${opts.abortAction}">
            <input type="hidden" name="csrf" value="${opts.csrf}" />
            <div class="actions">
              <button class="secondary grow" type="submit">Cancel and return to the app</button>
            </div>
          </form>`
        : ''
    }`;
}
