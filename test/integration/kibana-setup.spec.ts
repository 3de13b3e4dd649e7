import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, resolve } from 'node:path';

/**
 * monitoring/kibana/setup.mjs (the kibana-setup one-shot) against a stand-in Kibana that speaks the
 * real HTTP API: status polling, then a multipart import with overwrite.
 */
const ROOT = resolve(__dirname, '../..');
const SCRIPT = join(ROOT, 'monitoring/kibana/setup.mjs');
const NDJSON = readFileSync(join(ROOT, 'monitoring/kibana/saved-objects.ndjson'), 'utf8');
const OBJECT_COUNT = NDJSON.split('\n').filter((line) => line.trim() !== '').length;

interface Scenario {
  /** Status answers before Kibana reports `available`. */
  unavailableFor: number;
  importAnswer: (body: string) => { status: number; json: unknown };
}
interface Recorded {
  statusCalls: number;
  imports: { url: string; xsrf: string | undefined; contentType: string | undefined; body: string }[];
}

function readBody(request: IncomingMessage): Promise<string> {
  return new Promise((resolveBody, reject) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => resolveBody(Buffer.concat(chunks).toString('utf8')));
    request.on('error', reject);
  });
}

async function fakeKibana(scenario: Scenario): Promise<{ server: Server; url: string; recorded: Recorded }> {
  const recorded: Recorded = { statusCalls: 0, imports: [] };
  const send = (response: ServerResponse, status: number, json: unknown): void => {
    response.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(json));
  };
  const server = createServer((request, response) => {
    void (async () => {
      const body = await readBody(request);
      if (request.method === 'GET' && request.url === '/api/status') {
        recorded.statusCalls += 1;
        const ready = recorded.statusCalls > scenario.unavailableFor;
        send(response, ready ? 200 : 503, {
          status: { overall: { level: ready ? 'available' : 'unavailable' } },
        });
        return;
      }
      if (request.method === 'POST' && request.url?.startsWith('/api/saved_objects/_import')) {
        recorded.imports.push({
          url: request.url,
          xsrf: request.headers['kbn-xsrf'] as string | undefined,
          contentType: request.headers['content-type'],
          body,
        });
        const answer = scenario.importAnswer(body);
        send(response, answer.status, answer.json);
        return;
      }
      send(response, 404, { statusCode: 404, error: 'Not Found' });
    })();
  });
  await new Promise<void>((listening) => server.listen(0, '127.0.0.1', listening));
  const { port } = server.address() as AddressInfo;
  return { server, url: `http://127.0.0.1:${port}`, recorded };
}

function runSetup(
  kibanaUrl: string,
  extraEnv: Record<string, string> = {},
): Promise<{ code: number | null; output: string }> {
  return new Promise((done) => {
    const child = spawn(process.execPath, [SCRIPT], {
      env: {
        PATH: process.env.PATH,
        KIBANA_URL: kibanaUrl,
        POLL_INTERVAL_MS: '20',
        WAIT_SECONDS: '10',
        ...extraEnv,
      },
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.on('close', (code) => done({ code, output }));
  });
}

const success = (): { status: number; json: unknown } => ({
  status: 200,
  json: { success: true, successCount: OBJECT_COUNT, successResults: [] },
});

describe('kibana-setup (monitoring/kibana/setup.mjs)', () => {
  const servers: Server[] = [];
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((server) => new Promise((closed) => server.close(closed))));
  });

  it('waits for Kibana, imports the NDJSON with overwrite and exits 0 on success', async () => {
    const kibana = await fakeKibana({ unavailableFor: 3, importAnswer: success });
    servers.push(kibana.server);

    const result = await runSetup(kibana.url);

    expect(result.code).toBe(0);
    expect(kibana.recorded.statusCalls).toBe(4);
    expect(kibana.recorded.imports).toHaveLength(1);
    const [call] = kibana.recorded.imports;
    expect(call!.url).toBe('/api/saved_objects/_import?overwrite=true');
    expect(call!.xsrf).toBeDefined();
    expect(call!.contentType).toMatch(/^multipart\/form-data; boundary=/);
    expect(call!.body).toContain('filename="saved-objects.ndjson"');
    expect(call!.body).toContain(NDJSON.trim());
    expect(result.output).toContain(`imported ${OBJECT_COUNT} saved objects`);
  });

  it('fails loudly, listing the errors, when Kibana reports success=false', async () => {
    const kibana = await fakeKibana({
      unavailableFor: 0,
      importAnswer: () => ({
        status: 200,
        json: {
          success: false,
          successCount: OBJECT_COUNT - 1,
          errors: [
            {
              id: 'vigil-logs-overview',
              type: 'dashboard',
              title: '[Vigil] Logs overview',
              error: { type: 'missing_references', references: [{ type: 'lens', id: 'nope' }] },
            },
          ],
        },
      }),
    });
    servers.push(kibana.server);

    const result = await runSetup(kibana.url);

    expect(result.code).toBe(1);
    expect(result.output).toContain('dashboard/vigil-logs-overview');
    expect(result.output).toContain('missing_references');
    expect(result.output).toContain('FAILED');
  });

  it('fails when Kibana imports fewer objects than the file holds, even with success=true', async () => {
    const kibana = await fakeKibana({
      unavailableFor: 0,
      importAnswer: () => ({ status: 200, json: { success: true, successCount: 1 } }),
    });
    servers.push(kibana.server);

    const result = await runSetup(kibana.url);

    expect(result.code).toBe(1);
    expect(result.output).toContain(`imported 1 objects, the file has ${OBJECT_COUNT}`);
  });

  it('fails on an HTTP error from the import API', async () => {
    const kibana = await fakeKibana({
      unavailableFor: 0,
      importAnswer: () => ({ status: 415, json: { statusCode: 415, message: 'Unsupported file type' } }),
    });
    servers.push(kibana.server);

    const result = await runSetup(kibana.url);

    expect(result.code).toBe(1);
    expect(result.output).toContain('HTTP 415');
  });

  it('gives up with a clear message when Kibana never becomes available', async () => {
    const kibana = await fakeKibana({ unavailableFor: Number.POSITIVE_INFINITY, importAnswer: success });
    servers.push(kibana.server);

    const result = await runSetup(kibana.url, { WAIT_SECONDS: '0.3' });

    expect(result.code).toBe(1);
    expect(result.output).toContain('was not available within 0.3s');
    expect(kibana.recorded.imports).toHaveLength(0);
  });
});
