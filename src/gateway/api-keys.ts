import { BUILT_IN_SCOPES } from '../tools/index.js';

/** Who the first-run admin key belongs to: a person with the `admin` role. */
export const FIRST_RUN_OWNER = 'admin';

/** What the first-run admin key receives: every built-in tool, and reading the audit log. */
export const ADMIN_SCOPES = [...BUILT_IN_SCOPES, 'admin:audit'] as const;
