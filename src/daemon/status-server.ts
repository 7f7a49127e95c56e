/** The daemon's local status endpoint: an HTTP server on a Unix socket in the home (mode 0600). */
import { createServer, type Server } from 'node:http';
import { chmodSync, existsSync, unlinkSync } from 'node:fs';
import type { Daemon } from './daemon.js';
import { readStatus, socketPath } from './client.js';
import { ConfigError } from '../errors.js';

export class StatusServer {
  private server: Server | undefined;

  constructor(private home: string, private daemon: Daemon) {}

  async start(): Promise<void> {
    const path = socketPath(this.home);
    if (existsSync(path)) {
      if (await readStatus(this.home, 500)) throw new ConfigError(`a daemon is already running for ${this.home}: stop it with "notify daemon stop"`);
      unlinkSync(path);
    }
    this.server = createServer((req, res) => {
      if (req.method === 'GET' && req.url === '/status') {
        this.daemon.status().then((s) => {
          res.writeHead(200, { 'content-type': 'application/json' });
          res.end(JSON.stringify(s));
        }, (err: Error) => {
          res.writeHead(500, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ error: err.message }));
        });
      } else if (req.method === 'POST' && req.url === '/wake') {
        this.daemon.wake();
        res.writeHead(204).end();
      } else {
        res.writeHead(404).end();
      }
    });
    await new Promise<void>((resolve, reject) => {
      this.server!.once('error', reject);
      this.server!.listen(path, () => resolve());
    });
    chmodSync(path, 0o600);
  }

  async close(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    try {
      unlinkSync(socketPath(this.home));
    } catch {
      // Already gone.
    }
  }
}
