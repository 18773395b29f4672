/** webmunk-local-tasks, "Webmunk: Visible Tasks" (webmunk-server.md §5.3.9). */
import { perPointExporter } from '../exporter.ts';
import { column, CREATED, CREATED_UTC, RECORDED, RECORDED_UTC, SOURCE, TIME_ZONE } from './common.ts';

function tasks(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}

export const localTasksExporter = perPointExporter('webmunk-local-tasks', 'Webmunk: Visible Tasks', [
  SOURCE, CREATED, CREATED_UTC, RECORDED, RECORDED_UTC, TIME_ZONE,
  column('Task Count', 'int', 'number of `pending-tasks`', ({ point }) => tasks(point.get('pending-tasks')).length, ['pending-tasks']),
  column('Task Name(s)', 'string', "each task's `message` (empty if absent), joined with `;`", ({ point }) =>
    tasks(point.get('pending-tasks'))
      .map((task) => (task && typeof task === 'object' ? ((task as Record<string, unknown>).message ?? '') : ''))
      .join(';'), ['pending-tasks']),
]);
