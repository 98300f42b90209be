import { InvalidArgument } from '@annals/core';

/** `basePath` as routes need it: `/` or `/a/b` (leading slash, no trailing one). */
export function normalizeBasePath(basePath: string | undefined): string {
  if (basePath === undefined || basePath === '' || basePath === '/') return '/';
  if (!/^\/?[A-Za-z0-9._~\-/]+$/.test(basePath) || basePath.includes('//')) {
    throw new InvalidArgument(
      `basePath expects a URL path such as /console, found ${JSON.stringify(basePath)}.`,
    );
  }
  const withSlash = basePath.startsWith('/') ? basePath : `/${basePath}`;
  return withSlash.endsWith('/') ? withSlash.slice(0, -1) : withSlash;
}
