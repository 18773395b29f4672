/** One logger for the server, the worker and the CLI (pino, as Fastify uses). */
import { pino, type Logger } from 'pino';

export type { Logger };

export function createLogger(level: string): Logger {
  return pino({ level, base: { service: 'webmunk-dcs' } });
}
