import { parseArgs } from 'node:util';
import { serve } from '@hono/node-server';
import { createSandbox } from './app.js';

/** `node dist/sandbox/serve.js --port 4010 [--host 127.0.0.1] [--ttl 3599] [--rotate]` */
const { values } = parseArgs({
  options: {
    port: { type: 'string', default: '4010' },
    host: { type: 'string', default: '127.0.0.1' },
    ttl: { type: 'string' },
    rotate: { type: 'boolean', default: false },
  },
});

const { app } = createSandbox({
  accessTokenTtlSeconds: values.ttl ? Number(values.ttl) : undefined,
  rotateRefreshTokens: values.rotate,
});

serve({ fetch: app.fetch, port: Number(values.port), hostname: values.host }, (info) => {
  console.log(`Switchboard sandbox listening on http://${values.host}:${info.port}`);
});
