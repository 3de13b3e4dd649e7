/** @jest-environment ./test/support/onnxruntime.environment.js */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { type BrowserContext, chromium, type Locator, type Page } from 'playwright-core';
import { createApp } from '../../src/app';
import { makeConfig } from '../../src/config/config';
import { MonitoringService } from '../../src/monitoring/monitoring.service';
import { PredictionRecorder } from '../../src/monitoring/prediction-recorder.service';
import { RegistryService } from '../../src/registry/registry.service';
import { generateCredit } from '../../src/training/datasets/credit.dataset';

/**
 * The web app in a real headless Chromium against the real API: predict, feedback, promotion with and
 * without the admin token, the health page, keyboard use. Screenshots go to test-artifacts/web/.
 */
const ROOT = join(__dirname, '../..');
const MODELS_DIR = join(ROOT, 'models');
const ARTIFACTS = join(ROOT, 'test-artifacts/web');
const CHROMIUM = '/usr/bin/chromium';
const TOKEN = 'web-e2e-admin-token-0123456789';
const GRAFANA_URL = 'http://grafana.test:3000';

jest.setTimeout(60_000);

// Browser globals used by the functions that run in the page (this project compiles without the DOM lib).
interface BrowserElement {
  textContent: string | null;
  tagName: string;
}
declare const document: {
  activeElement: BrowserElement | null;
  documentElement: { scrollWidth: number };
  cookie: string;
};
declare const window: { innerWidth: number };
declare const localStorage: Record<string, string>;
declare const sessionStorage: Record<string, string>;
declare function getComputedStyle(element: BrowserElement): { outlineStyle: string };

/** Waits until `locator` shows `expected` (Playwright's own `expect` is not Jest's); fails with what it shows. */
async function expectText(locator: Locator, expected: string | RegExp, timeout = 10_000): Promise<void> {
  try {
    await locator.filter({ hasText: expected }).first().waitFor({ timeout });
  } catch {
    throw new Error(
      `expected ${String(locator)} to show ${String(expected)}; it shows ${JSON.stringify(await locator.allTextContents())}`,
    );
  }
}

