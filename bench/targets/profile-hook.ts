// BENCH_PROFILE_FILE: a CPU profile of a target from SIGUSR2 (sent by the orchestrator once the
// warm-up is over, so start-up, seeding and the first JIT tiers are not in it) to SIGTERM. The
// profiler is stopped before anything else is done at SIGTERM; the time Profiler.stop spends
// building the profile lands in the profile's last sample (the ablation charges node:inspector
// frames to a line of their own).
import fs from 'node:fs';
import { Session } from 'node:inspector/promises';

/** Installs the SIGUSR2 hook when BENCH_PROFILE_FILE is set; the returned function saves it. */
export function profileOnSignal(): () => Promise<void> {
  const file = process.env.BENCH_PROFILE_FILE;
  let profiler: Session | undefined;
  if (file) {
    process.on('SIGUSR2', () => {
      profiler = new Session();
      profiler.connect();
      void profiler.post('Profiler.enable').then(() => profiler!.post('Profiler.start'));
    });
  }
  return async () => {
    if (!profiler || !file) return;
    const { profile } = await profiler.post('Profiler.stop');
    fs.writeFileSync(file, JSON.stringify(profile));
  };
}
