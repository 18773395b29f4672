/**
 * The home page's actions (POST, CSRF-checked by the auth plugin): add, rename, move, remove,
 * restore a source, suppress or enable its alerts; create, suppress and delete groups. Each
 * redirects (303) back to the page it came from with its outcome (notices.ts).
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Pool } from '../../db/database.ts';
import type { DashboardDeps, FormFields } from '../dashboard-deps.ts';
import { deleteGroup, findOrCreateGroup, groupExists, listGroups, setGroupSuppressed } from '../groups.repository.ts';
import {
  addSource, closeAlertsOfQuietSources, moveSource, renameSource, setSourceRemoved, setSourceSuppressed, sourceExists, sourceNamed,
} from '../sources.repository.ts';
import { safeReturn, withOutcome } from './notices.ts';

/** Longest identifier, name or group name accepted (the original's columns held 1,024 characters). */
const MAX_TEXT = 1024;

function field(request: FastifyRequest, name: string): string {
  const body = (request.body ?? {}) as FormFields;
  const value = body[name];
  return (Array.isArray(value) ? value[0] : value ?? '').trim().slice(0, MAX_TEXT);
}

function back(request: FastifyRequest, reply: FastifyReply, outcome: { done?: string; failed?: string; subject?: string }) {
  return reply.code(303).redirect(withOutcome(request, safeReturn(field(request, 'return')), outcome));
}

/** The group a form chose: '' none, 'new' (with new_group), or an id. */
async function chosenGroup(pool: Pool, request: FastifyRequest): Promise<{ id: number | null } | { failed: string }> {
  const group = field(request, 'group');
  const newGroup = field(request, 'new_group');
  if (group === 'new' || (group === '' && newGroup)) {
    if (!newGroup) return { failed: 'missing-name' };
    return { id: await findOrCreateGroup(pool, newGroup) };
  }
  if (group === '') return { id: null };
  const id = Number(group);
  if (!Number.isSafeInteger(id) || !(await groupExists(pool, id))) return { failed: 'unknown-group' };
  return { id };
}

const isUniqueViolation = (error: unknown) => (error as { code?: string }).code === '23505';

export function registerSourceActions(scope: FastifyInstance, { pool }: DashboardDeps): void {
  scope.post('/sources/add', async (request, reply) => {
    const source = field(request, 'source');
    const name = field(request, 'name') || null;
    if (!source) return back(request, reply, { failed: 'missing-identifier' });
    const existing = await sourceExists(pool, source);
    if (existing && !existing.removed) return back(request, reply, { failed: 'source-exists', subject: source });
    if (name && (await sourceNamed(pool, name)) !== undefined) return back(request, reply, { failed: 'name-taken', subject: name });
    const group = await chosenGroup(pool, request);
    if ('failed' in group) return back(request, reply, { failed: group.failed });
    try {
      await addSource(pool, source, name, group.id);
    } catch (error) {
      if (isUniqueViolation(error)) return back(request, reply, { failed: 'name-taken', subject: name ?? '' });
      throw error;
    }
    return back(request, reply, { done: existing ? 'restored' : 'added', subject: source });
  });

  scope.post('/sources/rename', async (request, reply) => {
    const source = field(request, 'source');
    const name = field(request, 'name') || null;
    try {
      if (!(await renameSource(pool, source, name))) return back(request, reply, { failed: 'unknown-source', subject: source });
    } catch (error) {
      if (isUniqueViolation(error)) return back(request, reply, { failed: 'name-taken', subject: name ?? '' });
      throw error;
    }
    return back(request, reply, { done: 'renamed', subject: source });
  });

  scope.post('/sources/move', async (request, reply) => {
    const source = field(request, 'source');
    const group = await chosenGroup(pool, request);
    if ('failed' in group) return back(request, reply, { failed: group.failed });
    if (!(await moveSource(pool, source, group.id))) return back(request, reply, { failed: 'unknown-source', subject: source });
    // The new group may suppress alerts.
    await closeAlertsOfQuietSources(pool, [source]);
    return back(request, reply, { done: 'moved', subject: source });
  });

  for (const [path, removed] of [['/sources/remove', true], ['/sources/restore', false]] as const) {
    scope.post(path, async (request, reply) => {
      const source = field(request, 'source');
      if (!(await setSourceRemoved(pool, source, removed))) return back(request, reply, { failed: 'unknown-source', subject: source });
      if (removed) await closeAlertsOfQuietSources(pool, [source]);
      return back(request, reply, { done: removed ? 'removed' : 'restored', subject: source });
    });
  }

  scope.post('/sources/suppress', async (request, reply) => {
    const source = field(request, 'source');
    const suppress = field(request, 'suppress') !== '0';
    if (!(await setSourceSuppressed(pool, source, suppress))) return back(request, reply, { failed: 'unknown-source', subject: source });
    if (suppress) await closeAlertsOfQuietSources(pool, [source]);
    return back(request, reply, { done: suppress ? 'suppressed' : 'enabled', subject: source });
  });

  scope.post('/groups/add', async (request, reply) => {
    const name = field(request, 'name');
    if (!name) return back(request, reply, { failed: 'missing-name' });
    if ((await listGroups(pool)).some((g) => g.name === name)) return back(request, reply, { failed: 'group-exists', subject: name });
    await findOrCreateGroup(pool, name);
    return back(request, reply, { done: 'group-added', subject: name });
  });

  scope.post('/groups/suppress', async (request, reply) => {
    const id = Number(field(request, 'id'));
    const suppress = field(request, 'suppress') !== '0';
    const group = (await listGroups(pool)).find((g) => g.id === id);
    if (!group || !(await setGroupSuppressed(pool, id, suppress))) return back(request, reply, { failed: 'unknown-group' });
    if (suppress) await closeAlertsOfQuietSources(pool, 'all');
    return back(request, reply, { done: suppress ? 'group-suppressed' : 'group-enabled', subject: group.name });
  });

  scope.post('/groups/delete', async (request, reply) => {
    const id = Number(field(request, 'id'));
    const group = (await listGroups(pool)).find((g) => g.id === id);
    if (!group || !(await deleteGroup(pool, id))) return back(request, reply, { failed: 'unknown-group' });
    return back(request, reply, { done: 'group-deleted', subject: group.name });
  });
}
