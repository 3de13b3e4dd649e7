import { spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, resolve } from 'node:path';

/**
 * monitoring/elasticsearch/setup.sh (the elasticsearch-setup one-shot) against a stand-in
 * Elasticsearch that speaks the real REST API and keeps state like the real one: the template a data
 * stream reports is the one that matches it *now*.
 */
const ROOT = resolve(__dirname, '../..');
const SCRIPT = join(ROOT, 'monitoring/elasticsearch/setup.sh');
const POLICY = JSON.parse(
  readFileSync(join(ROOT, 'monitoring/elasticsearch/ilm-policy.json'), 'utf8'),
) as unknown;
const TEMPLATE = JSON.parse(
  readFileSync(join(ROOT, 'monitoring/elasticsearch/index-template.json'), 'utf8'),
) as unknown;

interface FakeEs {
  server: Server;
  url: string;
  calls: string[];
  policies: Map<string, unknown>;
  templates: Map<string, unknown>;
}

function readBody(request: IncomingMessage): Promise<string> {
  return new Promise((done, reject) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => done(Buffer.concat(chunks).toString('utf8')));
    request.on('error', reject);
  });
}

async function fakeElasticsearch(options: {
  healthyAfter?: number;
  dataStreams?: string[];
  rejectTemplate?: boolean;
}): Promise<FakeEs> {
  const state: Omit<FakeEs, 'server' | 'url'> = { calls: [], policies: new Map(), templates: new Map() };
  let healthCalls = 0;
  const server = createServer((request, response) => {
    void (async () => {
      const body = await readBody(request);
      const url = new URL(request.url ?? '/', 'http://es');
      state.calls.push(`${request.method} ${url.pathname}`);
      const send = (status: number, json: unknown): void => {
        response.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(json));
      };
      if (url.pathname === '/_cluster/health') {
        healthCalls += 1;
        return healthCalls > (options.healthyAfter ?? 0)
          ? send(200, { status: 'yellow' })
          : send(503, { error: 'cluster not ready' });
      }
      if (request.method === 'PUT' && url.pathname.startsWith('/_ilm/policy/')) {
        state.policies.set(url.pathname.split('/').pop()!, JSON.parse(body));
        return send(200, { acknowledged: true });
      }
      if (request.method === 'PUT' && url.pathname.startsWith('/_index_template/')) {
        if (options.rejectTemplate) {
          return send(400, { error: { type: 'illegal_argument_exception', reason: 'unknown setting [x]' } });
        }
        state.templates.set(url.pathname.split('/').pop()!, JSON.parse(body));
        return send(200, { acknowledged: true });
      }
      if (request.method === 'GET' && url.pathname.startsWith('/_data_stream/')) {
        const template = state.templates.has('logs-vigil') ? 'logs-vigil' : 'logs';
        const streams = (options.dataStreams ?? []).map((name) => ({ name, template }));
        // With filter_path, Elasticsearch answers {} when nothing matches.
        return send(200, streams.length > 0 ? { data_streams: streams } : {});
      }
      if (request.method === 'POST' && url.pathname.endsWith('/_rollover')) {
        return send(200, { acknowledged: true, rolled_over: true });
      }
      return send(404, { error: `no handler for ${request.method} ${url.pathname}` });
    })();
  });
  await new Promise<void>((listening) => server.listen(0, '127.0.0.1', listening));
  const { port } = server.address() as AddressInfo;
  return { server, url: `http://127.0.0.1:${port}`, ...state };
}

function runSetup(esUrl: string): Promise<{ code: number | null; output: string }> {
  return new Promise((done) => {
    const child = spawn('bash', [SCRIPT], {
      env: { PATH: process.env.PATH, ELASTICSEARCH_URL: esUrl, WAIT_SECONDS: '20', POLL_SECONDS: '0.05' },
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.on('close', (code) => done({ code, output }));
  });
}

describe('elasticsearch-setup (monitoring/elasticsearch/setup.sh)', () => {
  const servers: Server[] = [];
  beforeAll(() => {
    for (const tool of ['bash', 'curl']) {
      if (spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0) {
        throw new Error(`${tool} is not installed: apt-get install -y ${tool}`);
      }
    }
  });
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((server) => new Promise((closed) => server.close(closed))));
  });

  it('waits for the cluster, then installs the ILM policy and the index template from the files', async () => {
    const es = await fakeElasticsearch({ healthyAfter: 1 });
    servers.push(es.server);

    const result = await runSetup(es.url);

    expect(result.output).toContain('done');
    expect(result.code).toBe(0);
    expect(es.policies.get('vigil-logs')).toEqual(POLICY);
    expect(es.templates.get('logs-vigil')).toEqual(TEMPLATE);
    expect(es.calls.filter((call) => call.endsWith('_rollover'))).toEqual([]);
  });

  it('is idempotent and rolls over a data stream created before the template, once', async () => {
    const es = await fakeElasticsearch({ dataStreams: ['logs-vigil-default'] });
    servers.push(es.server);

    const first = await runSetup(es.url);
    const second = await runSetup(es.url);

    expect([first.code, second.code]).toEqual([0, 0]);
    expect(es.calls.filter((call) => call.endsWith('_rollover'))).toEqual([
      'POST /logs-vigil-default/_rollover',
    ]);
    expect(es.calls.filter((call) => call.startsWith('PUT'))).toEqual([
      'PUT /_ilm/policy/vigil-logs',
      'PUT /_index_template/logs-vigil',
      'PUT /_ilm/policy/vigil-logs',
      'PUT /_index_template/logs-vigil',
    ]);
  });

  it('fails loudly with Elasticsearch answer when the template is refused', async () => {
    const es = await fakeElasticsearch({ rejectTemplate: true });
    servers.push(es.server);

    const result = await runSetup(es.url);

    expect(result.code).not.toBe(0);
    expect(result.output).toContain('HTTP 400');
    expect(result.output).toContain('unknown setting [x]');
  });

  it('the index template maps logs-vigil-* as a data stream above the built-in logs template', () => {
    const template = TEMPLATE as { index_patterns: string[]; data_stream?: object; priority: number };
    expect(template.index_patterns).toEqual(['logs-vigil-*']);
    expect(template.data_stream).toBeDefined();
    // The built-in `logs` template (logs-*-*) has priority 100.
    expect(template.priority).toBeGreaterThan(100);
    expect(JSON.stringify(TEMPLATE)).toContain('"index.lifecycle.name":"vigil-logs"');
  });

  it('passes shellcheck', () => {
    const which = spawnSync('sh', ['-c', 'command -v shellcheck']);
    if (which.status !== 0) throw new Error('shellcheck is not installed: apt-get install -y shellcheck');
    const result = spawnSync('shellcheck', [SCRIPT], { encoding: 'utf8' });
    expect(result.stdout).toBe('');
    expect(result.status).toBe(0);
  });
});
