/** API replies: exactly 200 and `Content-Type: application/json` (no charset), as the original's. */
import type { FastifyReply } from 'fastify';

export function sendJson(reply: FastifyReply, body: unknown, indent?: number): FastifyReply {
  return reply.code(200).header('content-type', 'application/json').send(Buffer.from(JSON.stringify(body, null, indent)));
}

/** Python's isoformat() of an aware UTC time: microseconds, and "+00:00" rather than "Z". */
export function pythonIsoFormat(date: Date): string {
  const iso = date.toISOString();
  const millis = date.getUTCMilliseconds();
  return `${iso.slice(0, 19)}${millis === 0 ? '' : `.${String(millis).padStart(3, '0')}000`}+00:00`;
}
