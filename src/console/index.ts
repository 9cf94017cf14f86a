// The operator console (/admin): server-rendered pages over the gateway's own stores. See DESIGN.md.
export { createConsole, CONSOLE_ROLE } from './create-console.js';
export type { ConsoleDeps } from './kit.js';
export { csvCell, csvRow } from './csv.js';
export { bucketRecords, type Bucket } from './bucket-records.js';
