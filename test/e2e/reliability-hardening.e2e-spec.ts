/** @jest-environment ./test/support/onnxruntime.environment.js */
/**
 * Hardening checks on the running service: per-IP rate limits on admin and feedback endpoints (and
 * none on predict), security headers, no stack or path in a 500, secrets and listed personal fields
 * absent from logs, `.env.example` in step with the env schema, the admin token compared in constant
 * time, the container non-root and read-only, the audit allowlist well-formed.
 */
import { readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { getMetadataStorage } from 'class-validator';
import { load } from 'js-yaml';
import { EnvSchema } from '../../src/config/env.schema';
import { RegistryService } from '../../src/registry/registry.service';
import { ADMIN_TOKEN, bootApp, CREDIT, IRIS, LEAK, ROOT, tempDir, until } from '../reliability/harness';

const json = { 'content-type': 'application/json' };
const admin = { ...json, authorization: `Bearer ${ADMIN_TOKEN}` };

describe('rate limits, headers, errors and logs (e2e)', () => {
  let app: NestFastifyApplication;
  let dataDir: string;
  const logLines: string[] = [];
  let stdoutSpy: jest.SpyInstance;

  beforeAll(async () => {
    dataDir = tempDir('hardening');
    stdoutSpy = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      logLines.push(
        ...String(chunk)
          .split('\n')
          .filter((line) => line !== ''),
      );
      return true;
    });
    app = await bootApp({
      DATA_DIR: dataDir,
      RATE_LIMIT_ADMIN_PER_MINUTE: 5,
      RATE_LIMIT_FEEDBACK_PER_MINUTE: 3,
      LOG_LEVEL: 'info',
      ACCESS_LOG: true,
      PREDICTION_LOG: true,
      PRIVACY_DROP_FIELDS: 'age',
      PRIVACY_HASH_FIELDS: 'annual_income',
      PRIVACY_HASH_SALT: 'reliability-salt',
    });
  }, 60_000);

  afterAll(async () => {
    await app?.close();
    stdoutSpy.mockRestore();
    rmSync(dataDir, { recursive: true, force: true });
  });

  async function waitForLog(text: string): Promise<void> {
    await until(() => logLines.some((line) => line.includes(text)), 5000, `a log line with ${text}`);
  }

  const inject = (
    method: 'GET' | 'POST' | 'PATCH',
    url: string,
    payload?: unknown,
    headers: Record<string, string> = json,
    remoteAddress = '10.0.0.1',
  ) =>
    app.inject({
      method,
      url,
      payload: payload === undefined ? undefined : JSON.stringify(payload),
      headers,
      remoteAddress,
    });

  it('admin endpoints: 5 per minute per IP, then 429 RATE_LIMITED in the envelope with Retry-After; another IP has its own budget', async () => {
    const statuses: number[] = [];
    for (let index = 0; index < 7; index += 1) {
      const response = await inject(
        'PATCH',
        '/v1/models/iris',
        { description: `n${index}` },
        admin,
        '10.0.0.1',
      );
      statuses.push(response.statusCode);
      if (response.statusCode === 429) {
        expect(response.json()).toMatchObject({ code: 'RATE_LIMITED', requestId: expect.any(String) });
        expect(Number(response.headers['retry-after'])).toBeGreaterThanOrEqual(1);
        expect(Number(response.headers['retry-after'])).toBeLessThanOrEqual(60);
      }
    }
    expect(statuses).toEqual([200, 200, 200, 200, 200, 429, 429]);
    // Wrong tokens spend the same budget: guessing is limited too.
    const guess = await inject(
      'PATCH',
      '/v1/models/iris',
      {},
      { ...json, authorization: 'Bearer guess-guess-guess-1' },
      '10.0.0.1',
    );
    expect(guess.statusCode).toBe(429);
    expect(
      (await inject('PATCH', '/v1/models/iris', { description: 'other ip' }, admin, '10.0.0.2')).statusCode,
    ).toBe(200);
    // Reads are not limited.
    for (let index = 0; index < 20; index += 1)
      expect((await inject('GET', '/v1/models/iris', undefined, json, '10.0.0.1')).statusCode).toBe(200);
  });

  it('feedback: 3 per minute per IP, then 429; predict is never limited and carries no rate-limit headers', async () => {
    const statuses: number[] = [];
    for (let index = 0; index < 5; index += 1)
      statuses.push(
        (await inject('POST', '/v1/feedback', { predictionId: 'nope', label: '0' }, json, '10.0.0.3'))
          .statusCode,
      );
    expect(statuses).toEqual([404, 404, 404, 429, 429]);
    for (let index = 0; index < 100; index += 1) {
      const response = await inject('POST', '/predict', IRIS, json, '10.0.0.3');
      expect(response.statusCode).toBe(200);
      expect(response.headers['x-ratelimit-limit']).toBeUndefined();
    }
  });

  it('REST security headers on API answers and errors', async () => {
    for (const response of [
      await inject('POST', '/predict', IRIS),
      await inject('POST', '/predict', { bad: 1 }),
      await inject('POST', '/v1/models/iris/predict', { instances: [] }),
      await inject('GET', '/health/live'),
    ]) {
      expect(response.headers).toMatchObject({
        'x-content-type-options': 'nosniff',
        'x-frame-options': 'DENY',
        'content-security-policy': "frame-ancestors 'none'",
        'cache-control': 'no-store',
        'strict-transport-security': expect.stringContaining('max-age='),
        'referrer-policy': 'no-referrer',
        'x-request-id': expect.any(String),
      });
      expect(response.headers['x-powered-by']).toBeUndefined();
    }
  });

  it('browser security headers on the docs and other pages; no x-powered-by', async () => {
    for (const response of [await inject('GET', '/nowhere'), await inject('GET', '/docs')]) {
      expect(response.headers).toMatchObject({
        'x-content-type-options': 'nosniff',
        'x-frame-options': 'SAMEORIGIN',
        'content-security-policy': expect.stringContaining("default-src 'self'"),
        'strict-transport-security': expect.stringContaining('max-age='),
        'referrer-policy': 'no-referrer',
        'cross-origin-opener-policy': 'same-origin',
        'x-request-id': expect.any(String),
      });
      expect(response.headers['x-powered-by']).toBeUndefined();
    }
  });

  it('an unexpected error answers 500 INTERNAL without its message, stack or paths (they go to the log)', async () => {
    const spy = jest
      .spyOn(RegistryService.prototype, 'listModels')
      .mockRejectedValueOnce(
        new Error('pool exploded at /work/main/src/database/x.ts:12:5 password=hunter2'),
      );
    const response = await inject('GET', '/v1/models');
    spy.mockRestore();
    await waitForLog('pool exploded');
    expect(response.statusCode).toBe(500);
    expect(response.json()).toEqual({
      code: 'INTERNAL',
      message: 'Internal error',
      requestId: expect.any(String),
    });
    expect(response.body).not.toMatch(LEAK);
    const logged = logLines.find((line) => line.includes('pool exploded'));
    expect(logged).toBeDefined();
    expect(logged).not.toContain('hunter2');
  });

  it('logs hold neither the admin token nor secrets in URLs, nor dropped or hashed personal fields', async () => {
    await inject('PATCH', '/v1/models/credit?token=url-secret-123', { description: 'x' }, admin, '10.0.0.9');
    await inject(
      'POST',
      '/v1/models/credit/predict',
      { instances: [CREDIT] },
      { ...json, authorization: `Bearer ${ADMIN_TOKEN}` },
      '10.0.0.9',
    );
    // Log lines are written asynchronously (bounded queue): wait for the access line and the prediction event.
    await waitForLog('/v1/models/credit/predict');
    await waitForLog('"vigil.model.name":"credit"');
    const all = logLines.join('\n');
    expect(all).not.toContain(ADMIN_TOKEN);
    expect(all).not.toContain('url-secret-123');
    // Control: the other inputs are logged, so the absence below means something.
    expect(all).toMatch(/"loan_amount":10150\b/);
    expect(all).not.toMatch(/"age":41\b/);
    expect(all).not.toMatch(/"annual_income":35800\b/);
  });
});

