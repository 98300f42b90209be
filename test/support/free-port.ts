import { createServer } from 'node:net';

/** A TCP port on 127.0.0.1 that nobody listens on at the moment (for a server a test starts itself). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address !== null
          ? resolve(address.port)
          : reject(new Error('the listening socket has no port')),
      );
    });
  });
}
