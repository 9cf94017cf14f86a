import {
  dummyPasswordHash,
  verifyPassword,
  type LoginThrottle,
  type UserRecord,
  type UserStore,
} from '../users/index.js';

export type PasswordLoginResult =
  | { readonly ok: true; readonly user: UserRecord }
  | { readonly ok: false; readonly reason: 'login-throttled'; readonly retryAfterMs: number }
  | { readonly ok: false; readonly reason: 'login-failed' | 'login-disabled' };

/**
 * A local user's password login, throttled per account and per address. Unknown names, wrong
 * passwords and disabled accounts cost the same scrypt work and read the same to the person
 * ("wrong name or password"), so the form cannot be used to list accounts.
 */
export async function checkPasswordLogin(
  input: { name: string; password: string; address: string },
  deps: { users: UserStore; throttle: LoginThrottle; now: Date },
): Promise<PasswordLoginResult> {
  const at = deps.now.getTime();
  const verdict = await deps.throttle.check(input.name, input.address, at);
  if (!verdict.allowed) return { ok: false, reason: 'login-throttled', retryAfterMs: verdict.retryAfterMs };
  const user = input.name ? await deps.users.find(input.name) : undefined;
  const hash = user?.passwordHash ?? (await dummyPasswordHash);
  const matches = await verifyPassword(input.password, hash);
  if (!user || !user.passwordHash || !matches) {
    await deps.throttle.fail(input.name, input.address, at);
    return { ok: false, reason: 'login-failed' };
  }
  if (user.disabledAt) {
    await deps.throttle.succeed(input.name, input.address);
    return { ok: false, reason: 'login-disabled' };
  }
  await deps.throttle.succeed(input.name, input.address);
  await deps.users.recordLogin(user.name, deps.now);
  return { ok: true, user };
}

/** The text a person reads for a failed login; never says which part was wrong. */
export function loginFailureMessage(result: Exclude<PasswordLoginResult, { ok: true }>): string {
  if (result.reason === 'login-throttled') {
    const minutes = Math.max(1, Math.ceil(result.retryAfterMs / 60_000));
    return `Too many failed attempts. Try again in ${minutes} minute${minutes === 1 ? '' : 's'}.`;
  }
  return 'That name and password do not match an active account.';
}
