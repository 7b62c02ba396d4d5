/**
 * The password rule for new accounts (first-run setup and users created by admins): long enough,
 * not one of the passwords every guessing list tries first, not a trivially repetitive one. Login
 * does not apply it: a wrong password is just wrong. The list is small and bundled on purpose (no
 * download on a box that may be offline); its job is to stop the guesses an attacker tries first.
 */

/** What is allowed, for every refusal. */
export const PASSWORD_RULE =
  'at least 10 characters, not containing the username, not a common password or common word with digits or symbols added, not a repeated or keyboard sequence';

/** Whole passwords of 10 or more characters that lead the public leak lists. */
const COMMON_PASSWORDS = new Set([
  '1234567890',
  '0123456789',
  '0987654321',
  '1q2w3e4r5t',
  '1q2w3e4r5t6y',
  '1qaz2wsx3edc',
  'qazwsxedcrfv',
  'zaq12wsxcde3',
  '1234qwerasdf',
  'qwerty123456',
  'qwertyuiop123',
  'a1b2c3d4e5',
  'abc1234567',
  'abcd123456',
  'q1w2e3r4t5',
  '123qweasdzxc',
  '1234554321',
  '1122334455',
  '123123123123',
  '11223344556677',
  'iloveyou123',
  'passwordpassword',
]);

/**
 * Words that, with digits or symbols added around them (`Password123!`, `Welcome2024`), make the
 * commonest passwords; also matched with the usual letter-for-digit swaps (`P@ssw0rd`).
 */
const COMMON_WORDS = new Set([
  'password',
  'passwort',
  'motdepasse',
  'contraseña',
  'qwerty',
  'qwertz',
  'azerty',
  'asdfgh',
  'iloveyou',
  'welcome',
  'letmein',
  'admin',
  'administrator',
  'root',
  'changeme',
  'default',
  'secret',
  'trustno',
  'football',
  'baseball',
  'monkey',
  'dragon',
  'sunshine',
  'princess',
  'superman',
  'batman',
  'master',
  'hello',
  'helloworld',
  'freedom',
  'whatever',
  'starwars',
  'shadow',
  'michael',
  'charlie',
  'computer',
  'internet',
  'pokemon',
  'liverpool',
  'chelsea',
  'arsenal',
  'login',
  'guest',
  'user',
  'test',
  'testing',
  'access',
  'security',
  'hospital',
  'nurse',
  'doctor',
  'fever',
  'canthus',
  'thermal',
  'camera',
  'summer',
  'winter',
  'spring',
  'autumn',
]);

const KEYBOARD_ROWS = ['1234567890', 'qwertyuiop', 'asdfghjkl', 'zxcvbnm', 'abcdefghijklmnopqrstuvwxyz'];

/** Undoes the usual swaps, so `P@ssw0rd` is seen as `password`. */
function unLeet(text: string): string {
  return text
    .replace(/[@4]/g, 'a')
    .replace(/0/g, 'o')
    .replace(/[1!|]/g, 'i')
    .replace(/3/g, 'e')
    .replace(/[5$]/g, 's')
    .replace(/7/g, 't');
}

/**
 * Why `password` is refused for `username`, or null when it is acceptable. The reason names the
 * rule broken, never the password.
 */
export function passwordProblem(password: string, username: string): string | null {
  const lower = password.normalize('NFC').toLowerCase();
  if (lower.includes(username.toLowerCase())) return 'must not contain the username';
  if (new Set(lower).size < 5) return 'uses fewer than 5 different characters';
  if (/^(.{1,}?)\1+$/su.test(lower)) return 'is a shorter sequence repeated';
  if (isRun(lower)) return 'is a run of consecutive characters';
  const compact = lower.replace(/\s+/g, '');
  for (const row of KEYBOARD_ROWS) {
    const reversed = [...row].reverse().join('');
    if (row.includes(compact) || reversed.includes(compact)) return 'is a keyboard or alphabet sequence';
  }
  if (COMMON_PASSWORDS.has(compact)) return 'is one of the commonest passwords';
  // Strip what people add around a word: digits, symbols and spaces at either end.
  const core = compact.replace(/^[^\p{L}]+|[^\p{L}]+$/gu, '');
  for (const candidate of [core, unLeet(core)]) {
    if (COMMON_WORDS.has(candidate) || COMMON_PASSWORDS.has(candidate))
      return 'is a common password or a common word with digits or symbols added';
  }
  return null;
}

/** Each character one code point above (or below) the previous: `abcdefghij`, `9876543210`. */
function isRun(text: string): boolean {
  const codes = [...text].map((c) => c.codePointAt(0) ?? 0);
  const step = codes[1] - codes[0];
  if (step !== 1 && step !== -1) return false;
  return codes.every((code, i) => i === 0 || code - codes[i - 1] === step);
}
