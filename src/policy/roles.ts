/**
 * Roles: named sets of scope patterns. A role does two things with one definition:
 *
 * - **a ceiling for a person**: whatever a person's credential asks for — an OAuth token at
 *   issuance and on every call, an API key they own on every call — it carries only scopes their
 *   role allows (DESIGN.md: "a person's token never exceeds their role's scope ceiling");
 * - **a bundle for a credential**: a credential holding the scope `role:<name>` holds the role's
 *   scopes too.
 *
 * Entries are scope names or globs where `*` matches any run of characters. Admin scopes
 * (`admin:…`) gate the operator's own surfaces, so a glob reaches them only when it says so: an
 * entry matches an admin scope if it is `*` alone or itself begins with `admin:`. `*:read` can
 * therefore never hand a person the audit log, whatever upstream names appear later.
 *
 * Pure: no I/O; the person's role is looked up by the caller and passed in.
 */
import { globToRegExp } from '../glob/index.js';

const ADMIN_SCOPE_PREFIX = 'admin:';

/**
 * The roles every installation has unless `policy.roles` redefines them (an entry of the same name
 * replaces the built-in one; other names add roles). Decided in docs/policy.md ("Roles"):
 *
 * - `admin`: every scope, upstream destructive ones and admin scopes included;
 * - `member`: every built-in tool (notes of their own, guarded web fetch) and every upstream
 *   `read` and `write` scope; no `<upstream>:destructive` scope and no admin scope.
 */
const DEFAULT_ROLES: Readonly<Record<string, readonly string[]>> = {
  admin: ['*'],
  member: ['memory:read', 'memory:write', 'memory:delete', 'web:fetch', '*:read', '*:write'],
};

/** The role a person gets from `portcullis users add` when none is named. */
export const DEFAULT_PERSON_ROLE = 'member';

/** A compiled role (or no role at all): which scopes it allows. */
export interface ScopeCeiling {
  /** The role's name; undefined for "no role", which allows nothing. */
  readonly role: string | undefined;
  readonly entries: readonly string[];
  allows(scope: string): boolean;
}

/** What a person with no role, an unknown role, or a disabled account holds: nothing. */
export const NO_SCOPES: ScopeCeiling = { role: undefined, entries: [], allows: () => false };

function entryMatcher(entry: string): (scope: string) => boolean {
  if (entry === '*') return () => true;
  const reachesAdmin = entry.startsWith(ADMIN_SCOPE_PREFIX);
  if (!entry.includes('*')) return (scope) => scope === entry;
  const re = globToRegExp(entry);
  return (scope) => (reachesAdmin || !scope.startsWith(ADMIN_SCOPE_PREFIX)) && re.test(scope);
}

function compileRole(role: string, entries: readonly string[]): ScopeCeiling {
  const matchers = entries.map(entryMatcher);
  return { role, entries: [...entries], allows: (scope) => matchers.some((m) => m(scope)) };
}

/** The built-in roles with the operator's `policy.roles` laid over them. */
export function compileRoles(
  configured: Readonly<Record<string, readonly string[]>>,
): Map<string, ScopeCeiling> {
  const merged = { ...DEFAULT_ROLES, ...configured };
  return new Map(Object.entries(merged).map(([name, entries]) => [name, compileRole(name, entries)]));
}

/**
 * Whether an entry of a role (a name or a glob) lies wholly inside the ceiling. Conservative: a
 * glob is inside only if the ceiling has the same glob or `*`; it never guesses that one glob
 * contains another.
 */
function covers(ceiling: ScopeCeiling, entry: string): boolean {
  if (!entry.includes('*')) return ceiling.allows(entry);
  return ceiling.entries.includes('*') || ceiling.entries.includes(entry);
}

/**
 * The scopes a credential keeps under a person's ceiling. A plain scope stays if the ceiling
 * allows it. `role:<name>` stays if every entry of that role lies inside the ceiling; otherwise
 * it is replaced by those of its plain entries the ceiling allows (its globs are dropped, so
 * the result never holds more than the ceiling).
 */
export function capScopes(
  roles: ReadonlyMap<string, ScopeCeiling>,
  scopes: Iterable<string>,
  ceiling: ScopeCeiling,
): Set<string> {
  const out = new Set<string>();
  for (const scope of scopes) {
    if (!scope.startsWith('role:')) {
      if (ceiling.allows(scope)) out.add(scope);
      continue;
    }
    // An unknown role stands for nothing; it is dropped rather than matched against globs.
    const bundle = roles.get(scope.slice(5));
    if (!bundle) continue;
    if (bundle.entries.every((e) => covers(ceiling, e))) {
      out.add(scope);
      continue;
    }
    for (const e of bundle.entries) if (!e.includes('*') && ceiling.allows(e)) out.add(e);
  }
  return out;
}
