import type { Catalogue } from '../../tools/index.js';

export interface ScopeDescription {
  readonly scope: string;
  readonly text: string;
}

const KNOWN: Record<string, string> = {
  openid: 'Know your account name',
  offline_access: 'Stay connected while you are away (until you disconnect it here)',
  'memory:read': 'Read and search your saved notes',
  'memory:write': 'Save new notes for you',
  'memory:delete': 'Delete your notes',
};

/**
 * Scopes in plain words for the consent and connected-apps pages. Built-in scopes have a fixed
 * sentence; any other scope is described by the tools it unlocks, as the catalogue names them.
 */
export function describeScopes(scopes: readonly string[], catalogue: Catalogue): ScopeDescription[] {
  return scopes.map((scope) => {
    const known = KNOWN[scope];
    if (known) return { scope, text: known };
    const tools = catalogue
      .entries()
      .filter((e) => e.tool.scope === scope)
      .map((e) => e.tool.title || e.tool.name);
    const text = tools.length
      ? `Use these tools: ${tools.slice(0, 5).join(', ')}${tools.length > 5 ? ` and ${tools.length - 5} more` : ''}`
      : 'Use tools that need this permission';
    return { scope, text };
  });
}
