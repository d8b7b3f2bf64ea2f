/**
 * `npm start` prints the admin URL as `…/admin#token=<token>`: the fragment
 * never reaches a server log. Returns the token, or null when there is none.
 */
export function tokenFromHash(hash: string): string | null {
  const params = new URLSearchParams(hash.startsWith('#') ? hash.slice(1) : hash)
  const token = params.get('token')?.trim()
  return token && /^[A-Za-z0-9_-]{1,256}$/.test(token) ? token : null
}
