// The one way to start a child process (eslint forbids node:child_process elsewhere in src/).
export {
  startProcess,
  type ChildHandle,
  type ExitInfo,
  type ProcessSpec,
  type SandboxRequest,
} from './start-process.js';
export { probeSandbox, type SandboxProbe } from './probe-sandbox.js';
export { buildBwrapArgs, systemBindArgs, type SandboxPolicy } from './build-bwrap-args.js';
export { automaticReadablePaths, packageRootOf, resolveExecutable } from './resolve-executable.js';
export { SandboxError, type SandboxErrorCode } from './errors.js';
