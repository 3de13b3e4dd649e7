import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dump as dumpYaml, load as loadYaml } from 'js-yaml';
import { ALERTMANAGER_CONFIG, freePort, requireTool, runTool } from './metrics-stack.support';

interface AlertmanagerConfig {
  route: {
    group_wait?: string;
    group_interval?: string;
    routes?: { group_wait?: string; group_interval?: string }[];
  };
  receivers: { name: string; webhook_configs?: { url: string }[]; email_configs?: unknown[] }[];
}
interface WebhookCall {
  path: string;
  body: { receiver: string; status: string; alerts: { labels: Record<string, string> }[] };
}
interface ApiAlert {
  labels: Record<string, string>;
  status: { state: string; inhibitedBy: string[] };
}

const routeOf = (...labels: string[]): string => {
  const result = runTool('amtool', [
    'config',
    'routes',
    'test',
    `--config.file=${ALERTMANAGER_CONFIG}`,
    ...labels,
  ]);
  expect(result.status).toBe(0);
  return result.stdout.trim();
};

describe('Alertmanager configuration (amtool)', () => {
  it('passes amtool check-config', () => {
    const result = runTool('amtool', ['check-config', ALERTMANAGER_CONFIG]);
    expect(result.output).toContain('SUCCESS');
    expect(result.status).toBe(0);
  });

  it('routes by severity: critical pages, warning to email, info nowhere, anything else to the team webhook', () => {
    expect(routeOf('alertname=VigilApiDown', 'severity=critical')).toBe('oncall-webhook');
    expect(routeOf('alertname=VigilModelDriftDetected', 'severity=warning')).toBe('team-email');
    expect(routeOf('alertname=Something', 'severity=info')).toBe('null');
    expect(routeOf('alertname=Something')).toBe('team-webhook');
  });

  it('holds no secret: placeholders only, no password or token', () => {
    const text = readFileSync(ALERTMANAGER_CONFIG, 'utf8');
    expect(text).not.toMatch(/auth_password|auth_secret|api_key|bearer_token|password:/i);
    const config = loadYaml(text) as AlertmanagerConfig;
    const hosts = config.receivers.flatMap((receiver) =>
      (receiver.webhook_configs ?? []).map((hook) => new URL(hook.url).hostname),
    );
    expect(hosts.every((host) => host.endsWith('.example.internal') || host.endsWith('.example.com'))).toBe(
      true,
    );
    expect(config.receivers.some((receiver) => (receiver.email_configs ?? []).length > 0)).toBe(true);
  });
});

