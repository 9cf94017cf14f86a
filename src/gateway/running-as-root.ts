/**
 * The warning for a gateway running as `uid` 0, or undefined (any other uid, or a platform
 * without uids: `process.getuid` is absent on Windows).
 */
export function runningAsRoot(uid: number | undefined): string | undefined {
  if (uid !== 0) return undefined;
  return (
    'the gateway runs as root (uid 0). Run it as an unprivileged user: a dedicated account, ' +
    'systemd DynamicUser= or a container with runAsNonRoot (docs/deploy.md).'
  );
}
