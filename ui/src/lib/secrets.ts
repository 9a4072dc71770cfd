// Project secret names: what the API accepts, and what to tell a person who typed something else.

/** The names the API accepts: capital letters, digits and _, not starting with a digit, ≤ 64. */
export const SECRET_NAME = /^[A-Z_][A-Z0-9_]{0,63}$/;

export const SECRET_NAME_HINT =
  "Capital letters, digits and _, not starting with a digit, at most 64 characters (for example STRIPE_KEY).";

/** Why `name` is not a valid secret name, in words a person can act on; null when it is valid. */
export function secretNameProblem(name: string): string | null {
  if (name === "") return "Give the secret a name.";
  if (SECRET_NAME.test(name)) return null;
  if (name.length > 64) return `At most 64 characters (this one has ${name.length}).`;
  if (/^[0-9]/.test(name)) return "A name cannot start with a digit.";
  if (/[a-z]/.test(name) && SECRET_NAME.test(name.toUpperCase())) return "Use capital letters only.";
  return "Use only capital letters A–Z, digits 0–9 and _.";
}

/** The valid name closest to what was typed (`api-token` → `API_TOKEN`), or null when there is none. */
export function suggestSecretName(name: string): string | null {
  let s = name
    .trim()
    .toUpperCase()
    .replace(/[^A-Z0-9_]+/g, "_");
  if (/^[0-9]/.test(s)) s = `_${s}`;
  s = s.slice(0, 64);
  return s !== name && SECRET_NAME.test(s) ? s : null;
}
