/** Calls to the console's API, relative to the page (so the console works under any mount path). */

/** An event as the API sends it (the server's type). */
export type { EventView } from '../../src/event-view.js';

/** An error the API answered with. */
export class ApiError extends Error {
  readonly code: string;
  readonly status: number;
  constructor(status: number, code: string, message: string) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

const TOKEN_KEY = 'annals-console-token';

/** The token actions send, kept for this tab only. */
export function getToken(): string {
  return sessionStorage.getItem(TOKEN_KEY) ?? '';
}

/** Sets (or, with '', clears) the token actions send. */
export function setToken(token: string): void {
  if (token === '') sessionStorage.removeItem(TOKEN_KEY);
  else sessionStorage.setItem(TOKEN_KEY, token);
}

/** `api/<path>` with the query parameters that are set. */
export function apiUrl(path: string, query: Record<string, string | number | undefined> = {}): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value !== undefined && value !== '') params.set(key, String(value));
  }
  const search = params.toString();
  return `api/${path}${search === '' ? '' : `?${search}`}`;
}

async function call<T>(method: 'GET' | 'POST', url: string): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' };
  const token = getToken();
  if (method === 'POST' && token !== '') headers.authorization = `Bearer ${token}`;
  const response = await fetch(url, { method, headers });
  const body = (await response.json().catch(() => undefined)) as
    | (T & { error?: { code: string; message: string } })
    | undefined;
  if (!response.ok) {
    throw new ApiError(
      response.status,
      body?.error?.code ?? 'ERROR',
      body?.error?.message ?? `${method} ${url} answered ${response.status}`,
    );
  }
  return body as T;
}

/** GET `api/<path>`. */
export function get<T>(path: string, query: Record<string, string | number | undefined> = {}): Promise<T> {
  return call<T>('GET', apiUrl(path, query));
}

/** POST `api/<path>`: an action, sent with the token. */
export function post<T>(path: string, query: Record<string, string | number | undefined> = {}): Promise<T> {
  return call<T>('POST', apiUrl(path, query));
}
