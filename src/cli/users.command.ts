/** `dcs users create NAME [--admin] | list | set-password NAME | remove NAME` */
import type { Pool } from '../db/database.ts';
import { MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH } from '../dashboard/auth/passwords.ts';
import { deleteUser, insertUser, listUsers, setPassword, USERNAME_PATTERN } from '../dashboard/auth/users.repository.ts';
import { readPassword } from './read-password.ts';

export const USERS_USAGE = `Usage:
  dcs users create NAME [--admin]   new dashboard user; password from stdin (one line) or a prompt
  dcs users list                    every user, admin flag, last login
  dcs users set-password NAME       new password (ends the user's sessions)
  dcs users remove NAME`;

async function newPassword(): Promise<string> {
  const password = await readPassword();
  if (password.length < MIN_PASSWORD_LENGTH) throw new Error(`The password must have at least ${MIN_PASSWORD_LENGTH} characters.`);
  if (password.length > MAX_PASSWORD_LENGTH) throw new Error(`The password must have at most ${MAX_PASSWORD_LENGTH} characters.`);
  return password;
}

export async function usersCommand(pool: Pool, args: string[], admin: boolean): Promise<number> {
  const [action, name, ...extra] = args;
  const needsName = ['create', 'set-password', 'remove'].includes(action ?? '');
  if (!action || !['create', 'list', 'set-password', 'remove'].includes(action) || (needsName && !name) || extra.length > 0 || (admin && action !== 'create')) {
    console.error(USERS_USAGE);
    return 1;
  }
  switch (action) {
    case 'create': {
      if (!USERNAME_PATTERN.test(name)) {
        console.error('A user name has 1 to 150 letters, digits or . @ + - _');
        return 1;
      }
      const password = await newPassword();
      try {
        await insertUser(pool, { username: name, password, isAdmin: admin });
      } catch (error) {
        if ((error as { code?: string }).code === '23505') {
          console.error(`User "${name}" already exists (change the password with: dcs users set-password ${name}).`);
          return 1;
        }
        throw error;
      }
      console.log(`created ${admin ? 'administrator' : 'user'} ${name}; log in at /data/login`);
      return 0;
    }
    case 'list': {
      const users = await listUsers(pool);
      if (users.length === 0) console.log('no users yet: dcs users create NAME --admin');
      for (const user of users) {
        console.log(`${user.username.padEnd(24)} ${user.isAdmin ? 'admin' : 'staff'.padEnd(5)}  last login ${user.lastLoginAt?.toISOString() ?? 'never'}`);
      }
      return 0;
    }
    case 'set-password': {
      const password = await newPassword();
      if (!(await setPassword(pool, name, password))) {
        console.error(`No user "${name}".`);
        return 1;
      }
      console.log(`password of ${name} changed; their sessions have ended`);
      return 0;
    }
    default: {
      if (!(await deleteUser(pool, name))) {
        console.error(`No user "${name}".`);
        return 1;
      }
      console.log(`removed ${name}`);
      return 0;
    }
  }
}
