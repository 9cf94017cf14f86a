import fs from 'node:fs';
import path from 'node:path';
import { createLocalJWKSet, errors, type JWTVerifyGetKey } from 'jose';
import type { Logger } from 'pino';
import { PortcullisError } from '../errors/index.js';
import { resolveSecretAsync, type SecretRef, type VaultClient } from '../secrets/index.js';
import { parseSigningKeys, toPublicJwks, type StoredSigningKey } from './signing-keys.js';

/**
 * The token-signing keys of a running gateway, kept in step with where they come from: the key
 * file in `keys.dir`, or a secret reference (`keys.tokenSigning`). `keys rotate-signing` may run
 * on another replica or in a shell, or an operator may write a new set into the secret store;
 * every process picks the new set up by itself:
 *
 * - the source is checked every `intervalMs` (for a file a `stat`, and a read only when it
 *   changed; a `vault:` reference is read; an `env:` reference cannot change under a process);
 * - a token naming a key this process does not hold checks at once, at most once a second, so a
 *   token signed on a replica that rotated first verifies here too, and a flood of made-up key
 *   ids costs one `stat` a second;
 * - a file that does not parse (a non-atomic copy caught half-written) keeps the previous set
 *   and is logged; the next check tries again.
 *
 * Listeners hear each new set (the authorization server rebuilds its signer; the redactor learns
 * the new private parts).
 */
export interface SigningKeyRing {
  /** The current key set, newest first (the first key signs). */
  keys(): readonly StoredSigningKey[];
  /** jose's key lookup over the current public keys, re-checking the source for an unknown kid. */
  readonly getKey: JWTVerifyGetKey;
  /** Re-reads the source if it may have changed; true when the key set changed. */
  refresh(): Promise<boolean>;
  onChange(listener: (keys: readonly StoredSigningKey[]) => void): void;
  close(): void;
}

const UNKNOWN_KID_CHECK_MS = 1_000;

/** Whether others can replace `name` inside `dir` (create, rename over, unlink). */
function othersCanReplace(dir: string, name: string): boolean {
  const st = fs.statSync(dir);
  if ((st.mode & 0o022) === 0) return false;
  try {
    fs.accessSync(dir, fs.constants.W_OK);
  } catch (err) {
    // A read-only mount (a Kubernetes Secret volume is 1777 but mounted ro): nobody can write.
    if ((err as NodeJS.ErrnoException).code === 'EROFS') return false;
  }
  // Sticky (like /tmp): others cannot rename over or unlink an entry that root or we own.
  if ((st.mode & 0o1000) !== 0) {
    const owner = fs.lstatSync(path.join(dir, name)).uid;
    return !(owner === 0 || owner === process.getuid?.());
  }
  return true;
}

/**
 * Why the key file cannot be trusted, or undefined when it can. The ring adopts whatever the file
 * says within seconds, so whoever can replace the file mints tokens the gateway accepts: the
 * file (after symlinks) must not be writable by group or others, nor readable by others (it holds
 * private keys), and neither the directory it is named in nor the one it really lives in may let
 * group or others replace it (a world-writable `keys.dir` lets any local user swap in a key set
 * of their own with one `rename`). Read-only mounts and sticky directories are fine.
 */
export function signingKeyFileProblem(file: string): string | undefined {
  const named = path.resolve(file);
  const real = fs.realpathSync(named);
  const st = fs.statSync(real);
  if ((st.mode & 0o022) !== 0) return `${real} is writable by group or others (chmod 600)`;
  if ((st.mode & 0o004) !== 0) return `${real} is readable by others (chmod 600)`;
  for (const entry of new Set([named, real])) {
    const dir = path.dirname(entry);
    if (othersCanReplace(dir, path.basename(entry)))
      return `${dir} is writable by group or others (chmod 700)`;
  }
  return undefined;
}

const fileFingerprint = (st: fs.Stats) => `${st.ino}:${st.size}:${st.mtimeMs}`;
/**
 * What makes two key sets the same: every key's kid, material and retirement, in order. The kid
 * alone is not enough: a set written by hand often keeps a fixed kid ("main") when a leaked key
 * is replaced, and a ring that compared kids kept verifying (and signing) with the leaked one.
 */
const identity = (keys: readonly StoredSigningKey[]) =>
  JSON.stringify(keys.map((k) => [k.kid, k.x, k.y, k.d, k.retiredAt ?? null]));

/** Where a key set is read from. */
export interface SigningKeySource {
  /** What logs and errors name: a path or a reference, never a value. */
  readonly label: string;
  /** Changes whenever the content may have; undefined: read it to find out. */
  fingerprint(): string | undefined;
  /** Why the source cannot be trusted now (others could replace it), or undefined. */
  problem(): string | undefined;
  read(): Promise<string>;
}

/** The key file in `keys.dir` (or a `file:` reference): checked with `stat`, refused if replaceable. */
export function signingKeyFile(file: string): SigningKeySource {
  return {
    label: file,
    fingerprint: () => fileFingerprint(fs.statSync(file)),
    problem: () => (fs.existsSync(file) ? signingKeyFileProblem(file) : undefined),
    read: () => fs.promises.readFile(file, 'utf8'),
  };
}