describe('configuration, token comparison, container and audit policy (static)', () => {
  it('.env.example documents every variable of the env schema, with its default', () => {
    const example = readFileSync(join(ROOT, '.env.example'), 'utf8');
    const documented = new Map<string, string>();
    for (const match of example.matchAll(/^#?\s?([A-Z][A-Z0-9_]+)=(.*)$/gm))
      documented.set(match[1]!, match[2]!.trim());
    const declared = new Set(
      getMetadataStorage()
        .getTargetValidationMetadatas(EnvSchema, '', true, false)
        .map((metadata) => metadata.propertyName),
    );
    expect([...declared].filter((name) => !documented.has(name))).toEqual([]);
    expect(
      [...documented.keys()].filter((name) => !declared.has(name) && !name.startsWith('OTEL_EXPORTER')),
    ).toEqual([]);
    const defaults = new EnvSchema() as unknown as Record<string, unknown>;
    const wrong = Object.entries(defaults)
      .filter(([, value]) => value !== undefined)
      .map(([name, value]) => [name, Array.isArray(value) ? value.join(',') : String(value)] as const)
      .filter(([name, value]) => documented.get(name) !== value);
    expect(wrong).toEqual([]);
  });

  it('the admin token is compared in constant time (hash + timingSafeEqual), nowhere with ===', () => {
    const guard = readFileSync(join(ROOT, 'src/common/admin-token.guard.ts'), 'utf8');
    expect(guard).toMatch(/timingSafeEqual\(digest\(given\), digest\(expected\)\)/);
    const offenders: string[] = [];
    const walk = (directory: string): void => {
      for (const entry of readdirSync(directory)) {
        const path = join(directory, entry);
        if (statSync(path).isDirectory()) walk(path);
        else if (path.endsWith('.ts') && !path.endsWith('.spec.ts')) {
          const source = readFileSync(path, 'utf8');
          if (
            /(?:===|!==|==)\s*(?:this\.)?(?:config\.)?ADMIN_TOKEN|ADMIN_TOKEN\s*(?:===|!==|==)[^=]/.test(
              source,
            )
          )
            offenders.push(path);
        }
      }
    };
    walk(join(ROOT, 'src'));
    expect(offenders).toEqual([]);
  });

  it('the image runs as a non-root user; compose runs it with a read-only root filesystem', () => {
    const dockerfile = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');
    const runtime = dockerfile.slice(dockerfile.lastIndexOf('FROM '));
    const user = /^USER\s+(\S+)/m.exec(runtime)?.[1];
    expect(user).toBeDefined();
    expect(user).not.toMatch(/^(root|0)(:|$)/);
    const compose = load(readFileSync(join(ROOT, 'docker-compose.yml'), 'utf8')) as {
      services: Record<string, { read_only?: boolean; tmpfs?: string[] }>;
    };
    expect(compose.services.api).toMatchObject({ read_only: true, tmpfs: expect.arrayContaining(['/tmp']) });
    expect(readFileSync(join(ROOT, '.github/scripts/smoke.sh'), 'utf8')).toMatch(/--read-only/);
  });

  it('the npm audit allowlist is reviewed: every entry names the advisory, a reason, a reviewer and expires within 90 days', () => {
    const allowlist = JSON.parse(readFileSync(join(ROOT, '.github/audit-allowlist.json'), 'utf8')) as {
      advisories: { id: string; package: string; reason: string; expires: string; reviewedBy: string }[];
    };
    const horizon = new Date(Date.now() + 90 * 86_400_000).toISOString().slice(0, 10);
    for (const entry of allowlist.advisories) {
      expect(entry.id).toMatch(/^GHSA-[\w-]+$|^\d+$/);
      expect(entry.package).toEqual(expect.any(String));
      expect(entry.reason.length).toBeGreaterThan(20);
      expect(entry.reviewedBy).toEqual(expect.any(String));
      expect(entry.expires <= horizon).toBe(true);
    }
  });
});
