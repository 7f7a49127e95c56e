import type { Server } from 'node:http';

/** close() for an HTTP(S) emulator: stops listening, drops keep-alive connections; safe to call again. */
export function closeOnce(server: Server): () => Promise<void> {
  let closed: Promise<void> | undefined;
  return () => {
    closed ??= new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
    return closed;
  };
}
