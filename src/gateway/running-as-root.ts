/**
 * The warning for a gateway running as uid 0, or undefined. `uid` is the process's by default;
 * a parameter so `doctor` and tests can ask about any.
 */
export function runningAsRoot(uid: number | undefined = process.getuid?.()): string | undefined {
  if (uid !== 0) return undefined;
  return (
    'the gateway runs as root (uid 0). Run it as an unprivileged user: a dedicated account, ' +
    'systemd DynamicUser= or a container with runAsNonRoot (docs/deploy.md).'
  );
}
