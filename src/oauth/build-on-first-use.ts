/**
 * A value built on first use, once: every caller until the build settles awaits the same
 * promise, so concurrent first requests build it once. A failed build is not kept: the caller
 * that saw it gets the error, and the next call builds again (a failure at first use is a
 * passing one — the configuration it depends on was checked at start).
 */
export interface BuiltOnFirstUse<T> {
  /** The value, building it if no build has succeeded or is under way. */
  get(): Promise<T>;
  /** The value if a build has succeeded, without starting one. */
  peek(): T | undefined;
}

export function buildOnFirstUse<T>(build: () => Promise<T>): BuiltOnFirstUse<T> {
  let value: T | undefined;
  let built = false;
  let pending: Promise<T> | undefined;
  return {
    get() {
      if (built) return Promise.resolve(value as T);
      pending ??= build().then(
        (result) => {
          value = result;
          built = true;
          pending = undefined;
          return result;
        },
        (err: unknown) => {
          pending = undefined;
          throw err;
        },
      );
      return pending;
    },
    peek: () => value,
  };
}
