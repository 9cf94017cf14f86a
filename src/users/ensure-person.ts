import type { UserStore } from './contracts.js';

/**
 * Makes sure a person exists with this role: added without a password (they cannot sign in
 * until one is set) when missing, their role set when present. Used for the owner of the
 * first-run admin key.
 */
export async function ensurePerson(
  users: UserStore,
  person: { name: string; role: string },
  now: Date,
): Promise<void> {
  if (await users.setRole(person.name, person.role)) return;
  await users.insert({
    name: person.name,
    tenant: person.name,
    passwordHash: null,
    federatedIssuer: null,
    federatedSubject: null,
    role: person.role,
    createdAt: now,
    disabledAt: null,
    lastLoginAt: null,
  });
}
