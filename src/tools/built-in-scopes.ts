/** The scopes of every built-in tool. */
export const BUILT_IN_SCOPES = ['memory:read', 'memory:write', 'memory:delete', 'web:fetch'] as const;