/**
 * A secret reference holding the JWK set: `file:` is a key file named elsewhere (same checks),
 * `env:` is fixed for the life of the process, `vault:` is read again at every check (a KV v2
 * read), so a set written into Vault reaches every replica within `keys.reloadSeconds`.
 */
export function signingKeyReference(
  ref: SecretRef,
  opts: { readonly env: NodeJS.ProcessEnv; readonly vault?: VaultClient },
): SigningKeySource {
  if (ref.startsWith('file:')) return { ...signingKeyFile(ref.slice(5)), label: ref };
  const read = () => resolveSecretAsync(ref, { env: opts.env, ...(opts.vault ? { vault: opts.vault } : {}) });
  return {
    label: ref,
    fingerprint: () => (ref.startsWith('env:') ? 'env' : undefined),
    problem: () => undefined,
    read,
  };
}

/** Opens the ring over the key file; see openSigningKeyRing. */
export interface SigningKeyRingOptions {
  readonly intervalMs: number;
  readonly logger: Logger;
  readonly now?: () => number;
  /**
   * How long a retired key verifies after its `retiredAt`: the longest lifetime of anything it
   * signed (`retiredKeyRetentionMs` in rotate-signing-key.ts). Past it the key is out of the
   * set, though still in the source until the next rotation: a leaked key rotated out must not
   * keep minting accepted tokens until then. Undefined: retired keys verify while in the source.
   */
  readonly retiredKeyRetentionMs?: number;
}

export function watchSigningKeys(file: string, opts: SigningKeyRingOptions): Promise<SigningKeyRing> {
  return openSigningKeyRing(signingKeyFile(file), opts);
}

/**
 * Reads the key set once (a source others can replace, or one that does not parse, stops the
 * start) and keeps it in step with its source from then on.
 */
export async function openSigningKeyRing(
  source: SigningKeySource,
  opts: SigningKeyRingOptions,
): Promise<SigningKeyRing> {
  const now = opts.now ?? Date.now;
  const retention = opts.retiredKeyRetentionMs;
  const retiredUntil = (k: StoredSigningKey) =>
    k.retiredAt === undefined || retention === undefined ? Infinity : Date.parse(k.retiredAt) + retention;
  const startProblem = source.problem();
  if (startProblem) {
    throw new PortcullisError('config-invalid', `Refusing the signing key set: ${startProblem}.`, {
      detail: source.label,
    });
  }
  let seen: string | undefined;
  let text: string;
  try {
    seen = source.fingerprint();
    text = await source.read();
  } catch (err) {
    if (err instanceof PortcullisError) throw err;
    throw new PortcullisError('config-invalid', `Cannot read the signing key set ${source.label}.`, {
      detail: String(err),
      cause: err,
    });
  }
  let keys = parseSigningKeys(text, source.label);
  // The keys that verify now, and when that set next shrinks (a retired key's retention ends).
  let jwks: JWTVerifyGetKey;
  let verifiesUntil = 0;
  const rebuild = () => {
    const t = now();
    const usable = keys.filter((k) => retiredUntil(k) > t);
    jwks = createLocalJWKSet(toPublicJwks(usable));
    verifiesUntil = Math.min(...usable.map(retiredUntil));
  };
  rebuild();
  let lastForced = 0;
  const listeners: ((keys: readonly StoredSigningKey[]) => void)[] = [];
  const where = { source: source.label };

  const check = async (): Promise<boolean> => {
    let fp: string | undefined;
    try {
      fp = source.fingerprint();
    } catch (err) {
      opts.logger.error({ err, ...where }, 'signing key set unreadable; keeping the keys in use');
      return false;
    }
    if (fp !== undefined && fp === seen) return false;
    let next: StoredSigningKey[];
    try {
      const problem = source.problem();
      if (problem) {
        opts.logger.error(
          { alert: 'signing-keys-insecure', ...where, problem },
          'signing key set is replaceable by others; keeping the keys in use',
        );
        return false;
      }
      next = parseSigningKeys(await source.read(), source.label);
    } catch (err) {
      opts.logger.error(
        { err, ...where },
        'signing key set unreadable or malformed; keeping the keys in use',
      );
      return false;
    }
    seen = fp;
    if (identity(next) === identity(keys)) return false;
    keys = next;
    rebuild();
    opts.logger.info({ signingKid: keys[0]!.kid, published: keys.length }, 'signing keys reloaded');
    for (const l of listeners) {
      try {
        l(keys);
      } catch (err) {
        opts.logger.error({ err }, 'signing key listener failed');
      }
    }
    return true;
  };
  // One check at a time: a timer tick and a burst of unknown kids share it.
  let inFlight: Promise<boolean> | undefined;
  const refresh = () => (inFlight ??= check().finally(() => (inFlight = undefined)));

  const timer = setInterval(() => void refresh(), opts.intervalMs);
  timer.unref();

  const getKey: JWTVerifyGetKey = async (header, token) => {
    if (now() >= verifiesUntil) rebuild();
    try {
      return await jwks(header, token);
    } catch (err) {
      if (!(err instanceof errors.JWKSNoMatchingKey) || now() - lastForced < UNKNOWN_KID_CHECK_MS) throw err;
      lastForced = now();
      if (!(await refresh())) throw err;
      return jwks(header, token);
    }
  };

  return {
    keys: () => keys,
    getKey,
    refresh,
    onChange: (l) => void listeners.push(l),
    close: () => clearInterval(timer),
  };
}
