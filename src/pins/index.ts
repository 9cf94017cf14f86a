// Definition pinning (tools, prompts, resource templates, instructions): the rug-pull defence. See src/upstreams/DESIGN.md.
export { hashDefinition, INSTRUCTIONS_KEY } from './hash-definition.js';
export { parsePinKey, promptKey, templateKey, type PinKind } from './pin-keys.js';
export {
  emptyLockfile,
  formatLockfile,
  LOCKFILE_NAME,
  parseLockfile,
  readLockfile,
  writeJsonAtomic,
  writeLockfile,
  type ApprovedPin,
  type Lockfile,
  type UpstreamLock,
} from './lockfile.js';
export {
  OBSERVED_FILE_NAME,
  readObserved,
  type ObservedFile,
  type ObservedItem,
  type ObservedUpstream,
} from './observed.js';
export { approveItems, pinStateOf, rejectItems, type PinState } from './pin-state.js';
export { diffDefinitions } from './diff-definitions.js';
export { pinReport, type PinRow } from './pin-report.js';
export { decidePins, type PinDecision, type PinDecisionResult } from './decide-pins.js';
export {
  checkImport,
  importLegacyPinFiles,
  importLockfile,
  loadObserved,
  loadPins,
  trustedPins,
  type BrokenPin,
} from './pin-store.js';
