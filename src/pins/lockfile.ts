import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { PortcullisError } from '../errors/index.js';

export const LOCKFILE_NAME = 'portcullis.lock.json';

const approvedSchema = z.object({
  hash: z.string(),
  approvedAt: z.string(),
  /** The approved definition itself, so a review of the lockfile shows what was approved. */
  definition: z.unknown(),
});
const rejectedSchema = z.object({ hash: z.string(), rejectedAt: z.string() });
const upstreamLockSchema = z.object({
  approved: z.record(z.string(), approvedSchema).default({}),
  rejected: z.record(z.string(), z.array(rejectedSchema)).default({}),
});
const lockfileSchema = z.object({
  lockfileVersion: z.literal(1),
  upstreams: z.record(z.string(), upstreamLockSchema).default({}),
});

export type ApprovedPin = z.output<typeof approvedSchema>;
export type UpstreamLock = z.output<typeof upstreamLockSchema>;
/**
 * The approved tool definitions: `portcullis.lock.json` in the data directory, meant to be
 * reviewed and committed like a package lockfile. Keys are tool names (as the upstream names
 * them), `prompt:<name>`, `resource-template:<uriTemplate>` and `(instructions)` for the
 * server's instructions (pin-keys.ts).
 */
export type Lockfile = z.output<typeof lockfileSchema>;

export const emptyLockfile = (): Lockfile => ({ lockfileVersion: 1, upstreams: {} });

/** Reads the lockfile; absent means nothing approved yet. A corrupt one is an error, not empty. */
export function readLockfile(file: string): Lockfile {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return emptyLockfile();
    throw new PortcullisError('config-invalid', `Cannot read ${file}.`, { detail: String(err), cause: err });
  }
  return parseLockfile(text, file);
}

/** A lockfile's text, validated; `name` says which file in the error. */
export function parseLockfile(text: string, name: string): Lockfile {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new PortcullisError(
      'config-invalid',
      `${name} is not valid JSON; restore it from version control.`,
    );
  }
  const result = lockfileSchema.safeParse(parsed);
  if (!result.success) {
    throw new PortcullisError('config-invalid', `${name} is not a Portcullis lockfile (version 1).`, {
      detail: result.error.message,
    });
  }
  return result.data;
}

/** Writes a JSON file atomically (temp file + rename), so a reader never sees half of it. */
export function writeJsonAtomic(file: string, value: unknown): void {
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.tmp`);
  fs.writeFileSync(tmp, `${JSON.stringify(value, null, 2)}\n`, { mode: 0o644 });
  fs.renameSync(tmp, file);
}

/** The lockfile's text: keys sorted and one field a line, so the committed file diffs cleanly. */
export function formatLockfile(lock: Lockfile): string {
  const sorted = <T>(rec: Record<string, T>) =>
    Object.fromEntries(
      Object.keys(rec)
        .sort()
        .map((k) => [k, rec[k]!]),
    );
  const upstreams = Object.fromEntries(
    Object.keys(lock.upstreams)
      .sort()
      .map((name) => {
        const u = lock.upstreams[name]!;
        const approved = Object.fromEntries(
          Object.entries(sorted(u.approved)).map(([k, p]) => [
            k,
            { hash: p.hash, approvedAt: p.approvedAt, definition: p.definition },
          ]),
        );
        const rejected = Object.fromEntries(
          Object.entries(sorted(u.rejected)).map(([k, list]) => [
            k,
            list.map((r) => ({ hash: r.hash, rejectedAt: r.rejectedAt })),
          ]),
        );
        return [name, { approved, rejected }];
      }),
  );
  return `${JSON.stringify({ lockfileVersion: 1, upstreams }, null, 2)}\n`;
}

/** Writes the lockfile (formatLockfile) atomically. */
export function writeLockfile(file: string, lock: Lockfile): void {
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.tmp`);
  fs.writeFileSync(tmp, formatLockfile(lock), { mode: 0o644 });
  fs.renameSync(tmp, file);
}
