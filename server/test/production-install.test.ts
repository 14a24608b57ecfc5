import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import {
  chmodSync,
  chownSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { loadConfig } from '../src/config.js';
import { dropTestSchema, postgresAvailableFor, TEST_POSTGRES_URL } from './support/database.js';
import { freePort } from './support/loopback.js';

/**
 * The container files cannot be built or run on the machines that build Switchboard (no base
 * images, no Docker). What can be checked is checked here: the compose file, the proxy and the
 * Kubernetes manifests agree with each other and with the app, and — with
 * SWITCHBOARD_TEST_INSTALL=1, because it takes four to six minutes on two cores (better-sqlite3
 * compiles from source here) — the Dockerfile's three stages run from its own COPY and `RUN npm`
 * lines, each in a clean folder, and the runtime folder serves as an unprivileged user.
 */

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const read = (path: string) => readFileSync(join(ROOT, path), 'utf8');

type Json = Record<string, unknown>;
const obj = (value: unknown): Json => value as Json;

interface Stage {
  name: string;
  lines: string[];
}

/** The Dockerfile's stages, each with its instructions (continuation lines joined, comments dropped). */
function dockerfileStages(): Stage[] {
  const instructions = read('Dockerfile')
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line && !line.startsWith('#'));
  const stages: Stage[] = [];
  for (const line of instructions) {
    const from = /^FROM\s+\S+\s+AS\s+(\S+)/i.exec(line);
    if (from?.[1]) stages.push({ name: from[1], lines: [] });
    else stages.at(-1)?.lines.push(line);
  }
  return stages;
}

function stage(name: string): Stage {
  const found = dockerfileStages().find((s) => s.name === name);
  if (!found) throw new Error(`Dockerfile has no stage ${name}`);
  return found;
}

/** `${VAR:?message}` and `${VAR:-default}` as compose substitutes them, from `values`. */
function substitute(text: string, values: Record<string, string>): string {
  return text.replace(/\$\{(\w+)(?::([?-])([^}]*))?\}/g, (_, name: string, operator?: string, fallback?: string) => {
    const value = values[name];
    if (value !== undefined) return value;
    if (operator === '-') return fallback ?? '';
    throw new Error(`compose needs ${name}: ${fallback ?? ''}`);
  });
}

/** What .dockerignore keeps out of the build context, for the paths the Dockerfile copies. */
const IGNORED = /(^|\/)(node_modules|dist|\.data)(\/|$)|\.test\.ts$|\.tsbuildinfo$/;

/** Docker's COPY of `source` (from `from`, a folder) to `destination` in `folder`; symlinks kept as they are. */
function copyInto(from: string, source: string, folder: string, destination: string): void {
  const path = join(from, source);
  const target =
    !statSync(path).isDirectory() && destination.endsWith('/')
      ? join(folder, destination, basename(source))
      : join(folder, destination);
  mkdirSync(dirname(target), { recursive: true });
  cpSync(path, target, {
    recursive: true,
    verbatimSymlinks: true,
    // .dockerignore applies to the build context only; a stage's files are copied whole.
    filter: (p) => from !== ROOT || !IGNORED.test(relative(from, p)),
  });
}

/**
 * Runs a stage of the Dockerfile in `folder` (its WORKDIR): each COPY from the build context
 * or from an earlier stage (`stages` maps a stage's WORKDIR to its folder here), and each
 * `RUN npm …` — the system packages (apt-get) are the machine's. npm ci prefers the local cache.
 */
function runStage(name: string, folder: string, stages: Record<string, string> = {}): string[] {
  const ran: string[] = [];
  for (const line of stage(name).lines) {
    const copy = /^COPY\s+(?:--from=(\S+)\s+)?(.+)$/.exec(line);
    if (copy) {
      const parts = (copy[2] as string).split(/\s+/);
      const destination = parts.pop() as string;
      for (const source of parts) {
        if (copy[1] === undefined) copyInto(ROOT, source, folder, destination);
        else {
          const [workdir, origin] = Object.entries(stages).find(([dir]) => source.startsWith(`${dir}/`)) ?? [];
          if (!workdir || !origin) throw new Error(`no folder for ${line}`);
          copyInto(origin, source.slice(workdir.length + 1), folder, destination);
        }
      }
    } else if (line.startsWith('RUN npm ')) {
      const command = line.slice('RUN '.length);
      execFileSync('sh', ['-c', command.startsWith('npm ci ') ? `${command} --prefer-offline` : command], {
        cwd: folder,
        stdio: 'pipe',
        timeout: 480_000,
      });
      ran.push(command);
    }
  }
  return ran;
}

