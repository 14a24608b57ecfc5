import { execFileSync } from 'node:child_process';
import { once } from 'node:events';
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { type AddressInfo, getDefaultAutoSelectFamily, type Socket, setDefaultAutoSelectFamily } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type * as Addresses from '../../src/mcp-auth/addresses.js';
import type * as Fetcher from '../../src/mcp-auth/document-fetcher.js';

/**
 * What a client-chosen URL may reach (SSRF): the address ranges the guard refuses, each from its
 * first to its last address with the neighbours outside, and SafeDocumentFetcher against real
 * servers on this machine (http with `allowLoopback`, https with a self-signed certificate).
 * There is no public DNS here, so names reach the fetcher's own lookup only as `localhost` and
 * `.invalid` names (RFC 6761: never resolved).
 */

// Loaded by each suite's beforeAll, not imported at the top: addresses.ts builds its ranges when
// loaded, and a module that throws then must fail these tests, not stop the file from loading
// (which a mutation run counts as no test failing).
let isPublicAddress: typeof Addresses.isPublicAddress;
let isLoopbackIp: typeof Addresses.isLoopbackIp;
let isLoopbackHost: typeof Addresses.isLoopbackHost;
let DocumentFetchError: typeof Fetcher.DocumentFetchError;
let SafeDocumentFetcher: typeof Fetcher.SafeDocumentFetcher;

async function loadModules(): Promise<void> {
  ({ isPublicAddress, isLoopbackIp, isLoopbackHost } = await import('../../src/mcp-auth/addresses.js'));
  ({ DocumentFetchError, SafeDocumentFetcher } = await import('../../src/mcp-auth/document-fetcher.js'));
}

/** Each range: its first and last address (refused) and the addresses just outside (public). */
const IPV4_RANGES: { range: string; inside: string[]; outside: string[] }[] = [
  { range: '0.0.0.0/8 (this network)', inside: ['0.0.0.0', '0.255.255.255'], outside: ['1.0.0.0'] },
  { range: '10.0.0.0/8 (private)', inside: ['10.0.0.0', '10.255.255.255'], outside: ['9.255.255.255', '11.0.0.0'] },
  {
    range: '100.64.0.0/10 (shared, CGNAT)',
    inside: ['100.64.0.0', '100.127.255.255'],
    outside: ['100.63.255.255', '100.128.0.0'],
  },
  {
    range: '127.0.0.0/8 (loopback)',
    inside: ['127.0.0.0', '127.255.255.255'],
    outside: ['126.255.255.255', '128.0.0.0'],
  },
  {
    range: '169.254.0.0/16 (link-local, cloud metadata)',
    inside: ['169.254.0.0', '169.254.255.255'],
    outside: ['169.253.255.255', '169.255.0.0'],
  },
  {
    range: '172.16.0.0/12 (private)',
    inside: ['172.16.0.0', '172.31.255.255'],
    outside: ['172.15.255.255', '172.32.0.0'],
  },
  {
    range: '192.0.0.0/24 (IETF protocol assignments)',
    inside: ['192.0.0.0', '192.0.0.255'],
    outside: ['191.255.255.255', '192.0.1.0'],
  },
  {
    range: '192.0.2.0/24 (documentation)',
    inside: ['192.0.2.0', '192.0.2.255'],
    outside: ['192.0.1.255', '192.0.3.0'],
  },
  {
    range: '192.88.99.0/24 (6to4 relay anycast)',
    inside: ['192.88.99.0', '192.88.99.255'],
    outside: ['192.88.98.255', '192.88.100.0'],
  },
  {
    range: '192.168.0.0/16 (private)',
    inside: ['192.168.0.0', '192.168.255.255'],
    outside: ['192.167.255.255', '192.169.0.0'],
  },
  {
    range: '198.18.0.0/15 (benchmarking)',
    inside: ['198.18.0.0', '198.19.255.255'],
    outside: ['198.17.255.255', '198.20.0.0'],
  },
  {
    range: '198.51.100.0/24 (documentation)',
    inside: ['198.51.100.0', '198.51.100.255'],
    outside: ['198.51.99.255', '198.51.101.0'],
  },
  {
    range: '203.0.113.0/24 (documentation)',
    inside: ['203.0.113.0', '203.0.113.255'],
    outside: ['203.0.112.255', '203.0.114.0'],
  },
  { range: '224.0.0.0/4 (multicast)', inside: ['224.0.0.0', '239.255.255.255'], outside: ['223.255.255.255'] },
  { range: '240.0.0.0/4 (reserved, broadcast)', inside: ['240.0.0.0', '255.255.255.255'], outside: [] },
];

