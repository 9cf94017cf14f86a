import { PortcullisError } from '../../errors/index.js';
import { migratePostgres, type MigrationStep, type PgSchema } from '../../migrate/index.js';
import {
  loadPg,
  poolConfig,
  refuseSuperuser,
  resolvePgUrl,
  roleFacts,
  type PgStorageConfig,
} from './open-pools.js';

const userOf = (url: string) => decodeURIComponent(new URL(url).username) || undefined;

/**
 * Applies (or, on a dry run, lists) the components' migrations over the owner connection
 * (`storage.migrateUrl`, else `storage.url`), granting the write and read roles what they need.
 * The owner may not be a superuser either. Errors become one storage error; a schema newer than
 * the code says so.
 */
export async function migratePgComponents(
  config: PgStorageConfig,
  components: readonly PgSchema[],
  options: { dryRun?: boolean; env?: NodeJS.ProcessEnv } = {},
): Promise<MigrationStep[]> {
  const env = options.env ?? process.env;
  const writeUrl = resolvePgUrl(config.url, env);
  const ownerUrl = config.migrateUrl ? resolvePgUrl(config.migrateUrl, env) : writeUrl;
  const readUrl = config.readUrl ? resolvePgUrl(config.readUrl, env) : undefined;
  const { Pool } = await loadPg();
  const pool = new Pool(poolConfig(config, ownerUrl, { max: 1 }));
  pool.on('error', () => undefined);
  try {
    refuseSuperuser(
      await roleFacts(pool, config.schema),
      config.migrateUrl ? 'storage.migrateUrl' : 'storage.url',
    );
    const client = await pool.connect();
    try {
      const write = userOf(writeUrl);
      const read = readUrl ? userOf(readUrl) : undefined;
      return await migratePostgres(client, config.schema, components, {
        ...(options.dryRun ? { dryRun: true } : {}),
        grants: { ...(write ? { write } : {}), ...(read ? { read } : {}) },
      });
    } finally {
      client.release();
    }
  } catch (err) {
    if (err instanceof PortcullisError) throw err;
    const text = String(err);
    const code = (err as { code?: string }).code ?? '';
    const unreachable =
      ['ECONNREFUSED', 'ENOTFOUND', 'ETIMEDOUT', 'EAI_AGAIN', '28000', '28P01', '3D000'].includes(code) ||
      /timeout|terminated/i.test(text);
    throw new PortcullisError(
      'storage-failure',
      /newer than this Portcullis/.test(text)
        ? `The PostgreSQL schema ${config.schema} is newer than this Portcullis; upgrade Portcullis.`
        : unreachable
          ? `Cannot connect to the PostgreSQL database (${config.migrateUrl ? 'storage.migrateUrl' : 'storage.url'}): ${code || 'no answer'}.`
          : `Cannot migrate the PostgreSQL schema ${config.schema}.`,
      { detail: text, cause: err },
    );
  } finally {
    await pool.end();
  }
}
