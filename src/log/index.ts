export { createLogger, logsPretty, type Logger, type LoggerOptions } from './logger.js';
export { prettyLine } from './pretty.js';