/**
 * IPv6 ranges. Only 2000::/3 is global unicast, so a neighbour outside is pinned only where it
 * falls in 2000::/3; the others sit in IETF-reserved space that no network routes.
 */
const IPV6_RANGES: { range: string; inside: string[]; outside: string[] }[] = [
  { range: '::/128 (unspecified)', inside: ['::'], outside: [] },
  { range: '::1/128 (loopback)', inside: ['::1'], outside: [] },
  { range: '64:ff9b::/96 (NAT64)', inside: ['64:ff9b::', '64:ff9b::ffff:ffff'], outside: [] },
  { range: '64:ff9b:1::/48 (local NAT64)', inside: ['64:ff9b:1::', '64:ff9b:1:ffff:ffff:ffff:ffff:ffff'], outside: [] },
  { range: '100::/64 (discard)', inside: ['100::', '100::ffff:ffff:ffff:ffff'], outside: [] },
  {
    range: '2001::/23 (IETF protocol assignments, Teredo)',
    inside: ['2001::', '2001:1ff:ffff:ffff:ffff:ffff:ffff:ffff'],
    outside: ['2000:ffff:ffff:ffff:ffff:ffff:ffff:ffff', '2001:200::'],
  },
  {
    range: '2001:db8::/32 (documentation)',
    inside: ['2001:db8::', '2001:db8:ffff:ffff:ffff:ffff:ffff:ffff'],
    outside: ['2001:db7:ffff:ffff:ffff:ffff:ffff:ffff', '2001:db9::'],
  },
  {
    range: '2002::/16 (6to4)',
    inside: ['2002::', '2002:ffff:ffff:ffff:ffff:ffff:ffff:ffff'],
    outside: ['2001:ffff:ffff:ffff:ffff:ffff:ffff:ffff', '2003::'],
  },
  { range: 'fc00::/7 (unique local)', inside: ['fc00::', 'fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff'], outside: [] },
  { range: 'fe80::/10 (link-local)', inside: ['fe80::', 'febf:ffff:ffff:ffff:ffff:ffff:ffff:ffff'], outside: [] },
  {
    range: 'fec0::/10 (site-local, deprecated but still routed where configured)',
    inside: ['fec0::', 'fec0:0:0:ffff::1', 'feff:ffff:ffff:ffff:ffff:ffff:ffff:ffff'],
    outside: [],
  },
  { range: 'ff00::/8 (multicast)', inside: ['ff00::', 'ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff'], outside: [] },
  {
    range: '3fff::/20 (documentation, RFC 9637)',
    inside: ['3fff::', '3fff:fff:ffff:ffff:ffff:ffff:ffff:ffff'],
    outside: ['3ffe:ffff:ffff:ffff:ffff:ffff:ffff:ffff', '3fff:1000::'],
  },
  // Outside 2000::/3 nothing is global unicast, listed or not: the IPv4-compatible (::a.b.c.d)
  // and -translated (::ffff:0:a.b.c.d) forms, the reserved ::/8 and fe00::/9, and 4000::/2.
  {
    range: 'everything outside 2000::/3',
    inside: [
      '::7f00:1',
      '::ffff:0:7f00:1',
      '::2',
      '1fff:ffff:ffff:ffff:ffff:ffff:ffff:ffff',
      'fe00::1',
      '4000::',
      'c000::1',
    ],
    outside: ['2000::', '3fff:ffff:ffff:ffff:ffff:ffff:ffff:ffff'],
  },
];