describe('Alertmanager inhibition and webhook delivery (real alertmanager)', () => {
  let directory: string;
  let alertmanager: ChildProcess | undefined;
  let webhook: Server;
  let baseUrl: string;
  const calls: WebhookCall[] = [];
  let output = '';

  beforeAll(async () => {
    const binary = requireTool('prometheus-alertmanager');
    directory = mkdtempSync(join(tmpdir(), 'vigil-alertmanager-'));
    webhook = createServer((request, response) => {
      let body = '';
      request.on('data', (chunk: Buffer) => (body += chunk.toString()));
      request.on('end', () => {
        calls.push({ path: request.url ?? '', body: JSON.parse(body) as WebhookCall['body'] });
        response.end('ok');
      });
    });
    await new Promise<void>((resolve) => webhook.listen(0, '127.0.0.1', resolve));
    const address = webhook.address();
    if (address === null || typeof address === 'string') throw new Error('webhook did not listen');

    // The repo's configuration with the webhook hosts pointed at the local receiver and the waits
    // shortened; routes, receivers and inhibition rules are kept as they are.
    const config = loadYaml(readFileSync(ALERTMANAGER_CONFIG, 'utf8')) as AlertmanagerConfig;
    for (const receiver of config.receivers) {
      for (const hook of receiver.webhook_configs ?? []) {
        hook.url = `http://127.0.0.1:${address.port}${new URL(hook.url).pathname}`;
      }
    }
    for (const route of [config.route, ...(config.route.routes ?? [])]) {
      route.group_wait = '1s';
      route.group_interval = '1s';
    }
    const configFile = join(directory, 'alertmanager.yml');
    writeFileSync(configFile, dumpYaml(config));

    const port = await freePort();
    baseUrl = `http://127.0.0.1:${port}`;
    alertmanager = spawn(
      binary,
      [
        `--config.file=${configFile}`,
        `--storage.path=${join(directory, 'data')}`,
        `--web.listen-address=127.0.0.1:${port}`,
        '--cluster.listen-address=',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    alertmanager.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    alertmanager.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const deadline = Date.now() + 15_000;
    for (;;) {
      const ready = await fetch(`${baseUrl}/-/ready`).then(
        (response) => response.ok,
        () => false,
      );
      if (ready) break;
      if (Date.now() > deadline) throw new Error(`alertmanager did not start:\n${output}`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }, 30_000);

  afterAll(async () => {
    // Wait for Alertmanager to exit: it writes its data folder until then (ENOTEMPTY on removal).
    const exited =
      alertmanager && alertmanager.exitCode === null
        ? new Promise<void>((resolve) => alertmanager?.once('exit', () => resolve()))
        : Promise.resolve();
    alertmanager?.kill('SIGTERM');
    await exited;
    await new Promise<void>((resolve) => webhook.close(() => resolve()));
    rmSync(directory, { recursive: true, force: true, maxRetries: 5, retryDelay: 100 });
  });

  it('an instance that is down silences its own latency and error alerts, not those of other instances', async () => {
    const alert = (labels: Record<string, string>): unknown => ({
      labels: { job: 'vigil-api', ...labels },
      annotations: { summary: labels.alertname },
      startsAt: new Date().toISOString(),
    });
    const posted = await fetch(`${baseUrl}/api/v2/alerts`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify([
        alert({ alertname: 'VigilApiDown', severity: 'critical', instance: 'api-1:8080' }),
        alert({ alertname: 'VigilHighErrorRatio', severity: 'critical', instance: 'api-1:8080' }),
        alert({ alertname: 'VigilHighLatency', severity: 'warning', instance: 'api-1:8080' }),
        alert({ alertname: 'VigilHighErrorRatio', severity: 'critical', instance: 'api-2:8080' }),
      ]),
    });
    expect(posted.status).toBe(200);

    const deadline = Date.now() + 15_000;
    let states: Record<string, string> = {};
    for (;;) {
      const alerts = (await (await fetch(`${baseUrl}/api/v2/alerts`)).json()) as ApiAlert[];
      states = Object.fromEntries(
        alerts.map((item) => [`${item.labels.alertname}@${item.labels.instance}`, item.status.state]),
      );
      const delivered = calls.flatMap((call) => call.body.alerts.map((item) => item.labels.alertname));
      if (
        Object.keys(states).length === 4 &&
        delivered.includes('VigilApiDown') &&
        delivered.includes('VigilHighErrorRatio')
      ) {
        break;
      }
      if (Date.now() > deadline) break;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }

    expect(states).toEqual({
      'VigilApiDown@api-1:8080': 'active',
      'VigilHighErrorRatio@api-1:8080': 'suppressed',
      'VigilHighLatency@api-1:8080': 'suppressed',
      'VigilHighErrorRatio@api-2:8080': 'active',
    });
    // Pages reach the on-call webhook; the inhibited alert is never sent.
    const paged = calls
      .filter((call) => call.path === '/vigil/oncall')
      .flatMap((call) => call.body.alerts.map((item) => `${item.labels.alertname}@${item.labels.instance}`))
      .sort();
    expect(paged).toEqual(['VigilApiDown@api-1:8080', 'VigilHighErrorRatio@api-2:8080']);
    expect(calls.every((call) => call.body.receiver === 'oncall-webhook')).toBe(true);
  }, 30_000);
});
