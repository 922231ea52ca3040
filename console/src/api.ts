/** Calls to Scherp's public API with the signed-in key (HTTP Basic, the key as user name). */
export { identifierOf } from './identifiers';
const KEY = 'scherp.console.key';
const ROLE = 'scherp.console.role';

export type Role = 'admin' | 'read';

export interface Session {
  readonly key: string;
  readonly role: Role;
}

export function loadSession(): Session | undefined {
  const key = sessionStorage.getItem(KEY);
  const role = sessionStorage.getItem(ROLE);
  return key && (role === 'admin' || role === 'read') ? { key, role } : undefined;
}

export function saveSession(s: Session | undefined): void {
  if (!s) {
    sessionStorage.removeItem(KEY);
    sessionStorage.removeItem(ROLE);
    return;
  }
  sessionStorage.setItem(KEY, s.key);
  sessionStorage.setItem(ROLE, s.role);
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly body: unknown,
  ) {
    super(message);
  }
}

function authHeader(key: string): string {
  return `Basic ${btoa(`${key}:`)}`;
}

async function call(key: string, method: string, path: string, body?: unknown): Promise<Response> {
  const headers: Record<string, string> = { authorization: authHeader(key) };
  if (body !== undefined) headers['content-type'] = 'application/json';
  return fetch(path, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
    credentials: 'omit',
    cache: 'no-store',
  });
}

/** The JSON answer, or an ApiError carrying the API's message and field issues. */
export async function api<T = unknown>(session: Session, method: string, path: string, body?: unknown): Promise<T> {
  const res = await call(session.key, method, path, body);
  const text = await res.text();
  let parsed: unknown;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    parsed = text;
  }
  if (!res.ok) {
    const p = parsed as { message?: string; issues?: { path: string; message: string }[] } | undefined;
    const issues = p?.issues?.map((i) => `${i.path}: ${i.message}`).join('; ');
    throw new ApiError(res.status, `${res.status}: ${p?.message ?? res.statusText}${issues ? ` (${issues})` : ''}`, parsed);
  }
  return parsed as T;
}

/**
 * Which key this is: admin when an admin-only read (`GET /v1/sources`) answers; read when that
 * is refused but a profile read is allowed (404 for an identifier nobody has); else none.
 */
export async function roleOf(key: string): Promise<Role | undefined> {
  const admin = await call(key, 'GET', '/v1/sources');
  if (admin.ok) return 'admin';
  const read = await call(key, 'GET', '/v1/profiles/user_id:scherp-console-key-check');
  return read.status === 404 || read.ok ? 'read' : undefined;
}

export const profilePath = (id: string, rest = ''): string => `/v1/profiles/${encodeURIComponent(id)}${rest}`;
