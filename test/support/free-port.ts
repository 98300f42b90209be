import { createServer } from 'node:net';

/**
 * Ports below Linux's default ephemeral range (32768-60999): the kernel never gives one of them to an
 * outgoing connection, so a server a test kills can start again on its port (an outgoing connection
 * that took the port while the server was down would keep it from listening).
 */
const FIRST = 20_000;
const LAST = 32_767;

/** Whether nobody listens on `port` of 127.0.0.1 right now. */
function isFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/**
 * A TCP port on 127.0.0.1 that nobody listens on at the moment, outside the ephemeral range (for a
 * server a test starts itself, and may kill and start again on the same port).
 */
export async function freePort(): Promise<number> {
  for (let attempt = 0; attempt < 1_000; attempt++) {
    const port = FIRST + Math.floor(Math.random() * (LAST - FIRST + 1));
    if (await isFree(port)) return port;
  }
  throw new Error(`no free port between ${FIRST} and ${LAST} after 1,000 tries`);
}