describe('which addresses a fetch of a client document may reach', () => {
  beforeAll(loadModules);

  it('refuses every IPv4 special-purpose range from its first address to its last, and takes the addresses just outside', () => {
    for (const { range, inside, outside } of IPV4_RANGES) {
      for (const address of inside) expect(isPublicAddress(address), `${address} in ${range}`).toBe(false);
      for (const address of outside) expect(isPublicAddress(address), `${address} next to ${range}`).toBe(true);
    }
    for (const address of ['1.1.1.1', '8.8.8.8', '223.255.255.254'])
      expect(isPublicAddress(address), address).toBe(true);
  });

  it('refuses every IPv6 special-purpose range from its first address to its last, and takes global addresses next to them', () => {
    for (const { range, inside, outside } of IPV6_RANGES) {
      for (const address of inside) expect(isPublicAddress(address), `${address} in ${range}`).toBe(false);
      for (const address of outside) expect(isPublicAddress(address), `${address} next to ${range}`).toBe(true);
    }
    for (const address of ['2606:4700:4700::1111', '2a00:1450::1', '2000::']) {
      expect(isPublicAddress(address), address).toBe(true);
    }
  });

  it('judges an IPv4-mapped IPv6 address, dotted or in hex, as the IPv4 address it carries', () => {
    for (const address of [
      '::ffff:10.0.0.1',
      '::ffff:a00:1',
      '::FFFF:192.168.1.1',
      '0:0:0:0:0:ffff:a9fe:a9fe',
      '[::ffff:127.0.0.1]',
      '::ffff:100.64.0.1',
    ]) {
      expect(isPublicAddress(address), address).toBe(false);
    }
    for (const address of ['::ffff:8.8.8.8', '::ffff:808:808', '[::ffff:1.1.1.1]']) {
      expect(isPublicAddress(address), address).toBe(true);
    }
    // Only the whole address is read so: a global one that ends like a mapped loopback is global,
    // and one that starts like it but goes on is no loopback.
    expect(isPublicAddress('2600::ffff:7f00:1')).toBe(true);
    expect(isLoopbackIp('::ffff:7f00:1:5')).toBe(false);
    expect(isLoopbackIp('::ffff:7f00:1')).toBe(true);
  });

  it('reads an address in brackets or in capitals as the same address, and anything not an address as not public', () => {
    expect(isPublicAddress('[2606:4700:4700::1111]')).toBe(true);
    expect(isPublicAddress('2606:4700:4700::1111'.toUpperCase())).toBe(true);
    expect(isPublicAddress('[fe80::1]')).toBe(false);
    expect(isPublicAddress('FE80::1')).toBe(false);
    // A mapped form whose tail is no IPv4 address (too many digits or parts) is no address at all.
    for (const value of [
      '',
      'localhost',
      'example.com',
      '8.8.8',
      '8.8.8.256',
      '::ffff:8.8.8.8.8',
      '::ffff:8888.8.8.8',
      '::ffff:8.8.8.8888',
      // Only brackets around the whole address are taken off.
      '8.8.[8.8',
      '8.8].8.8',
    ]) {
      expect(isPublicAddress(value), value).toBe(false);
    }
  });

  it('counts all of 127.0.0.0/8 and ::1 as loopback, in brackets, capitals and mapped, and nothing next to them', () => {
    for (const address of [
      '127.0.0.1',
      '127.0.0.0',
      '127.255.255.255',
      '::1',
      '[::1]',
      '[127.0.0.1]',
      '::ffff:127.0.0.1',
      '::FFFF:127.1.2.3',
      '::ffff:127.10.200.30',
    ]) {
      expect(isLoopbackIp(address), address).toBe(true);
    }
    for (const address of [
      '126.255.255.255',
      '128.0.0.0',
      '1.127.0.0',
      '0.0.0.0',
      '::',
      '::2',
      '::ffff:10.0.0.1',
      // Not a mapped address: only a whole `::ffff:a.b.c.d` is read as the IPv4 address it ends with.
      '1::ffff:127.0.0.1',
      '::ffff:127.0.0.1.5',
      'localhost',
      '',
    ]) {
      expect(isLoopbackIp(address), address).toBe(false);
    }
  });

  it('counts localhost in any case as a loopback host besides the loopback addresses, and no other name', () => {
    for (const host of ['localhost', 'LocalHost', '127.0.0.1', '[::1]']) expect(isLoopbackHost(host), host).toBe(true);
    for (const host of ['localhost.example', 'mylocalhost', 'example.com', '10.0.0.1', '']) {
      expect(isLoopbackHost(host), host).toBe(false);
    }
  });
});

/** One request the test server saw. */
interface Seen {
  path: string;
  method: string;
  accept: string | undefined;
  userAgent: string | undefined;
  socket: Socket;
}

const MAX_BYTES = 64;
const TIMEOUT_MS = 300;

/** A JSON document of exactly `bytes` bytes. */
function documentOf(bytes: number): string {
  const text = `{"pad":"${'x'.repeat(bytes - 10)}"}`;
  expect(Buffer.byteLength(text)).toBe(bytes);
  return text;
}

