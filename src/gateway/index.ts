// The composition root: builds every capability from the configuration and starts the listener.
export { startGateway, type FirstRun, type RunningGateway, type StartOptions } from './start.js';
export type { BuiltAudit } from './build-audit.js';
export { runningAsRoot } from './running-as-root.js';
export { GATEWAY_NODE_FLAGS, keepHeapNearLiveSize } from './heap.js';
