/** An HTTP/2 client helper shared by the tiers that test podkit's HTTP/2 drain. */
import type { ClientHttp2Session } from 'node:http2';

/** A GET on an HTTP/2 session: the body, or a rejection on a stream error or reset. */
export function h2Get(session: ClientHttp2Session, path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const stream = session.request({ ':path': path });
    let body = '';
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => (body += chunk));
    stream.on('end', () => (stream.rstCode ? reject(new Error(`stream reset ${stream.rstCode}`)) : resolve(body)));
    stream.on('error', reject);
  });
}
