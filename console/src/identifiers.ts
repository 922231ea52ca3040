/** `type:value` for what was typed: as is when it names a type, else guessed (email, phone, user id). */
export function identifierOf(input: string): string {
  const v = input.trim();
  if (/^[a-z][a-z0-9_]*:./.test(v)) return v;
  if (v.includes('@')) return `email:${v}`;
  if (/^(\+|0)[0-9 ().-]{6,}$/.test(v)) return `phone:${v}`;
  return `user_id:${v}`;
}
