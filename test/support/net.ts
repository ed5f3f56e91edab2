// For tests that start servers and processes: a free loopback port, and waiting for a condition.
import { type AddressInfo, createServer } from 'node:net';

/** A port nothing listens on now: one the system handed out and took back. */
export function freePort(): Promise<number> {
  return new Promise<number>((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** Polls `test` every 50 ms for up to `ms`, then fails naming `what` it waited for. */
export async function until(test: () => boolean, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (!test()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
