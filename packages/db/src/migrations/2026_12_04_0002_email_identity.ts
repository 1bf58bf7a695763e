import { type Kysely, sql } from 'kysely';

// Frozen once it has run: change the schema in a new migration.

// One identity per email address (issue 12). From this release the gateway keeps, looks up and
// hashes an address only in its normal form: NFC, lower-cased as a whole (the local part too),
// the domain in ASCII. This moves `users.email` to that form.
//
// - Where two or more accounts would end on one address, every one of them keeps its old form and
//   the migration picks no winner: which account is the person's is an operator's call. The old
//   form is the record: `pnpm accounts:conflicts` finds such accounts by it (so also the ones an
//   old gateway replica still writes during a rolling upgrade, which a table filled here would
//   miss), and `pnpm db:migrate` prints how many there are. All other rows are converted.
// - No IDN conversion: the old rules refused a non-ASCII domain and lower-cased the domain, so a
//   stored domain is ASCII and lower-case already, and IDNA leaves it as it is.
// - An ASCII address is lower-cased in SQL, under the "C" collation so that exactly A-Z change,
//   on any server. An address with a non-ASCII character (a Unicode local part, which the old rules
//   allowed) is converted in code below: SQL's lower() follows the server's collation (libc or ICU,
//   per database) and is not JavaScript's toLowerCase() (a final sigma, for one), and normalize()
//   needs a UTF8 database. Those rows are few. The steps are copied from normalizeEmail as it is
//   now, not imported: a migration must not change when the app does.
// - Not converted: recipient windows and the sign-in throttle are keyed by an HMAC of the address
//   under the gateway's key, which the database does not have. Those made under an old form stop
//   counting and expire with their window: for such an address the counts start again once.

/** normalizeEmail's case and Unicode steps, for a stored address (its domain is ASCII already). */
function normalForm(email: string): string {
  const at = email.lastIndexOf('@');
  const local = email.slice(0, at).normalize('NFC').toLowerCase().normalize('NFC');
  return `${local}@${email.slice(at + 1).toLowerCase()}`;
}

// biome-ignore lint/suspicious/noExplicitAny: a migration is frozen in time and must not depend on today's types
export async function up(db: Kysely<any>): Promise<void> {
  const unicode = await sql<{ id: string; email: string }>`
    SELECT id, email FROM users WHERE email IS NOT NULL AND octet_length(email) <> char_length(email)
  `.execute(db);
  const changed = unicode.rows
    .map((row) => ({ id: row.id, email: row.email, form: normalForm(row.email) }))
    .filter((row) => row.form !== row.email);

  // `changed`: every row whose form changes. A row is converted only when no other row would end
  // on its form: neither another changing row nor one that holds the form already (a row in the
  // normal form never changes, so a form held already is held by a row that stays).
  await sql`
    WITH changed AS (
      SELECT id, lower(email COLLATE "C") COLLATE "default" AS form FROM users
      WHERE email IS NOT NULL
        AND octet_length(email) = char_length(email)
        AND email COLLATE "C" <> lower(email COLLATE "C")
      UNION ALL
      SELECT id, form FROM unnest(${changed.map((row) => row.id)}::uuid[], ${changed.map((row) => row.form)}::text[])
        AS t(id, form)
    ), alone AS (
      SELECT c.id, c.form FROM changed c
      WHERE NOT EXISTS (SELECT 1 FROM changed other WHERE other.form = c.form AND other.id <> c.id)
        AND NOT EXISTS (SELECT 1 FROM users holder WHERE holder.email = c.form)
    )
    UPDATE users SET email = alone.form, updated_at = now() FROM alone WHERE users.id = alone.id
  `.execute(db);
}

// Nothing to undo: the old forms of converted rows are gone, and a normal form is a valid address
// under the old rules too (an `xn--` domain is ASCII), so the previous release works with them.
// biome-ignore lint/suspicious/noExplicitAny: as above
export async function down(_db: Kysely<any>): Promise<void> {}
