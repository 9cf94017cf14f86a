/**
 * Loading a module at first use that can be tried again after a failure.
 *
 * Node keeps a failed module load for the life of the process: every later `import()` of the
 * same URL rethrows the first error. A transient failure at first use (EMFILE while a flood holds
 * the descriptors, a read error) would then stick until a restart, where loading at start would
 * have stopped the start in front of the operator. So each retry imports the module under a fresh
 * URL (a query parameter), which Node loads anew:
 * - a CommonJS package (undici, pg) is loaded again entirely, because `require` drops a module
 *   that failed from its cache;
 * - for an ES module only the entry itself is fresh: a module deeper in its graph that failed
 *   stays failed, and the error then says the process needs a restart.
 * A success is kept; concurrent callers share one attempt.
 */
export interface ModuleLoader<T> {
  (): Promise<T>;
}

export function importAgain<T>(url: string | URL): ModuleLoader<T> {
  const href = String(url);
  let loading: Promise<T> | undefined;
  let attempt = 0;
  return () =>
    (loading ??= (
      import(
        attempt === 0 ? href : `${href}${href.includes('?') ? '&' : '?'}attempt=${attempt}`
      ) as Promise<T>
    ).catch((err: unknown) => {
      loading = undefined;
      attempt++;
      throw new ModuleLoadError(href, err);
    }));
}

/** A module that could not be loaded; `cause` is Node's error. */
export class ModuleLoadError extends Error {
  constructor(
    readonly url: string,
    cause: unknown,
  ) {
    super(
      `could not load ${url.replace(/^.*\/node_modules\//, '')}: ${cause instanceof Error ? cause.message : String(cause)} ` +
        '(tried again on the next use; if it keeps failing, restart the gateway)',
      { cause },
    );
    this.name = 'ModuleLoadError';
  }
}
