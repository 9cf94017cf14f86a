// The public security surface: what the gateway serves (/catalogue, /catalogue.json).
export { catalogueConfigSchema, type CatalogueConfig } from './config.js';
export { buildCatalogue, type CatalogueDocument, type CatalogueItem } from './build-catalogue.js';
export { createCatalogueRoutes, type CatalogueRouteDeps } from './catalogue-routes.js';
