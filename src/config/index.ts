export { configSchema, type Config } from './schema.js';
export { loadConfig, CONFIG_FILE_NAME } from './load-config.js';
export { renderConfigDocs } from './render-docs.js';
export { renderDefaultConfigYaml } from './render-yaml.js';
export { checkInsecureSettings, isLoopbackHost, type ConfigProblem } from './check-insecure.js';
export { walkSchema, type ConfigField, type ConfigSection } from './walk-schema.js';
export { isSecurityContactUri, SECURITY_CONTACT_RULE } from './security-contact.js';
export { PORTCULLIS_VERSION } from './version.js';
