/** API replies: exactly 200 and `Content-Type: application/json` (no charset), as the original's. */
import type { FastifyReply } from 'fastify';

export function sendJson(reply: FastifyReply, body: unknown, indent?: number): FastifyReply {
  return reply.code(200).header('content-type', 'application/json').send(Buffer.from(JSON.stringify(body, null, indent)));
}
