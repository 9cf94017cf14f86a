export { migrate, type SqliteSchema } from './migrate.js';
