/** POST /v1/notifications over a keep-alive agent, for the API benchmarks. */
import { request, type Agent } from 'node:http';

export function postNotification(agent: Agent, url: URL, auth: string, body: string): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ agent, host: url.hostname, port: url.port, path: '/v1/notifications', method: 'POST',
      headers: { authorization: auth, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
    });
    req.on('error', reject);
    // Headers and body in one segment, without waiting on Nagle and delayed ACKs.
    req.setNoDelay(true);
    req.end(body);
  });
}
