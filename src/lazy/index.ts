export { importAgain, ModuleLoadError, type ModuleLoader } from './import-again.js';