/** The test server's answers, by path; each is about one rule of the fetcher. */
function answer(request: IncomingMessage, response: ServerResponse): void {
  switch (request.url) {
    case '/client.json':
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ client_id: 'agent', redirect_uris: ['http://[::1]/'] }));
      return;
    case '/exactly-max.json':
      response.writeHead(200, { 'content-length': String(MAX_BYTES) });
      response.end(documentOf(MAX_BYTES));
      return;
    case '/exactly-max-chunked.json': {
      const text = documentOf(MAX_BYTES);
      response.writeHead(200);
      response.write(text.slice(0, 20));
      setTimeout(() => response.end(text.slice(20)), 20);
      return;
    }
    case '/declared-too-large.json':
      // Says one byte too many and sends nothing: only the declared length can refuse it in time.
      response.writeHead(200, { 'content-length': String(MAX_BYTES + 1) });
      response.flushHeaders();
      return;
    case '/streamed-too-large.json':
      // No length declared; one byte too many arrives and the body never ends.
      response.writeHead(200);
      response.write(documentOf(MAX_BYTES + 1));
      return;
    case '/silent.json':
      return;
    case '/trickle.json':
      // Headers at once, the body after the fetcher's whole-exchange limit.
      response.writeHead(200);
      response.write('{"late":');
      setTimeout(() => response.end('true}'), TIMEOUT_MS * 2);
      return;
    case '/redirect.json':
      response.writeHead(302, { location: '/client.json' });
      response.end();
      return;
    case '/created.json':
      response.writeHead(201, { 'content-type': 'application/json' });
      response.end('{"client_id":"metadata-agent"}');
      return;
    case '/not-json.json':
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end('<html>not json</html>');
      return;
    case '/empty.json':
      response.writeHead(200);
      response.end();
      return;
    case '/cut-off.json':
      response.writeHead(200, { 'content-length': '50' });
      response.write('{"partial":');
      setTimeout(() => request.socket.destroy(), 20);
      return;
    case '/utf8.json': {
      // "ü" is two bytes; they arrive in two chunks, so only the whole body decodes.
      const bytes = Buffer.from('{"city":"Zürich"}', 'utf8');
      const middle = bytes.indexOf(0xc3) + 1;
      response.writeHead(200);
      response.write(bytes.subarray(0, middle));
      setTimeout(() => response.end(bytes.subarray(middle)), 20);
      return;
    }
    default:
      response.writeHead(404);
      response.end('not found');
  }
}

/** Whether the socket closes within `ms` (the fetcher let go of the connection). */
async function closesWithin(socket: Socket, ms: number): Promise<boolean> {
  if (socket.destroyed) return true;
  let timer: NodeJS.Timeout | undefined;
  const closed = await Promise.race([
    once(socket, 'close').then(() => true),
    new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), ms);
    }),
  ]);
  clearTimeout(timer);
  return closed;
}

