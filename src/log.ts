/** One logger for the server, the worker and the CLI (pino, as Fastify uses). */
import { destination, pino, type Logger } from 'pino';

export type { Logger };

/** `stderr` for commands whose stdout is their result (`dcs status --json`). */
export function createLogger(level: string, to: 'stdout' | 'stderr' = 'stdout'): Logger {
  const options = { level, base: { service: 'webmunk-dcs' } };
  return to === 'stderr' ? pino(options, destination({ dest: 2, sync: true })) : pino(options);
}
