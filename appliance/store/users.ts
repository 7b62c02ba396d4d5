/** The appliance's users (users.json): name, role and password hash. No password is ever stored. */
import { CanthusError } from '../core/errors.ts';
import { JsonDocument } from './jsonFile.ts';
import { schemaCheck, USERS_FILE_SCHEMA } from './schemas.ts';

const deepCheck = schemaCheck(USERS_FILE_SCHEMA);

export type Role = 'admin' | 'staff';
export const ROLES: readonly Role[] = ['admin', 'staff'];

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
}

interface UsersFile {
  version: 1;
  users: UserRecord[];
}

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
}

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
