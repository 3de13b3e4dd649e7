/** @jest-environment ./test/support/onnxruntime.environment.js */
/**
 * Malformed HTTP over a real socket (what `inject` cannot send): oversized headers, truncated and
 * lying bodies, broken framing, slow clients and random bytes. Every answer is a 4xx in the error
 * envelope (or the connection is closed), and the service stays ready.
 */
import { rmSync } from 'node:fs';
import { connect } from 'node:net';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import fc from 'fast-check';
import { bootApp, IRIS, LEAK, tempDir } from '../reliability/harness';

interface RawAnswer {
  status: number | undefined;
  head: string;
  body: string;
  closedWithoutAnswer: boolean;
}

/** Sends raw bytes, optionally half-closes, and reads until the server closes or `waitMs` passes. */
function raw(
  port: number,
  bytes: string | Buffer,
  options: { end?: boolean; waitMs?: number } = {},
): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    let timer: NodeJS.Timeout | undefined;
    const finish = (): void => {
      clearTimeout(timer);
      socket.destroy();
      const text = Buffer.concat(chunks).toString('latin1');
      const [head = '', body = ''] = text.split('\r\n\r\n', 2);
      const status = /^HTTP\/1\.1 (\d{3})/.exec(head)?.[1];
      resolve({
        status: status === undefined ? undefined : Number(status),
        head,
        body,
        closedWithoutAnswer: text === '',
      });
    };
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('close', finish);
    socket.on('error', (error: NodeJS.ErrnoException) =>
      error.code === 'ECONNRESET' ? finish() : reject(error),
    );
    socket.on('connect', () => {
      socket.write(bytes);
      if (options.end) socket.end();
      timer = setTimeout(finish, options.waitMs ?? 3000);
    });
  });
}

function expectEnvelope(answer: RawAnswer, status: number, code: string): void {
  expect(answer.status).toBe(status);
  const body = JSON.parse(answer.body.slice(0, answer.body.lastIndexOf('}') + 1)) as Record<string, unknown>;
  expect(body).toMatchObject({ code, message: expect.any(String), requestId: expect.any(String) });
  expect(answer.body).not.toMatch(LEAK);
}

describe('malformed HTTP over a real socket (e2e)', () => {
  let app: NestFastifyApplication;
  let dataDir: string;
  let port: number;
  const irisBody = JSON.stringify(IRIS);

  beforeAll(async () => {
    dataDir = tempDir('http');
    app = await bootApp({ DATA_DIR: dataDir, REQUEST_TIMEOUT_MS: 1000, BODY_LIMIT_BYTES: 65_536 });
    await app.listen({ port: 0, host: '127.0.0.1' });
    const address = app.getHttpServer().address();
    port = typeof address === 'object' && address !== null ? address.port : 0;
  }, 60_000);

  afterAll(async () => {
    await app?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  const ready = async (): Promise<void> => {
    const response = await fetch(`http://127.0.0.1:${port}/health/ready`);
    expect(response.status).toBe(200);
    const predicted = await fetch(`http://127.0.0.1:${port}/predict`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: irisBody,
    });
    expect(predicted.status).toBe(200);
  };

  it('headers over 16 KB: 431 in the envelope', async () => {
    const answer = await raw(
      port,
      `POST /predict HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\nContent-Type: application/json\r\nContent-Length: ${irisBody.length}\r\n\r\n${irisBody}`,
    );
    expectEnvelope(answer, 431, 'PAYLOAD_TOO_LARGE');
    const manyHeaders = Array.from({ length: 3000 }, (_, index) => `X-H${index}: v`).join('\r\n');
    expectEnvelope(
      await raw(port, `GET /health/live HTTP/1.1\r\nHost: x\r\n${manyHeaders}\r\n\r\n`),
      431,
      'PAYLOAD_TOO_LARGE',
    );
    await ready();
  });

  it('a broken request line or framing: 400 in the envelope', async () => {
    expectEnvelope(await raw(port, 'BLAH\r\n\r\n'), 400, 'INVALID_INPUT');
    expectEnvelope(await raw(port, 'GET / HTTP/9.9\r\nHost: x\r\n\r\n'), 400, 'INVALID_INPUT');
    expectEnvelope(
      await raw(
        port,
        'POST /predict HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!',
      ),
      400,
      'INVALID_INPUT',
    );
    expectEnvelope(
      await raw(
        port,
        'POST /predict HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Type: application/json\r\n\r\nzz\r\n{}\r\n0\r\n\r\n',
      ),
      400,
      'INVALID_INPUT',
    );
    await ready();
  });

  it('a truncated body (client goes away mid-body) is dropped quietly; a lying Content-Length is refused', async () => {
    const half = irisBody.slice(0, 20);
    const gone = await raw(
      port,
      `POST /predict HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${irisBody.length}\r\n\r\n${half}`,
      { end: true, waitMs: 1500 },
    );
    // Nothing to answer to: no 5xx, at most a 4xx.
    expect(gone.status === undefined || gone.status < 500).toBe(true);
    // More bytes than announced: the extra bytes are a second (malformed) request.
    const longer = await raw(
      port,
      `POST /predict HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 10\r\n\r\n${irisBody}`,
      { end: true },
    );
    expect(longer.status).toBe(400);
    expect(longer.head + longer.body).not.toMatch(/HTTP\/1\.1 5\d\d/);
    await ready();
  });

  it('a client that stops sending mid-body gets 408 after REQUEST_TIMEOUT_MS instead of holding the connection', async () => {
    const started = Date.now();
    const answer = await raw(
      port,
      `POST /predict HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${irisBody.length}\r\n\r\n${irisBody.slice(0, 10)}`,
      { waitMs: 8000 },
    );
    expect(Date.now() - started).toBeLessThan(7000);
    expectEnvelope(answer, 408, 'INVALID_INPUT');
    await ready();
  }, 15_000);

  it('200 random byte strings and mangled requests: never a 5xx, the service stays ready', async () => {
    const valid = `POST /predict HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${irisBody.length}\r\n\r\n${irisBody}`;
    const mangled = fc.oneof(
      fc.uint8Array({ minLength: 1, maxLength: 400 }).map((bytes) => Buffer.from(bytes)),
      fc.integer({ min: 1, max: valid.length - 1 }).map((end) => valid.slice(0, end)),
      fc
        .tuple(fc.integer({ min: 0, max: valid.length - 1 }), fc.uint8Array({ minLength: 1, maxLength: 8 }))
        .map(([at, bytes]) =>
          Buffer.concat([Buffer.from(valid.slice(0, at)), Buffer.from(bytes), Buffer.from(valid.slice(at))]),
        ),
    );
    let answered = 0;
    await fc.assert(
      fc.asyncProperty(mangled, async (bytes) => {
        const answer = await raw(port, bytes, { end: true, waitMs: 1500 });
        if (answer.status !== undefined) answered += 1;
        if (answer.status !== undefined && answer.status >= 500)
          throw new Error(
            `5xx for ${JSON.stringify(bytes.toString('latin1'))}: ${answer.head}\n${answer.body}`,
          );
        if (LEAK.test(answer.body)) throw new Error(`leak: ${answer.body}`);
      }),
      { numRuns: 200 },
    );
    expect(answered).toBeGreaterThan(100);
    await ready();
  }, 120_000);
});
