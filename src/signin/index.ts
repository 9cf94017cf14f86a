export {
  createSignIn,
  type LoginLimits,
  type SignIn,
  type SignInDeps,
  type SignInForm,
} from './create-signin.js';
export type { Sessions } from './sessions.js';
export { createSetupRoutes, type SetupRouteDeps } from './setup-routes.js';
