/**
 * The accept limit's server (run by bench/accept-limit.ts in its own process): the least a server
 * can do and still promise, with a 201, that an upload is kept. It decodes each upload to validate
 * it (form -> base64 -> gunzip on the thread pool -> JSON.parse, an array), inserts the stored
 * body as one row of `limit_bundles` in its own transaction with synchronous commit (the
 * PostgreSQL default: the reply waits for the WAL flush), and answers. No framework, no logging.
 */
import http from 'node:http';
import { promisify } from 'node:util';
import { gunzip } from 'node:zlib';
import pg from 'pg';

const gunzipAsync = promisify(gunzip);
// As many connections as `dcs start` opens for uploads (DB_POOL_SIZE's default).
const pool = new pg.Pool({ connectionString: process.env.LIMIT_DATABASE_URL, max: Number(process.env.LIMIT_POOL_SIZE ?? 20) });

function formFields(body: Buffer): Map<string, string> {
  const fields = new Map<string, string>();
  for (const pair of body.toString('latin1').split('&')) {
    const i = pair.indexOf('=');
    fields.set(decodeURIComponent(pair.slice(0, i)), decodeURIComponent(pair.slice(i + 1).replace(/\+/g, ' ')));
  }
  return fields;
}

async function accept(request: http.IncomingMessage, body: Buffer): Promise<number> {
  let stored = body;
  let json = body;
  if ((request.headers['content-type'] ?? '').startsWith('application/x-www-form-urlencoded')) {
    stored = Buffer.from(formFields(body).get('payload') ?? '', 'base64');
    json = await gunzipAsync(stored);
  }
  if (!Array.isArray(JSON.parse(json.toString('utf8')))) return 400;
  await pool.query('INSERT INTO limit_bundles (body) VALUES ($1)', [stored]);
  return 201;
}

http.createServer((request, response) => {
  const chunks: Buffer[] = [];
  request.on('data', (chunk: Buffer) => chunks.push(chunk));
  request.on('end', () => {
    accept(request, Buffer.concat(chunks)).then((status) => {
      response.writeHead(status, { 'content-type': 'application/json' });
      response.end('{"added": true}');
    }, () => {
      response.writeHead(500);
      response.end();
    });
  });
}).listen(0, '127.0.0.1', function (this: http.Server) {
  console.log(`listening on ${(this.address() as { port: number }).port}`);
});
