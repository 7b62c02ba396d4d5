/** The appliance's users (users.json): name, role and password hash. No password is ever stored. */
import { CanthusError } from '../core/errors.ts';
import { JsonDocument } from './jsonFile.ts';
import { schemaCheck, USERS_FILE_SCHEMA } from './schemas.ts';

const deepCheck = schemaCheck(USERS_FILE_SCHEMA);

export type Role = 'admin' | 'staff';
export const ROLES: readonly Role[] = ['admin', 'staff'];

/** The languages of the web UI a user may choose (BCP 47 tags). */
export type UserLanguage = 'en' | 'zh-CN';
export const USER_LANGUAGES: readonly UserLanguage[] = ['en', 'zh-CN'];

/** scrypt with its parameters stored beside the hash, so they can be raised later. */
export interface PasswordHash {
  algorithm: 'scrypt';
  N: number;
  r: number;
  p: number;
  keyLength: number;
  /** base64 */
  salt: string;
  /** base64 */
  hash: string;
}

export interface UserRecord {
  id: string;
  username: string;
  role: Role;
  password: PasswordHash;
  createdAt: string;
  /** Username of the admin who created it; null for the first admin (first-run setup). */
  createdBy: string | null;
  /** The UI language chosen by the user, applied at sign-in on any device; absent: the browser's. */
  language?: UserLanguage;
  /** A disabled user cannot sign in (kept for the audit trail; an admin may enable it again). */
  disabled?: boolean;
  /** Last change by an admin (role, password, disabled), ISO time and who. */
  changedAt?: string;
  changedBy?: string;
}

/** Changes an admin (or the user, for the language) makes to a user record. */
export interface UserChange {
  role?: Role;
  disabled?: boolean;
  password?: PasswordHash;
  language?: UserLanguage;
}

interface UsersFile {
  version: 1;
  users: UserRecord[];
}

/** A change refused because of the other users (a taken name, the last admin). */
export class UserConflictError extends CanthusError {
  constructor(message: string) {
    super(message);
    this.name = 'UserConflictError';
  }
}

export class Users {
  readonly #doc: JsonDocument<UsersFile>;

  private constructor(doc: JsonDocument<UsersFile>) {
    this.#doc = doc;
  }

  static async open(file: string): Promise<Users> {
    const doc = await JsonDocument.open<UsersFile>(file, {
      what: 'users',
      empty: () => ({ version: 1, users: [] }),
      // The quick check's messages first, then every field against the full shape.
      check: (data) => checkUsersFile(data) ?? deepCheck(data),
    });
    return new Users(doc);
  }

  get file(): string {
    return this.#doc.file;
  }

  count(): number {
    return this.#doc.data.users.length;
  }

  find(username: string): UserRecord | null {
    return this.#doc.data.users.find((user) => user.username === username) ?? null;
  }

  all(): readonly UserRecord[] {
    return this.#doc.data.users;
  }

  /**
   * Adds a user. Refuses a taken username, and with `onlyIfNoUsers` refuses when any user exists
   * (first-run setup: the check and the write are one step, so two setups cannot both succeed).
   */
  add(user: UserRecord, options: { onlyIfNoUsers?: boolean } = {}): Promise<UserRecord> {
    return this.#doc.update((draft) => {
      if (options.onlyIfNoUsers && draft.users.length > 0) {
        throw new UserConflictError('setup is already done: an admin exists; log in instead');
      }
      if (draft.users.some((existing) => existing.username === user.username)) {
        throw new UserConflictError(`username "${user.username}" is taken: choose another`);
      }
      draft.users.push(user);
      return user;
    });
  }

  /**
   * Changes a user; null when there is no such user. Refuses (UserConflictError) a change that
   * would leave no enabled admin — checked and written in one step, so two admins demoting each
   * other at once cannot both succeed.
   */
  update(username: string, change: UserChange, by: string | null, at: string): Promise<UserRecord | null> {
    return this.#doc.update((draft) => {
      const user = draft.users.find((u) => u.username === username);
      if (!user) return null;
      const after = { ...user, ...change };
      const losesAdmin = isActiveAdmin(user) && !isActiveAdmin(after);
      if (losesAdmin && draft.users.filter(isActiveAdmin).length <= 1) {
        throw new UserConflictError(
          `"${username}" is the last enabled admin: ${change.disabled ? 'disabling' : 'demoting'} it would leave nobody to manage the appliance; make another user admin first`,
        );
      }
      if (change.role !== undefined) user.role = change.role;
      if (change.disabled !== undefined) user.disabled = change.disabled;
      if (change.password !== undefined) user.password = change.password;
      if (change.language !== undefined) user.language = change.language;
      if (by !== null) {
        user.changedAt = at;
        user.changedBy = by;
      }
      return { ...user };
    });
  }

  /** Removes a user; false when there is none. Refuses removing the last enabled admin. */
  remove(username: string): Promise<boolean> {
    return this.#doc.update((draft) => {
      const index = draft.users.findIndex((u) => u.username === username);
      if (index < 0) return false;
      if (isActiveAdmin(draft.users[index]) && draft.users.filter(isActiveAdmin).length <= 1) {
        throw new UserConflictError(
          `"${username}" is the last enabled admin: removing it would leave nobody to manage the appliance; make another user admin first`,
        );
      }
      draft.users.splice(index, 1);
      return true;
    });
  }
}

const isActiveAdmin = (user: UserRecord) => user.role === 'admin' && user.disabled !== true;

function checkUsersFile(data: unknown): string | null {
  if (typeof data !== 'object' || data === null || Array.isArray(data)) return 'expected a JSON object';
  const users = (data as { users?: unknown }).users;
  if (!Array.isArray(users)) return 'expected "users" to be an array';
  for (const [index, user] of users.entries()) {
    const u = user as Partial<UserRecord> | null;
    if (typeof u !== 'object' || u === null) return `users[${index}] is not an object`;
    if (typeof u.username !== 'string') return `users[${index}].username is missing`;
    if (!ROLES.includes(u.role as Role)) return `users[${index}].role must be one of ${ROLES.join(', ')}`;
    if (typeof u.password !== 'object' || u.password === null || u.password.algorithm !== 'scrypt') {
      return `users[${index}].password must be a scrypt hash`;
    }
  }
  return null;
}
