/** Placeholder: the dashboard pages are being written (issue 6). */
import type { FastifyInstance } from 'fastify';
import type { DashboardDeps } from '../dashboard.plugin.ts';
import { html, renderPage } from '../html.ts';

export function registerPages(scope: FastifyInstance, _deps: DashboardDeps): void {
  scope.get('/', async (request, reply) => reply.type('text/html; charset=utf-8').send(renderPage({
    title: 'Sources', username: request.session!.user.username, csrfToken: request.session!.csrfToken, current: 'home', body: html`<h1>Sources</h1>`,
  })));
}
