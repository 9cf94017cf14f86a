export type { AccountSession, UserRecord, UserStore } from './contracts.js';
export { openMemoryUserStore } from './memory-store.js';
export { createSqliteUserStore, USER_MIGRATIONS } from './sqlite-store.js';
export { dummyPasswordHash, hashPassword, MIN_PASSWORD_LENGTH, verifyPassword } from './password.js';
export {
  createLoginThrottle,
  createSharedLoginThrottle,
  type LoginThrottle,
  type ThrottlePolicy,
  type ThrottleVerdict,
} from './throttle.js';
export { USER_NAME_PATTERN } from './names.js';
export { ensurePerson } from './ensure-person.js';
export { createPersonCeilings, type PersonCeilings } from './person-ceiling.js';
export type { SetupLink } from './contracts.js';
export {
  issueSetupLink,
  setupLinkUrl,
  setupTokenHash,
  SETUP_LINK_TTL_MS,
  SETUP_TOKEN_PATTERN,
} from './setup-link.js';
export { createPostgresUserStore, USERS_PG_SCHEMA } from './postgres-store.js';
