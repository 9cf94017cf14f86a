export { migrate, type SqliteSchema } from './migrate.js';
export {
  migratePostgres,
  type MigrationStep,
  type PgMigrateOptions,
  type PgSchema,
} from './migrate-postgres.js';
