export { sanitiseText, type SanitiseCounts, type SanitisedText } from './sanitise-text.js';
export {
  sanitiseResult,
  truncationNotice,
  type SanitiseResultOptions,
  type SanitisedResult,
  type ToolResultLike,
} from './sanitise-result.js';
export {
  createRedactor,
  type DeepFinding,
  type PiiOptions,
  type RedactionFinding,
  type RedactionRule,
  type Redactor,
  type RedactorOptions,
} from './redact.js';
export {
  detectInjection,
  detectionView,
  MALICIOUS_THRESHOLD,
  SUSPICIOUS_THRESHOLD,
  type DetectOptions,
  type InjectionFinding,
  type InjectionKind,
  type InjectionReport,
  type InjectionRule,
  type InjectionVerdict,
} from './detect-injection.js';
export {
  collectFeatures,
  committedModel,
  DIMENSIONS,
  featureIndex,
  featurePosition,
  MODEL_MIN_LENGTH,
  MODEL_THRESHOLDS,
  scoreWithModel,
  STRIDE,
  windowCount,
  type ModelKind,
  type ModelWeights,
} from './injection-model.js';
export { scanDefinition, type DefinitionFinding, type DefinitionReport } from './scan-definition.js';
export {
  createDefinitionRedactor,
  flagLeaks,
  type LeakedSecret,
  type RedactedDefinition,
} from './redact-definition.js';
export { wrapUntrusted, type WrapOptions } from './wrap-untrusted.js';
export {
  escapeForTerminal,
  escapeJsonForTerminal,
  revealHidden,
  revealHiddenText,
  type RevealedPart,
} from './reveal-hidden.js';
export {
  createOutputGuard,
  type InjectionAction,
  type OutputGuard,
  type SecuredOutput,
  type ToolResult,
} from './secure-output.js';
