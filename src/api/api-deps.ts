/** What the API's routes are given (a leaf file: the route files share it without importing each other). */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Config } from '../config.ts';
import type { Pool } from '../db/database.ts';
import type { Logger } from '../log.ts';

export interface ApiDeps {
  pool: Pool;
  config: Config;
  log: Logger;
}

/** Registers a POST route of the API (and its 405 for every other method). */
export type PostRoute = (path: string, handler: (request: FastifyRequest, reply: FastifyReply) => Promise<FastifyReply>) => void;
