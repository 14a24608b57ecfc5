import { request as httpRequest } from 'node:http';

const CHUNK = Buffer.alloc(64 * 1024, 0x61);

export interface StreamedAnswer {
  status: number;
  body: string;
  /** Bytes of the body written before the answer came. */
  sent: number;
}

/**
 * POSTs up to `total` bytes in 64 KB chunks (a chunked body unless `contentLength` is given,
 * then only the headers go out), honouring backpressure, and stops sending as soon as the
 * server answers: a limit that reads the whole body first shows as `sent` reaching `total`.
 */
export function postStreamed(
  url: string,
  options: { total: number; contentLength?: number; headers?: Record<string, string> },
): Promise<StreamedAnswer> {
  return new Promise((resolve, reject) => {
    let sent = 0;
    let answered = false;
    const headers: Record<string, string> = {
      ...options.headers,
      ...(options.contentLength === undefined
        ? { 'transfer-encoding': 'chunked' }
        : { 'content-length': String(options.contentLength) }),
    };
    const req = httpRequest(url, { method: 'POST', headers });
    req.on('response', (res) => {
      answered = true;
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        body += chunk;
      });
      res.on('end', () => {
        req.destroy();
        resolve({ status: res.statusCode ?? 0, body, sent });
      });
    });
    // The server may close the socket once it has answered; only a failure before any answer counts.
    req.on('error', (error) => {
      if (!answered) reject(error);
    });
    if (options.contentLength !== undefined) {
      req.flushHeaders();
      return;
    }
    const pump = () => {
      while (!answered && sent < options.total) {
        sent += CHUNK.length;
        if (!req.write(CHUNK)) {
          req.once('drain', pump);
          return;
        }
      }
      if (!answered) req.end();
    };
    pump();
  });
}
