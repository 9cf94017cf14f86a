import { capScopes, NO_SCOPES, type ScopeCeiling } from '../policy/index.js';
import type { UserRecord, UserStore } from './contracts.js';

/**
 * A person's scope ceiling: their role, compiled. No role, a role the configuration no longer
 * defines, or a disabled account: nothing.
 */
function ceilingOfUser(user: UserRecord, roles: ReadonlyMap<string, ScopeCeiling>): ScopeCeiling {
  if (user.disabledAt || !user.role) return NO_SCOPES;
  return roles.get(user.role) ?? NO_SCOPES;
}

/** Looks people up by name for their ceiling; read on every use, so a changed role applies at once. */
export interface PersonCeilings {
  /** The ceiling of the person named `name`, or undefined when no such person exists here. */
  of(name: string): Promise<ScopeCeiling | undefined>;
  /**
   * The scopes a credential acting for `name` keeps under their ceiling (see capScopes), or
   * undefined when `name` is no person here and the credential's own scopes stand.
   */
  cap(name: string, scopes: ReadonlySet<string>): Promise<ReadonlySet<string> | undefined>;
}

export function createPersonCeilings(
  users: UserStore,
  roles: ReadonlyMap<string, ScopeCeiling>,
): PersonCeilings {
  const of = async (name: string) => {
    const user = await users.find(name);
    return user && ceilingOfUser(user, roles);
  };
  return {
    of,
    async cap(name, scopes) {
      const ceiling = await of(name);
      return ceiling && capScopes(roles, scopes, ceiling);
    },
  };
}