const KEY = `k1:${Buffer.alloc(32, 7).toString('base64')}`;

describe('the Dockerfile', () => {
  const stages = dockerfileStages();
  const runtime = stage('runtime');

  it('builds on node:20-slim in three stages, and runs as the image’s unprivileged user', () => {
    expect(read('Dockerfile')).toMatch(/^ARG NODE_IMAGE=node:20-slim$/m);
    expect(stages.map((s) => s.name)).toEqual(['build', 'deps', 'runtime']);
    expect(runtime.lines).toContain('USER node');
    expect(runtime.lines.join('\n')).toMatch(/HOST=0\.0\.0\.0/);
    expect(runtime.lines).toContain('EXPOSE 3000');
    expect(runtime.lines).toContain('VOLUME ["/data"]');
    expect(runtime.lines.find((l) => l.startsWith('HEALTHCHECK'))).toMatch(/\/healthz/);
    expect(runtime.lines.at(-1)).toBe('CMD ["node", "server/dist/cli.js", "start"]');
  });

  it('copies into the runtime no sources, tests or dev dependencies', () => {
    const copies = runtime.lines.filter((l) => l.startsWith('COPY'));
    for (const copy of copies) expect(copy).not.toMatch(/\bsrc\b|\btest\b|tsconfig/);
    expect(copies).toContain('COPY --from=deps /app/node_modules node_modules');
    expect(stage('deps').lines.some((l) => /npm ci --omit=dev/.test(l))).toBe(true);
    const ignored = read('.dockerignore').split('\n');
    for (const pattern of ['**/node_modules', '**/dist', '.data', '.git', 'server/test']) {
      expect(ignored).toContain(pattern);
    }
  });
});

