export { compileGlobRules, globToRegExp, mostSpecificRule, type GlobRule } from './glob.js';
