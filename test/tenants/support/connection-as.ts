/** The test server's connection string (DATABASE_URL) as `role`, without a password (trust). */
export function connectionAs(role: string): string {
  const databaseUrl = process.env.DATABASE_URL;
  if (databaseUrl === undefined) throw new Error('DATABASE_URL is not set');
  const url = new URL(databaseUrl);
  url.username = role;
  url.password = '';
  return url.toString();
}