describe('compose.yaml', () => {
  const compose = obj(parse(read('compose.yaml'), { merge: true }));
  const services = obj(compose.services);
  const replicas = ['switchboard-1', 'switchboard-2'];

  it('runs PostgreSQL, two Switchboard replicas and a proxy, each with a health check', () => {
    expect(Object.keys(services).sort()).toEqual(['postgres', 'proxy', ...replicas].sort());
    expect(obj(services.postgres).image).toMatch(/^postgres:\d+/);
    expect(obj(obj(services.postgres).healthcheck).test).toEqual([
      'CMD-SHELL',
      'pg_isready -U switchboard -d switchboard',
    ]);
    for (const name of replicas) {
      const service = obj(services[name]);
      expect(service.build, name).toBe('.');
      expect(JSON.stringify(obj(service.healthcheck).test), name).toContain('http://127.0.0.1:3000/readyz');
      expect(service.expose, name).toEqual(['3000']);
      expect(obj(obj(service.depends_on).postgres).condition, name).toBe('service_healthy');
    }
    // One replica creates the first admin client on the empty database; the other waits for it.
    expect(obj(obj(services['switchboard-2']).depends_on)['switchboard-1']).toEqual({ condition: 'service_healthy' });
    expect(Object.keys(obj(obj(services.proxy).depends_on)).sort()).toEqual(replicas);
  });

  it('gives every replica a production configuration that refuses to start without its secrets', () => {
    const text = read('compose.yaml');
    expect(() => substitute(text, { POSTGRES_PASSWORD: 'pw' })).toThrow(/SWITCHBOARD_ENCRYPTION_KEY/);
    expect(() => substitute(text, { SWITCHBOARD_ENCRYPTION_KEY: KEY })).toThrow(/POSTGRES_PASSWORD/);
    const filled = obj(
      parse(substitute(text, { POSTGRES_PASSWORD: 'pw', SWITCHBOARD_ENCRYPTION_KEY: KEY }), { merge: true }),
    );
    for (const name of replicas) {
      const env = obj(obj(obj(filled.services)[name]).environment) as Record<string, string>;
      const config = loadConfig({ ...env, HOST: '0.0.0.0' });
      expect(config.production, name).toBe(true);
      expect(config.databaseUrl, name).toBe('postgres://switchboard:pw@postgres:5432/switchboard');
      expect(config.encryption.current, name).toBe(KEY);
      expect(config.trustedProxies, name).toBe(1);
      expect(config.port, name).toBe(3000);
    }
  });

  it('has the proxy pass cleartext HTTP/2 to both replicas on the app port, and accept it from clients', () => {
    const proxy = obj(services.proxy);
    expect(proxy.image).toMatch(/^caddy:2/);
    const mount = (proxy.volumes as string[]).find((v) => v.endsWith(':/etc/caddy/Caddyfile:ro'));
    const caddyfile = read(mount?.split(':')[0] ?? 'missing');
    expect(caddyfile).toMatch(/protocols h1 h2 h2c/);
    expect(caddyfile).toMatch(/reverse_proxy h2c:\/\/switchboard-1:3000 h2c:\/\/switchboard-2:3000 \{/);
    expect(caddyfile).toMatch(/health_uri \/readyz/);
    expect(caddyfile).toMatch(/flush_interval -1/);
  });
});

describe('deploy/kubernetes', () => {
  const kustomization = obj(parse(read('deploy/kubernetes/kustomization.yaml')));
  const documents = [...(kustomization.resources as string[]), 'secret.example.yaml'].flatMap((file) =>
    parseAllDocuments(read(`deploy/kubernetes/${file}`)).map((doc) => {
      expect(doc.errors, file).toEqual([]);
      return obj(doc.toJS());
    }),
  );
  const byKind = (kind: string) => {
    const found = documents.find((d) => d.kind === kind);
    if (!found) throw new Error(`no ${kind}`);
    return found;
  };

  it('declares known kinds with their API versions', () => {
    expect(documents.map((d) => `${d.apiVersion} ${d.kind}`).sort()).toEqual(
      ['apps/v1 Deployment', 'policy/v1 PodDisruptionBudget', 'v1 Secret', 'v1 Service'].sort(),
    );
    expect(kustomization.apiVersion).toBe('kustomize.config.k8s.io/v1beta1');
  });

  it('runs two non-root replicas with probes on /healthz and /readyz at the port the app listens on', () => {
    const deployment = obj(byKind('Deployment').spec);
    expect(deployment.replicas).toBe(2);
    const pod = obj(obj(deployment.template).spec);
    const labels = obj(obj(deployment.template).metadata).labels;
    expect(obj(deployment.selector).matchLabels).toEqual(labels);
    expect(obj(byKind('Service').spec).selector).toEqual(labels);
    expect(obj(obj(byKind('PodDisruptionBudget').spec).selector).matchLabels).toEqual(labels);
    expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 1000 });
    const [container] = pod.containers as Json[];
    expect(container?.securityContext).toMatchObject({ allowPrivilegeEscalation: false, readOnlyRootFilesystem: true });
    expect(container?.ports).toEqual([{ name: 'http', containerPort: 3000, protocol: 'TCP' }]);
    expect(obj(container?.startupProbe).httpGet).toEqual({ path: '/healthz', port: 'http' });
    expect(obj(container?.livenessProbe).httpGet).toEqual({ path: '/healthz', port: 'http' });
    expect(obj(container?.readinessProbe).httpGet).toEqual({ path: '/readyz', port: 'http' });
    expect(obj(container?.resources).requests).toEqual({ cpu: '250m', memory: '256Mi' });
    expect(container?.volumeMounts).toContainEqual({ name: 'data', mountPath: '/data' });
  });

  it('takes DATABASE_URL, the key and the declared admin from the Secret, and the result is a valid production configuration', () => {
    const [container] = obj(obj(obj(byKind('Deployment').spec).template).spec).containers as Json[];
    const secret = obj(byKind('Secret').stringData) as Record<string, string>;
    const env: Record<string, string> = {};
    for (const entry of (container?.env ?? []) as Json[]) {
      const name = entry.name as string;
      if (entry.value !== undefined) {
        env[name] = entry.value as string;
        continue;
      }
      const ref = obj(obj(entry.valueFrom).secretKeyRef);
      expect(ref.name, name).toBe(obj(byKind('Secret').metadata).name);
      const value = secret[ref.key as string];
      if (!ref.optional) expect(value, name).toBeDefined();
      if (value !== undefined) env[name] = value;
    }
    expect(Object.keys(secret).sort()).toEqual([
      'DATABASE_URL',
      'SWITCHBOARD_ADMIN_CLIENT_ID',
      'SWITCHBOARD_ADMIN_CLIENT_SECRET',
      'SWITCHBOARD_ENCRYPTION_KEY',
    ]);
    const config = loadConfig(env);
    expect(config).toMatchObject({ production: true, port: 3000, host: '0.0.0.0', trustedProxies: 1 });
    expect(config.declaredAdmin?.clientId).toBe('ops-admin');
  });

  it('exposes the one port as cleartext HTTP/2 to gateways and ingresses', () => {
    expect(obj(byKind('Service').spec).ports).toEqual([
      { name: 'http', port: 80, targetPort: 'http', protocol: 'TCP', appProtocol: 'kubernetes.io/h2c' },
    ]);
  });
});