function buildWebApp(): void {
  // Always from the current sources: a stale web/dist would test old code.
  execFileSync(
    process.execPath,
    [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', 'web/tsconfig.build.json'],
    {
      cwd: ROOT,
      stdio: 'pipe',
    },
  );
  execFileSync(process.execPath, ['web/copy-assets.mjs'], { cwd: ROOT, stdio: 'pipe' });
}

/**
 * WCAG contrast of every visible text in the page (or in the open dialog): text colour against the
 * first opaque background up the tree; 4.5:1, or 3:1 for large text. Returns the offenders.
 * A string: it runs in the browser, and this project compiles without the DOM lib.
 */
const LOW_CONTRAST_TEXTS = `(() => {
  const parse = (colour) => {
    const match = /rgba?\\(([^)]+)\\)/.exec(colour);
    if (!match) return null;
    const parts = match[1].split(/[\\s,\\/]+/).filter(Boolean).map(Number);
    return { r: parts[0], g: parts[1], b: parts[2], a: parts.length > 3 ? parts[3] : 1 };
  };
  const luminance = ({ r, g, b }) => {
    const linear = (value) => {
      const v = value / 255;
      return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4;
    };
    return 0.2126 * linear(r) + 0.7152 * linear(g) + 0.0722 * linear(b);
  };
  const background = (element) => {
    for (let node = element; node; node = node.parentElement) {
      const colour = parse(getComputedStyle(node).backgroundColor);
      if (colour && colour.a >= 0.99) return colour;
    }
    return { r: 255, g: 255, b: 255, a: 1 };
  };
  const scope = document.querySelector('dialog[open]') || document.body;
  const offenders = [];
  for (const element of scope.querySelectorAll('*')) {
    if (![...element.childNodes].some((node) => node.nodeType === 3 && node.textContent.trim())) continue;
    if (element.getClientRects().length === 0 || element.closest('[aria-hidden="true"], .sr-only, button:disabled')) continue;
    const style = getComputedStyle(element);
    if (style.visibility === 'hidden') continue;
    const a = luminance(parse(style.color));
    const b = luminance(background(element));
    const ratio = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
    const size = parseFloat(style.fontSize);
    const large = size >= 24 || (Number(style.fontWeight) >= 700 && size >= 18.66);
    if (ratio < (large ? 3 : 4.5))
      offenders.push(element.tagName + ' "' + element.textContent.trim().slice(0, 40) + '" ' + ratio.toFixed(2));
  }
  return offenders;
})()`;

describe('web app (e2e, headless Chromium)', () => {
  let app: NestFastifyApplication;
  let dataDir: string;
  let profileDir: string;
  let context: BrowserContext;
  let page: Page;
  let base: string;
  const pageErrors: string[] = [];

  /** A fresh document each time: from another hash of the same app, goto would only change the hash. */
  const visit = async (route: string): Promise<void> => {
    await page.goto('about:blank');
    await page.goto(`${base}/${route}`);
  };
  /** A screenshot for a person to look at, and the contrast of what it shows for the test to check. */
  const screenshot = async (name: string): Promise<void> => {
    await page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });
    expect({ page: name, lowContrast: await page.evaluate<string[]>(LOW_CONTRAST_TEXTS) }).toEqual({
      page: name,
      lowContrast: [],
    });
  };

  beforeAll(async () => {
    if (!existsSync(CHROMIUM))
      throw new Error(`Chromium is missing at ${CHROMIUM}: install it with "apt-get install -y chromium"`);
    buildWebApp();
    mkdirSync(ARTIFACTS, { recursive: true });
    dataDir = mkdtempSync(join(tmpdir(), 'vigil-web-e2e-'));
    profileDir = mkdtempSync(join(tmpdir(), 'vigil-web-chromium-'));
    app = await createApp(
      makeConfig({
        DATA_DIR: dataDir,
        MODELS_DIR,
        ADMIN_TOKEN: TOKEN,
        ACCESS_LOG: false,
        PREDICTION_LOG: false,
        EVALUATION_INTERVAL_MS: 0,
        GRAFANA_URL,
        LOG_LEVEL: 'error',
        OTEL_SDK_DISABLED: true,
      }),
    );
    await app.listen({ port: 0, host: '127.0.0.1' });
    base = (await app.getUrl()).replace('[::1]', '127.0.0.1');
    const deadline = Date.now() + 20_000;
    while ((await fetch(`${base}/health/ready`)).status !== 200) {
      if (Date.now() > deadline) throw new Error('the API did not become ready');
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    context = await chromium.launchPersistentContext(profileDir, {
      executablePath: CHROMIUM,
      headless: true,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        // A host name that is not loopback-trusted by the browser, still answered on this machine.
        '--host-resolver-rules=MAP vigil.test 127.0.0.1',
      ],
      viewport: { width: 1280, height: 900 },
    });
    page = context.pages()[0] ?? (await context.newPage());
    page.on('pageerror', (error) => pageErrors.push(`pageerror: ${error.message}`));
    page.on('console', (message) => {
      // The browser logs every 4xx answer; those are expected here (401, 409). CSP refusals and script errors are not.
      if (message.type() === 'error' && !message.text().startsWith('Failed to load resource'))
        pageErrors.push(`console: ${message.text()}`);
    });
  });

  afterAll(async () => {
    await context?.close();
    await app?.close();
    rmSync(dataDir, { recursive: true, force: true });
    rmSync(profileDir, { recursive: true, force: true });
  });

  it('serves the app at / with the security headers, and keeps the API 404s for other paths', async () => {
    const index = await fetch(`${base}/`);
    expect(index.status).toBe(200);
    expect(index.headers.get('content-type')).toMatch(/text\/html/);
    expect(index.headers.get('content-security-policy')).toMatch(/script-src 'self'/);
    expect(await index.text()).toContain('<script type="module" src="js/main.js"></script>');
    const script = await fetch(`${base}/js/main.js`);
    expect(script.status).toBe(200);
    expect(script.headers.get('content-type')).toMatch(/javascript/);

    const unknown = await fetch(`${base}/no-such-page`);
    expect(unknown.status).toBe(404);

    const config = await (await fetch(`${base}/v1/ui/config`)).json();
    expect(config).toMatchObject({ grafanaUrl: GRAFANA_URL, defaultModel: 'iris', serviceName: 'vigil' });
  });

  it('predicts from a form generated from the Production signature, with client-side checks', async () => {
    await visit('#/predict/credit');
    const age = page.getByLabel(/^Age/);
    await age.waitFor();
    // Training range as a hint, physical bounds as min/max.
    await expect(page.locator('#feature-age-hint').textContent()).resolves.toContain(
      'Seen in training: 18 to 85 · allowed: 18 to 100 · whole number',
    );
    await expect(age.getAttribute('max')).resolves.toBe('100');
    await expect(page.locator('#feature-employment_type option').allTextContents()).resolves.toContain(
      'Self employed',
    );

    // Refused before anything is sent, with the server's wording.
    await age.fill('150');
    await page.getByLabel(/^Loan amount/).fill('');
    await page.getByRole('button', { name: 'Predict', exact: true }).click();
    const summary = page.getByRole('alert').filter({ hasText: 'Please correct 2 fields' });
    await summary.waitFor();
    await expect(summary.textContent()).resolves.toContain('Age must be <= 100');
    await expect(summary.textContent()).resolves.toContain('Loan amount is required');
    await expect(age.getAttribute('aria-invalid')).resolves.toBe('true');
    await expect(page.locator('#prediction-result').textContent()).resolves.toBe('');
    await screenshot('predict-invalid');

    // Accepted; a value outside the training range is flagged by the server.
    await age.fill('41');
    await page.getByLabel(/^Loan amount/).fill('10050');
    await page.getByLabel(/^Annual income/).fill('450000');
    await page.getByLabel(/^Employment type/).selectOption('self_employed');
    await page.getByRole('button', { name: 'Predict', exact: true }).click();
    const result = page.locator('#prediction-result');
    await result.getByRole('heading', { name: 'Prediction' }).waitFor();
    await expect(page.locator('#predicted-label').textContent()).resolves.toMatch(/^[01]$/);
    const bars = result.locator('.bar-row');
    await expect(bars.count()).resolves.toBe(2);
    const shares = (await result.locator('.bar-value').allTextContents()).map((text) => parseFloat(text));
    expect(shares[0]! + shares[1]!).toBeCloseTo(100, 0);
    await expect(result.textContent()).resolves.toContain(
      'annual_income outside training range [2800, 413000]',
    );
    await expect(page.locator('#request-id').textContent()).resolves.toMatch(/^[\w.:-]{8,}$/);
    // Announced in a short sentence (the result itself holds the feedback form).
    await expect(page.locator('#prediction-announcement').getAttribute('aria-live')).resolves.toBe('polite');
    await expect(page.locator('#prediction-announcement').textContent()).resolves.toMatch(
      /^Predicted default: [01], probability \d+\.\d %\. 1 warning from the server\.$/,
    );
    await screenshot('predict-result');
  });

  it('sends feedback for the prediction and shows the feedback count going up', async () => {
    const count = page.locator('#feedback-count');
    await expectText(count, /in the monitoring window: 0 of [01]\./);
    await page.getByRole('button', { name: 'Send feedback' }).click();
    await expectText(page.locator('#feedback-status'), /Choose the true default first/);
    await page.getByRole('radio', { name: '1' }).check();
    await page.getByRole('button', { name: 'Send feedback' }).click();
    await expectText(
      page.locator('#feedback-status'),
      /Feedback recorded: the true default of this case is 1/,
    );
    await expectText(count, /in the monitoring window: 1 \(was 0\) of 1\./);
    await screenshot('predict-feedback');
  });

  it('promotes a version: 401 without the token, the gate refusal in words, then an audited override', async () => {
    const registry = app.get(RegistryService);
    const signature = JSON.parse(readFileSync(join(MODELS_DIR, 'credit/signature.json'), 'utf8'));
    const metrics = JSON.parse(readFileSync(join(MODELS_DIR, 'credit/metrics.json'), 'utf8'));
    await registry.registerVersion(
      {
        name: 'credit',
        onnx: readFileSync(join(MODELS_DIR, 'credit/model.onnx')),
        signature,
        metrics: { ...metrics, test: { ...metrics.test, roc_auc: 0.7 } },
        reference: JSON.parse(readFileSync(join(MODELS_DIR, 'credit/reference.json'), 'utf8')),
        stage: 'Staging',
        parentVersion: 1,
        description: 'retrained, worse',
      },
      'e2e',
    );

    await visit('#/models/credit');
    const versions = page.locator('table.versions');
    await versions.waitFor();
    await expect(versions.locator('tbody tr').count()).resolves.toBe(2);
    await expect(versions.textContent()).resolves.toContain('roc_auc (gate)');
    await screenshot('models');

    // No token: the API's 401 is shown as it states it, with what to do.
    await page.getByRole('button', { name: 'Promote v2 to Production' }).click();
    const dialog = page.getByRole('dialog');
    await expectText(dialog.getByRole('heading'), 'Promote credit v2 to Production');
    await dialog.getByRole('button', { name: 'Confirm' }).click();
    const error = page.locator('#action-error');
    await expectText(error, 'UNAUTHENTICATED (HTTP 401)');
    await expectText(error, 'This endpoint needs an admin token');
    await screenshot('models-401');
    await dialog.getByRole('button', { name: 'Cancel' }).click();

    // With the token: the promotion gate refuses, in words and numbers.
    await page.getByLabel('Admin token').fill(TOKEN);
    await page.getByLabel('Your name (optional)').fill('alice');
    await page.getByRole('button', { name: 'Promote v2 to Production' }).click();
    await dialog.getByLabel('Reason (written to the audit log)').fill('try the retrained model');
    await dialog.getByRole('button', { name: 'Confirm' }).click();
    await expectText(
      error,
      'The promotion gate kept credit version 2 out of Production: its roc_auc is 0.7, lower than the 0.8201 of the Production version 1 by 0.1201, more than the 0.01 the gate tolerates.',
    );
    await expectText(error, 'PROMOTION_REFUSED (HTTP 409)');
    await screenshot('models-refused');

    // Override with a reason: promoted, and the table, picker and audit log follow.
    await dialog.getByLabel(/Override the promotion gate/).check();
    await dialog.getByRole('button', { name: 'Confirm' }).click();
    await expectText(page.locator('#action-status'), /Done: credit v2 is now Production/);
    await dialog.waitFor({ state: 'hidden' });
    await expectText(versions.locator('tbody tr').first(), 'Production');
    await expectText(versions.locator('tbody tr').nth(1), 'Archived');
    await expectText(
      page.locator('table.audit'),
      'admin:alice moved v2 from Staging to Production, overriding the promotion gate',
    );
    expect(await page.locator('#model-select option[value="credit"]').textContent()).toBe('credit v2');
    expect((await registry.getProductionVersion('credit')).version).toBe(2);
    await screenshot('models-promoted');

    // The token lived in memory only.
    const stored = await page.evaluate(
      () => JSON.stringify({ ...localStorage, ...sessionStorage }) + document.cookie,
    );
    expect(stored).not.toContain(TOKEN);
    await page.reload();
    await page.locator('table.versions').waitFor();
    await expect(page.getByLabel('Admin token').inputValue()).resolves.toBe('');
  });

  it('shows drift, live quality, the latest evaluation and links to the report and the tools', async () => {
    // Traffic on the served version (v2), half of it labelled, and one scheduled evaluation.
    const rows = generateCredit({ rows: 120, seed: 11 }).rows;
    const predicted = await fetch(`${base}/v1/models/credit/predict`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ instances: rows.map((row) => row.features) }),
    });
    expect(predicted.status).toBe(200);
    const { predictions } = (await predicted.json()) as { predictions: { predictionId: string }[] };
    const ids = predictions.map((item) => item.predictionId);
    const feedback = await fetch(`${base}/v1/feedback`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        feedback: ids
          .slice(0, 60)
          .map((predictionId, index) => ({ predictionId, label: rows[index]!.label })),
      }),
    });
    expect(feedback.status).toBe(200);
    await app.get(PredictionRecorder).flushNow();
    expect(await app.get(MonitoringService).evaluateAndRecord('credit')).not.toBeNull();

    await visit('#/health/credit');
    await page.getByRole('heading', { name: 'Quality: training vs live' }).waitFor();
    const cards = page.locator('.cards');
    await expectText(cards, 'credit v2');
    await expectText(cards, '120 predictions');
    await expectText(cards, '60 with feedback');
    await expectText(cards, /No dataset drift|Dataset drift detected/);
    await expectText(cards, /on 60 predictions with feedback/);
    await screenshot('health');
    const drift = page.getByRole('region', { name: 'Drift per feature, drifted first' });
    await expect(drift.locator('tbody tr').count()).resolves.toBeGreaterThanOrEqual(11);
    await expectText(page.locator('dl.facts'), 'v2');
    await expect(
      page.getByRole('link', { name: 'Full monitoring report (HTML)' }).getAttribute('href'),
    ).resolves.toBe('/v1/models/credit/report');
    await expect(
      page.getByRole('link', { name: 'Grafana: model dashboard' }).getAttribute('href'),
    ).resolves.toBe(`${GRAFANA_URL}/d/vigil-model?var-model=credit`);
    await expect(page.getByRole('link', { name: 'Jaeger: traces' }).getAttribute('href')).resolves.toBe(
      'http://localhost:16686/search?service=vigil',
    );
  });

  it('works with the keyboard: skip link, page links, focus on the new page, visible focus', async () => {
    await visit('#/predict/credit');
    await page.getByLabel(/^Age/).waitFor();
    await page.keyboard.press('Tab');
    await expect(page.evaluate(() => document.activeElement?.textContent)).resolves.toBe('Skip to content');
    const outline = await page.evaluate(() => getComputedStyle(document.activeElement!).outlineStyle);
    expect(outline).toBe('solid');
    await page.keyboard.press('Tab'); // brand
    await page.keyboard.press('Tab'); // Predict
    await page.keyboard.press('Tab'); // Models
    await expect(page.evaluate(() => document.activeElement?.textContent)).resolves.toBe('Models');
    await page.keyboard.press('Enter');
    await expectText(page.locator('h1'), 'Models');
    await expect(page.evaluate(() => document.activeElement?.tagName)).resolves.toBe('H1');
    await expectText(page.locator('a[aria-current="page"]'), 'Models');

    // The prediction form submits with Enter from a field.
    await visit('#/predict/credit');
    await page.getByLabel(/^Age/).focus();
    await page.keyboard.press('Enter');
    await page.locator('#predicted-label').waitFor();
    expect(pageErrors).toEqual([]);
  });

  it('loads over plain http under a host name (regression: the CSP upgraded every script to https)', async () => {
    const csp = (await fetch(`${base}/`)).headers.get('content-security-policy');
    expect(csp).not.toContain('upgrade-insecure-requests');
    await page.goto('about:blank');
    await page.goto(`${base.replace('127.0.0.1', 'vigil.test')}/#/predict/credit`);
    await page.getByLabel(/^Age/).waitFor();
  });

  it('fits a phone-sized screen without horizontal scrolling', async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    await visit('#/predict/credit');
    await page.getByLabel(/^Age/).waitFor();
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    expect(overflow).toBeLessThanOrEqual(0);
    await screenshot('predict-mobile');
  });
});
