import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { getRequestListener, serve } from '@hono/node-server';
import type { AnnalsConsole } from './create-console.js';

/**
 * The console as a Node `(req, res)` listener, to mount in an `http.createServer` of your own (give
 * `createConsole` the `basePath` you route to it).
 *
 * @example
 * ```ts
 * const listener = consoleListener(console); // created with basePath: '/console'
 * http.createServer((req, res) => (req.url?.startsWith('/console') ? listener(req, res) : app(req, res)));
 * ```
 */
export function consoleListener(console: AnnalsConsole): (req: IncomingMessage, res: ServerResponse) => void {
  const listener = getRequestListener((request) => console.fetch(request));
  return (req, res) => void listener(req, res);
}

/** Where {@link serveConsole} listens. */
export interface ServeConsoleOptions {
  /** Default 4300; 0 picks a free port. */
  readonly port?: number;
  /** Default `127.0.0.1` (this machine only). */
  readonly hostname?: string;
}

/** A console listening on a port. */
export interface ServedConsole {
  /** `http://host:port/` plus the base path. */
  readonly url: string;
  readonly server: Server;
  /** Closes the server (and its open connections, the live feeds included) and the console. */
  close(): Promise<void>;
}

/** Serves `console` on its own HTTP server; resolves once it listens. */
export async function serveConsole(
  console: AnnalsConsole,
  options: ServeConsoleOptions = {},
): Promise<ServedConsole> {
  const hostname = options.hostname ?? '127.0.0.1';
  const server = await new Promise<Server>((resolve, reject) => {
    const created = serve(
      { fetch: (request) => console.fetch(request), port: options.port ?? 4300, hostname },
      () => resolve(created as Server),
    ) as Server;
    created.once('error', reject);
  });
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  const base = console.basePath === '/' ? '/' : `${console.basePath}/`;
  return {
    url: `http://${host}:${address.port}${base}`,
    server,
    async close() {
      await console.close();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}
