// `portcullis scan`: audits any MCP server against the gateway's checklist. See DESIGN.md here.
export {
  AREAS,
  CHECK_IDS,
  CHECKS,
  SEVERITIES,
  type Area,
  type CheckDefinition,
  type CheckId,
  type Severity,
} from './checks.js';
export { exitCodeOf, type Finding, type InventoryItem, type ScanReport, type Target } from './report.js';
export { runScan, targetIdOf, type ScanOptions, type TargetSpec } from './run-scan.js';
export { readBaseline } from './compare-baseline.js';
export { readClientConfig, type ClientConfig, type ConfiguredServer } from './read-client-config.js';
export { renderHuman, type Line, type Segment, type Style } from './render-human.js';
export { renderSarif } from './render-sarif.js';
export { ScanError, isScanError, type ScanErrorCode } from './errors.js';