const INSTALL = process.env.SWITCHBOARD_TEST_INSTALL === '1';
const runInstall = INSTALL && postgresAvailableFor('the production install test');

describe.skipIf(!runInstall)(
  'the Dockerfile’s production install, in a clean folder (SWITCHBOARD_TEST_INSTALL=1)',
  () => {
    // Made in the test, not here: a skipped suite's body still runs, its afterAll does not.
    let root = '';
    let folder = '';
    const schema = `t_install_${process.pid}_${Date.now().toString(36)}`;
    let child: ChildProcess | undefined;

    afterAll(async () => {
      child?.kill('SIGKILL');
      await dropTestSchema(schema);
      if (root) rmSync(root, { recursive: true, force: true });
    });

    it('builds, installs production dependencies only, migrates an empty Postgres as an unprivileged user, and is ready', async () => {
      // The three stages, each in a folder of its own, from the Dockerfile's own instructions.
      root = mkdtempSync(join(tmpdir(), 'switchboard-install-'));
      folder = root;
      const [build, deps] = ['build', 'deps'].map((name) => join(folder, name)) as [string, string];
      folder = join(folder, 'runtime');
      for (const dir of [build, deps, folder]) mkdirSync(dir);
      expect(runStage('build', build)).toEqual([
        'npm ci --workspace=sdk --workspace=server --ignore-scripts --no-audit --no-fund',
        'npm run build --workspace=sdk --workspace=server',
      ]);
      expect(runStage('deps', deps)).toEqual([
        'npm ci --omit=dev --workspace=sdk --workspace=server --ignore-scripts --no-audit --no-fund',
        'npm rebuild better-sqlite3',
      ]);
      expect(runStage('runtime', folder, { '/build': build, '/app': deps })).toEqual([]);
      expect(readdirSync(folder).sort()).toEqual(['node_modules', 'package.json', 'sdk', 'server']);
      expect(readdirSync(join(folder, 'server')).sort()).toEqual(['bin', 'dist', 'package.json']);

      const installed = (name: string) => existsSync(join(folder, 'node_modules', name));
      for (const dev of ['typescript', 'vitest', '@biomejs/biome', 'langchain', '@scalekit-sdk/node']) {
        expect(installed(dev), dev).toBe(false);
      }
      for (const runtime of ['hono', 'kysely', 'pg', 'zod', 'better-sqlite3/build/Release/better_sqlite3.node']) {
        expect(installed(runtime), runtime).toBe(true);
      }

      // Root here (CI containers): drop to nobody, as the image's USER does, owning only its data dir.
      const asRoot = process.getuid?.() === 0;
      const dataDir = join(folder, 'data');
      mkdirSync(dataDir, { mode: 0o700 });
      for (const dir of [root, folder]) chmodSync(dir, 0o755);
      if (asRoot) chownSync(dataDir, 65534, 65534);
      const port = await freePort();
      const url = `http://127.0.0.1:${port}`;
      const node = [process.execPath, 'server/dist/cli.js', 'start'];
      const [command, ...args] = asRoot
        ? ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups', '--', ...node]
        : node;
      let output = '';
      child = spawn(command as string, args, {
        cwd: folder,
        env: {
          PATH: process.env.PATH ?? '',
          NODE_ENV: 'production',
          HOST: '127.0.0.1',
          PORT: String(port),
          SWITCHBOARD_PUBLIC_URL: url,
          SWITCHBOARD_DATA_DIR: dataDir,
          DATABASE_URL: `${TEST_POSTGRES_URL}?options=${encodeURIComponent(`-c search_path=${schema}`)}`,
          SWITCHBOARD_ENCRYPTION_KEY: KEY,
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      child.stdout?.on('data', (chunk: Buffer) => {
        output += chunk.toString();
      });
      child.stderr?.on('data', (chunk: Buffer) => {
        output += chunk.toString();
      });
      const exited = new Promise<number | string>((resolve) =>
        child?.once('exit', (code, signal) => resolve(code ?? signal ?? -1)),
      );

      // An empty schema: the search_path names it, and nothing has created it.
      const client = new pg.Client({ connectionString: TEST_POSTGRES_URL });
      await client.connect();
      try {
        await client.query(`CREATE SCHEMA ${schema}`);
        let ready: Response | undefined;
        for (let waited = 0; waited < 30_000 && ready?.status !== 200; waited += 250) {
          if (child.exitCode !== null) throw new Error(`Switchboard exited:\n${output}`);
          await new Promise((resolve) => setTimeout(resolve, 250));
          ready = await fetch(`${url}/readyz`).catch(() => undefined);
        }
        expect(ready?.status, output).toBe(200);
        expect(await ready?.json()).toMatchObject({ status: 'ready', database: 'postgres' });
        expect((await fetch(`${url}/healthz`)).status).toBe(200);

        const uid = /^Uid:\s+(\d+)/m.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))?.[1];
        expect(Number(uid)).toBe(asRoot ? 65534 : process.getuid?.());
        const migrations = await client.query(`SELECT count(*)::int AS n FROM ${schema}.kysely_migration`);
        expect(migrations.rows[0].n).toBeGreaterThan(0);
        // Production mode: no admin client made and no secret printed (only how to make one), no file, no sandbox.
        expect(output).toContain('No admin API client yet');
        expect(output).not.toMatch(/sbs_/);
        expect(existsSync(join(dataDir, 'admin-credentials.json'))).toBe(false);
        expect((await fetch(`${url}/sandbox/gmail/v1/users/me/profile`)).status).toBe(404);
      } finally {
        await client.end();
      }

      child.kill('SIGTERM');
      expect(await exited).toBe(0);
    }, 600_000);
  },
);

describe('the operator guides', () => {
  it('are linked from the README, and every relative link in them resolves', () => {
    const guides = readdirSync(join(ROOT, 'docs')).filter((file) => file.endsWith('.md'));
    expect(guides.length).toBeGreaterThanOrEqual(7);
    const readme = read('README.md');
    for (const guide of guides) expect(readme, guide).toContain(`(docs/${guide})`);
    for (const guide of guides) {
      for (const [, target] of read(`docs/${guide}`).matchAll(/\]\(([^)#\s]+)(?:#[^)]*)?\)/g)) {
        if (/^[a-z]+:/.test(target as string)) continue;
        expect(existsSync(join(ROOT, 'docs', target as string)), `${guide} → ${target}`).toBe(true);
      }
    }
    JSON.parse(read('docs/grafana-dashboard.json'));
  });

  it('name only metrics the server registers, in the observability guide and the sample dashboard', () => {
    const registered = new Set(
      [...read('server/src/observability/metrics.ts').matchAll(/name: '(switchboard_\w+)'/g)].map((m) => m[1]),
    );
    expect(registered.size).toBeGreaterThan(5);
    for (const file of ['docs/observability.md', 'docs/grafana-dashboard.json']) {
      const named = [...read(file).matchAll(/switchboard_[a-z_]*[a-z]/g)]
        .map(([name]) => name.replace(/_(bucket|sum|count)$/, ''))
        .filter((name) => !/^switchboard_(process|nodejs)/.test(name));
      expect(named.length, file).toBeGreaterThan(5);
      for (const name of named) expect(registered, `${file}: ${name}`).toContain(name);
    }
  });
});