/** The fetcher's refusal: a DocumentFetchError with exactly this message (or one matching it). */
async function refusal(pending: Promise<unknown>, message: string | RegExp): Promise<void> {
  const error = await pending.then(
    (value) => new Error(`expected a refusal, got ${JSON.stringify(value)}`),
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(DocumentFetchError);
  expect((error as Error).name).toBe('DocumentFetchError');
  if (typeof message === 'string') expect((error as Error).message).toBe(message);
  else expect((error as Error).message).toMatch(message);
}

function listen(server: Server, host: string): Promise<number> {
  return new Promise((resolve) => server.listen(0, host, () => resolve((server.address() as AddressInfo).port)));
}

function close(server: Server): Promise<void> {
  server.closeAllConnections();
  return new Promise((resolve) => server.close(() => resolve()));
}

function fetcher(allowLoopback: boolean, overrides: { timeoutMs?: number; maxBytes?: number } = {}) {
  return new SafeDocumentFetcher({ timeoutMs: TIMEOUT_MS, maxBytes: MAX_BYTES, allowLoopback, ...overrides });
}

describe('SafeDocumentFetcher against servers on this machine', () => {
  const seen: Seen[] = [];
  let connections = 0;
  let http: Server;
  let httpOnV6: Server;
  let https: Server;
  let tlsConnections = 0;
  let port: number;
  let v6Port: number;
  let httpsPort: number;

  beforeAll(async () => {
    await loadModules();
    const record = (request: IncomingMessage, response: ServerResponse) => {
      seen.push({
        path: request.url ?? '',
        method: request.method ?? '',
        accept: request.headers.accept,
        userAgent: request.headers['user-agent'],
        socket: request.socket,
      });
      answer(request, response);
    };
    http = createHttpServer(record);
    http.on('connection', () => {
      connections += 1;
    });
    port = await listen(http, '127.0.0.1');
    httpOnV6 = createHttpServer(record);
    v6Port = await listen(httpOnV6, '::1');
    // A certificate no authority signed, made for this run (Node cannot make one itself).
    const pem = execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:prime256v1',
        '-nodes',
        '-keyout',
        '-',
        '-out',
        '-',
        '-subj',
        '/CN=localhost',
        '-days',
        '1',
        '-addext',
        'subjectAltName=DNS:localhost,IP:127.0.0.1',
      ],
      { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] },
    );
    https = createHttpsServer({ key: pem, cert: pem }, record);
    https.on('connection', () => {
      tlsConnections += 1;
    });
    https.on('tlsClientError', () => {
      // The fetcher refused our certificate, as it should.
    });
    httpsPort = await listen(https, '127.0.0.1');
  });

  afterAll(async () => {
    await Promise.all([close(http), close(httpOnV6), close(https)]);
  });

  const hits = (path: string) => seen.filter((request) => request.path === path).length;

  it('reads a document over loopback http in test mode, as a GET that asks for JSON and names Switchboard', async () => {
    const before = seen.length;
    expect(await fetcher(true).fetchJson(`http://127.0.0.1:${port}/client.json`)).toEqual({
      client_id: 'agent',
      redirect_uris: ['http://[::1]/'],
    });
    expect(seen.slice(before)).toEqual([
      expect.objectContaining({
        path: '/client.json',
        method: 'GET',
        accept: 'application/json',
        userAgent: 'Switchboard (client metadata fetch)',
      }),
    ]);
    expect(await fetcher(true).fetchJson(`http://[::1]:${v6Port}/client.json`)).toMatchObject({
      client_id: 'agent',
    });
    // A name goes through the fetcher's own lookup, which lets loopback through in test mode.
    expect(await fetcher(true).fetchJson(`http://localhost:${port}/client.json`)).toMatchObject({
      client_id: 'agent',
    });
    expect(await fetcher(true).fetchJson(`http://LOCALHOST:${port}/client.json`)).toMatchObject({
      client_id: 'agent',
    });
  });

  it('connects to the address it checked also when Node asks the lookup for one address, not all', async () => {
    const before = getDefaultAutoSelectFamily();
    setDefaultAutoSelectFamily(false);
    try {
      expect(await fetcher(true).fetchJson(`http://localhost:${port}/client.json`)).toMatchObject({
        client_id: 'agent',
      });
      const connected = connections;
      await refusal(
        fetcher(false).fetchJson(`https://localhost:${port}/client.json`),
        /^localhost resolves to (127\.0\.0\.1|::1), which is not a public address$/,
      );
      expect(connections).toBe(connected);
    } finally {
      setDefaultAutoSelectFamily(before);
    }
  });

  it('refuses anything but https outside test mode, and in test mode anything but http on a loopback host', async () => {
    const connected = connections;
    await refusal(fetcher(false).fetchJson(`http://127.0.0.1:${port}/client.json`), 'only https URLs');
    await refusal(fetcher(false).fetchJson(`http://localhost:${port}/client.json`), 'only https URLs');
    await refusal(fetcher(false).fetchJson('http://example.com/client.json'), 'only https URLs');
    await refusal(fetcher(true).fetchJson('http://10.0.0.1/client.json'), 'only https URLs');
    await refusal(fetcher(true).fetchJson('http://docs.invalid/client.json'), 'only https URLs');
    await refusal(fetcher(true).fetchJson(`ftp://127.0.0.1:${port}/client.json`), 'only https URLs');
    await refusal(fetcher(true).fetchJson(`file:///etc/passwd`), 'only https URLs');
    await refusal(fetcher(false).fetchJson('not a url'), 'not a URL');
    // A zone id is not part of a URL (and would pick the interface a link-local address is on).
    await refusal(fetcher(false).fetchJson('https://[fe80::1%25eth0]/client.json'), 'not a URL');
    expect(connections).toBe(connected);
  });

  it('refuses credentials in the URL, a user name or a password alone', async () => {
    await refusal(fetcher(true).fetchJson(`http://agent@127.0.0.1:${port}/client.json`), 'no credentials in the URL');
    await refusal(fetcher(true).fetchJson(`http://:secret@127.0.0.1:${port}/client.json`), 'no credentials in the URL');
    await refusal(
      fetcher(false).fetchJson('https://agent:secret@example.com/client.json'),
      'no credentials in the URL',
    );
    expect(hits('/client.json')).toBeGreaterThan(0);
  });

  it('refuses an address literal that is not public before connecting, in any of its written forms', async () => {
    const connected = tlsConnections;
    const refused: [string, string][] = [
      [`https://127.0.0.1:${httpsPort}/client.json`, '127.0.0.1 is not a public address'],
      [`https://[::1]:${httpsPort}/client.json`, '::1 is not a public address'],
      // The URL parser writes these forms out as 127.0.0.1.
      [`https://2130706433:${httpsPort}/client.json`, '127.0.0.1 is not a public address'],
      [`https://0x7f.1:${httpsPort}/client.json`, '127.0.0.1 is not a public address'],
      ['https://10.0.0.7/client.json', '10.0.0.7 is not a public address'],
      ['https://169.254.169.254/latest/meta-data', '169.254.169.254 is not a public address'],
      ['https://[::ffff:192.168.1.1]/client.json', '::ffff:c0a8:101 is not a public address'],
      ['https://[fd00::1]/client.json', 'fd00::1 is not a public address'],
      ['https://[fe80::1]/client.json', 'fe80::1 is not a public address'],
      ['https://0.0.0.0/client.json', '0.0.0.0 is not a public address'],
      ['https://[::]/client.json', ':: is not a public address'],
    ];
    for (const [url, message] of refused) await refusal(fetcher(false).fetchJson(url), message);
    // Test mode lets loopback through, never a private network.
    await refusal(fetcher(true).fetchJson('https://10.0.0.7/client.json'), '10.0.0.7 is not a public address');
    await refusal(fetcher(true).fetchJson('https://[fd00::1]/client.json'), 'fd00::1 is not a public address');
    expect(tlsConnections).toBe(connected);
  });

  it('resolves a name itself and refuses it, without connecting, when it resolves to an address that is not public', async () => {
    const connected = tlsConnections;
    await refusal(
      fetcher(false).fetchJson(`https://localhost:${httpsPort}/client.json`),
      /^localhost resolves to (127\.0\.0\.1|::1), which is not a public address$/,
    );
    expect(tlsConnections).toBe(connected);
  });

  it('looks up a name that begins or ends like an address rather than judging it as one', async () => {
    // `.invalid` never resolves (RFC 6761), so the failure is the lookup's: the name was not taken
    // for an address. The lookup has seconds here, as a resolver may take its time to say so.
    const patient = fetcher(false, { timeoutMs: 5_000 });
    await refusal(patient.fetchJson('https://1.invalid/client.json'), /^fetching the document failed: getaddrinfo /);
    await refusal(
      patient.fetchJson('https://docs.invalid./client.json'),
      /^fetching the document failed: getaddrinfo /,
    );
  });

  it('lets a public address literal through to the connection', async () => {
    // Nothing answers within 1 ms from outside this machine; what matters is that the guard let it through.
    for (const host of ['8.8.8.8', '[2606:4700:4700::1111]']) {
      await refusal(
        fetcher(false, { timeoutMs: 1 }).fetchJson(`https://${host}:9/client.json`),
        /^(the document did not arrive within 1 ms|fetching the document failed: .+)$/,
      );
    }
  });

  it('speaks TLS to an https URL and checks the certificate: a self-signed one is refused', async () => {
    const connected = tlsConnections;
    const before = seen.length;
    await refusal(
      fetcher(true).fetchJson(`https://localhost:${httpsPort}/client.json`),
      /^fetching the document failed: self[- ]signed certificate$/,
    );
    await refusal(
      fetcher(true).fetchJson(`https://127.0.0.1:${httpsPort}/client.json`),
      /^fetching the document failed: self[- ]signed certificate$/,
    );
    expect(tlsConnections).toBe(connected + 2);
    expect(seen.length).toBe(before);
  });

  it('says why a connection failed', async () => {
    const closed = createHttpServer();
    const gone = await listen(closed, '127.0.0.1');
    await close(closed);
    await refusal(
      fetcher(true).fetchJson(`http://127.0.0.1:${gone}/client.json`),
      `fetching the document failed: connect ECONNREFUSED 127.0.0.1:${gone}`,
    );
  });

  it('does not follow a redirect, and takes no status but 200', async () => {
    const targetHits = hits('/client.json');
    await refusal(fetcher(true).fetchJson(`http://127.0.0.1:${port}/redirect.json`), 'the document answered HTTP 302');
    expect(hits('/client.json')).toBe(targetHits);
    await refusal(fetcher(true).fetchJson(`http://127.0.0.1:${port}/missing.json`), 'the document answered HTTP 404');
    await refusal(fetcher(true).fetchJson(`http://127.0.0.1:${port}/created.json`), 'the document answered HTTP 201');
  });

  it('takes a document of exactly maxBytes, declared or streamed', async () => {
    const document = { pad: 'x'.repeat(MAX_BYTES - 10) };
    expect(await fetcher(true).fetchJson(`http://127.0.0.1:${port}/exactly-max.json`)).toEqual(document);
    expect(await fetcher(true).fetchJson(`http://127.0.0.1:${port}/exactly-max-chunked.json`)).toEqual(document);
  });

  it('refuses a document one byte over maxBytes as soon as its length is declared, and lets go of the connection', async () => {
    const started = Date.now();
    await refusal(
      fetcher(true, { timeoutMs: 5_000 }).fetchJson(`http://127.0.0.1:${port}/declared-too-large.json`),
      `the document is larger than ${MAX_BYTES} bytes`,
    );
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(await closesWithin(seen.at(-1)?.socket as Socket, 1_000)).toBe(true);
  });

  it('stops reading a document that grows past maxBytes without a declared length, and lets go of the connection', async () => {
    const started = Date.now();
    await refusal(
      fetcher(true, { timeoutMs: 5_000 }).fetchJson(`http://127.0.0.1:${port}/streamed-too-large.json`),
      `the document is larger than ${MAX_BYTES} bytes`,
    );
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(await closesWithin(seen.at(-1)?.socket as Socket, 1_000)).toBe(true);
  });

  it('gives up on a server that never answers after timeoutMs, and lets go of the connection', async () => {
    const started = Date.now();
    await refusal(
      fetcher(true).fetchJson(`http://127.0.0.1:${port}/silent.json`),
      `the document did not arrive within ${TIMEOUT_MS} ms`,
    );
    expect(Date.now() - started).toBeGreaterThanOrEqual(TIMEOUT_MS - 5);
    expect(await closesWithin(seen.at(-1)?.socket as Socket, 1_000)).toBe(true);
  });

  it('counts the body in the time limit, not only the headers', async () => {
    await refusal(
      fetcher(true).fetchJson(`http://127.0.0.1:${port}/trickle.json`),
      `the document did not arrive within ${TIMEOUT_MS} ms`,
    );
    expect(
      await fetcher(true, { timeoutMs: TIMEOUT_MS * 4 }).fetchJson(`http://127.0.0.1:${port}/trickle.json`),
    ).toEqual({ late: true });
  });

  it('leaves no timer behind once a document arrived', async () => {
    const timers = () => process.getActiveResourcesInfo().filter((kind) => kind === 'Timeout').length;
    const before = timers();
    await fetcher(true, { timeoutMs: 60_000 }).fetchJson(`http://127.0.0.1:${port}/client.json`);
    expect(timers()).toBe(before);
  });

  it('refuses a body that is not JSON, or empty', async () => {
    await refusal(fetcher(true).fetchJson(`http://127.0.0.1:${port}/not-json.json`), 'the document is not JSON');
    await refusal(fetcher(true).fetchJson(`http://127.0.0.1:${port}/empty.json`), 'the document is not JSON');
  });

  it('decodes the whole body as UTF-8, also a character split between two chunks', async () => {
    expect(await fetcher(true).fetchJson(`http://127.0.0.1:${port}/utf8.json`)).toEqual({ city: 'Zürich' });
  });

  it('says so when the connection drops in the middle of the body', async () => {
    await refusal(
      fetcher(true).fetchJson(`http://127.0.0.1:${port}/cut-off.json`),
      'reading the document failed: aborted',
    );
  });
});
