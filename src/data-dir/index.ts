export { initDataDir, isInitialised, type InitResult } from './init.js';
export { dataDirLayout } from './layout.js';
