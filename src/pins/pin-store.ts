import fs from 'node:fs';
import path from 'node:path';
import type { Logger } from 'pino';
import { PortcullisError } from '../errors/index.js';
import type { PinStore, UpstreamPins } from '../storage/index.js';
import { hashDefinition } from './hash-definition.js';
import { LOCKFILE_NAME, readLockfile, type Lockfile } from './lockfile.js';
import { OBSERVED_FILE_NAME, type ObservedFile, type ObservedUpstream } from './observed.js';

const HASH = /^sha256:[0-9a-f]{64}$/;

/** Whether a pinned definition still hashes to the hash approved for it. */
function hashHolds(hash: string, definition: unknown): boolean {
  if (!HASH.test(hash)) return false;
  try {
    return hashDefinition(definition) === hash;
  } catch {
    return false;
  }
}

/** An approval whose definition does not hash to its hash (a row edited in the database). */
export interface BrokenPin {
  readonly upstream: string;
  readonly key: string;
}

/**
 * The pins as the gateway may trust them: an approval counts only if its definition hashes to its
 * hash. Pins are approved by hash; a row whose hash was changed to match another definition (a
 * rug pull's, say) would otherwise approve a definition no person ever saw. Such an approval is
 * dropped here (fail closed) and named in `broken`.
 */
export function trustedPins(upstreams: Readonly<Record<string, UpstreamPins>>): {
  lock: Lockfile;
  broken: BrokenPin[];
} {
  const broken: BrokenPin[] = [];
  const out: Lockfile['upstreams'] = {};
  for (const [name, u] of Object.entries(upstreams)) {
    const approved = Object.fromEntries(
      Object.entries(u.approved).filter(([key, pin]) => {
        const ok = hashHolds(pin.hash, pin.definition);
        if (!ok) broken.push({ upstream: name, key });
        return ok;
      }),
    );
    out[name] = { approved, rejected: u.rejected };
  }
  return { lock: { lockfileVersion: 1, upstreams: out }, broken };
}

/** The store's pins (trustedPins) with the revision they were read at. */
export async function loadPins(
  store: PinStore,
): Promise<{ lock: Lockfile; revision: number; broken: BrokenPin[] }> {
  const { revision, upstreams } = await store.read();
  return { ...trustedPins(upstreams), revision };
}

const isObservedUpstream = (v: unknown): v is ObservedUpstream =>
  typeof v === 'object' &&
  v !== null &&
  typeof (v as ObservedUpstream).items === 'object' &&
  (v as ObservedUpstream).items !== null &&
  Array.isArray((v as ObservedUpstream).malformed);

/** What the gateways last observed of each upstream, from the store (entries of another shape skipped). */
export async function loadObserved(store: PinStore): Promise<ObservedFile> {
  const all = await store.observed();
  return {
    observedVersion: 1,
    upstreams: Object.fromEntries(Object.entries(all).filter(([, v]) => isObservedUpstream(v))) as Record<
      string,
      ObservedUpstream
    >,
  };
}

/**
 * Checks a lockfile before it goes into the store: every approved hash is well formed and is the
 * hash of the definition beside it, every rejected hash is well formed. One bad entry refuses the
 * whole file (nothing is imported), naming each problem.
 */
export function checkImport(lock: Lockfile, name: string): void {
  const problems: string[] = [];
  for (const [upstream, u] of Object.entries(lock.upstreams)) {
    for (const [key, pin] of Object.entries(u.approved)) {
      if (!HASH.test(pin.hash)) problems.push(`${upstream} ${key}: the approved hash is not sha256:<64 hex>`);
      else if (!hashHolds(pin.hash, pin.definition))
        problems.push(`${upstream} ${key}: the approved hash is not the hash of its definition`);
    }
    for (const [key, list] of Object.entries(u.rejected)) {
      if (list.some((r) => !HASH.test(r.hash)))
        problems.push(`${upstream} ${key}: a rejected hash is not sha256:<64 hex>`);
    }
  }
  if (problems.length > 0) {
    throw new PortcullisError(
      'config-invalid',
      `${name} was not imported (nothing changed): ${problems.slice(0, 5).join('; ')}${
        problems.length > 5 ? `; and ${problems.length - 5} more` : ''
      }.`,
    );
  }
}

/** Replaces the store's pins with a checked lockfile (checkImport), in one transaction. */
export async function importLockfile(store: PinStore, lock: Lockfile, name: string): Promise<number> {
  checkImport(lock, name);
  return store.replace(lock.upstreams);
}

/**
 * An install from before pins lived in the store: if the store holds no pin yet and the data
 * directory has `portcullis.lock.json`, it is imported once (checked as any import); likewise
 * `upstreams-observed.json` when nothing is observed yet. The files are left where they are:
 * from now on the store is the source of truth, and `portcullis pins export` writes the file.
 * A file that cannot be imported is logged and imports nothing (every definition stays blocked).
 */
export async function importLegacyPinFiles(store: PinStore, dataDir: string, logger: Logger): Promise<void> {
  const lockFile = path.join(dataDir, LOCKFILE_NAME);
  const current = await store.read();
  if (Object.keys(current.upstreams).length === 0 && fs.existsSync(lockFile)) {
    try {
      const lock = readLockfile(lockFile);
      if (Object.keys(lock.upstreams).length > 0) {
        await importLockfile(store, lock, lockFile);
        logger.warn(
          { file: lockFile },
          'imported the pin lockfile into the storage backend; the store is now the source of truth (the file is no longer read: `portcullis pins export` writes it)',
        );
      }
    } catch (err) {
      if (!(err instanceof PortcullisError) || err.code !== 'config-invalid') throw err;
      logger.error(
        { alert: 'lockfile-unreadable', err },
        'cannot import the pin lockfile; nothing was imported and every new upstream definition is blocked until approved',
      );
    }
  }
  const observedFile = path.join(dataDir, OBSERVED_FILE_NAME);
  if (fs.existsSync(observedFile) && Object.keys(await store.observed()).length === 0) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(fs.readFileSync(observedFile, 'utf8'));
    } catch {
      parsed = undefined;
    }
    const upstreams = (parsed as Partial<ObservedFile> | undefined)?.upstreams;
    if (
      (parsed as Partial<ObservedFile> | undefined)?.observedVersion === 1 &&
      typeof upstreams === 'object'
    ) {
      for (const [name, snapshot] of Object.entries(upstreams)) {
        if (isObservedUpstream(snapshot)) await store.putObserved(name, snapshot);
      }
      logger.info({ file: observedFile }, 'imported the observed definitions into the storage backend');
    }
  }
}
