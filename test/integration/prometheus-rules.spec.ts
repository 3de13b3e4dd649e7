import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { load as loadYaml } from 'js-yaml';
import {
  loadRules,
  PROMETHEUS_DIR,
  RULE_TESTS_DIR,
  ruleFiles,
  RUNBOOK,
  runTool,
} from './metrics-stack.support';

const SEVERITIES = ['critical', 'warning', 'info'];

interface RuleTestFile {
  rule_files: string[];
  tests: { name: string; alert_rule_test?: { alertname: string; exp_alerts?: unknown[] }[] }[];
}

function ruleTestFiles(): string[] {
  return readdirSync(RULE_TESTS_DIR)
    .filter((name) => name.endsWith('.test.yml'))
    .sort()
    .map((name) => join(RULE_TESTS_DIR, name));
}

/** GitHub's heading anchors: lower case, punctuation dropped, spaces to dashes. */
function runbookAnchors(): Set<string> {
  const anchors = new Set<string>();
  for (const line of readFileSync(RUNBOOK, 'utf8').split('\n')) {
    const heading = /^#{1,6}\s+(.+?)\s*$/.exec(line);
    if (heading === null) continue;
    anchors.add(
      heading[1]!
        .toLowerCase()
        .replace(/[^\w\- ]/g, '')
        .replace(/ /g, '-'),
    );
  }
  return anchors;
}

describe('Prometheus configuration (promtool)', () => {
  it('prometheus.yml is valid, rule files included', () => {
    const result = runTool('promtool', ['check', 'config', join(PROMETHEUS_DIR, 'prometheus.yml')]);
    expect(result.output).toContain('SUCCESS');
    expect(result.status).toBe(0);
    // The rule_files glob of prometheus.yml is relative to it and must find every rule file.
    for (const file of ruleFiles()) expect(result.output).toContain(file.slice(PROMETHEUS_DIR.length + 1));
  });

  it('rule files pass `promtool check rules` with every lint, lint errors fatal', () => {
    const result = runTool('promtool', ['check', 'rules', '--lint=all', '--lint-fatal', ...ruleFiles()]);
    expect(result.output).not.toContain('FAILED');
    expect(result.status).toBe(0);
  });

  it('rule unit tests pass (`promtool test rules`)', () => {
    const result = runTool('promtool', ['test', 'rules', ...ruleTestFiles()], RULE_TESTS_DIR);
    expect(result.output).not.toContain('FAILED');
    expect(result.status).toBe(0);
  });

  it('a wrong expectation makes `promtool test rules` fail (the unit tests can fail)', () => {
    const directory = mkdtempSync(join(tmpdir(), 'vigil-promtool-'));
    try {
      const original = readFileSync(join(RULE_TESTS_DIR, 'vigil-alerts.test.yml'), 'utf8');
      const mutated = original
        .replaceAll('../rules/', `${join(PROMETHEUS_DIR, 'rules')}/`)
        .replace('take up to 2.425s (threshold 1s)', 'take up to 2.5s (threshold 1s)');
      expect(mutated).not.toBe(original);
      writeFileSync(join(directory, 'mutated.test.yml'), mutated);
      const result = runTool('promtool', ['test', 'rules', 'mutated.test.yml'], directory);
      expect(result.output).toContain('FAILED');
      expect(result.status).not.toBe(0);
    } finally {
      rmSync(directory, { recursive: true, force: true });
    }
  });
});

describe('alerting rules', () => {
  const { alerting } = loadRules();
  const tests = ruleTestFiles().flatMap(
    (file) => (loadYaml(readFileSync(file, 'utf8')) as RuleTestFile).tests,
  );
  const alertTests = tests.flatMap((test) => test.alert_rule_test ?? []);

  it('exist, as the issue lists them', () => {
    const names = new Set(alerting.map((rule) => rule.alert));
    for (const expected of [
      'VigilHighLatency',
      'VigilHighErrorRatio',
      'VigilApiDown',
      'ContainerCpuNearLimit',
      'ContainerMemoryNearLimit',
      'VigilInferenceQueueSaturated',
      'VigilLogShippingDroppingEvents',
      'VigilModelDriftDetected',
      'VigilLiveQualityBelowThreshold',
      'VigilErrorBudgetBurn',
    ]) {
      expect(names).toContain(expected);
    }
  });

  it.each(
    alerting.map((rule) => [`${rule.alert} (${rule.labels.severity ?? 'no severity'})`, rule] as const),
  )('%s has a severity, a summary, a description and a runbook section', (_name, rule) => {
    expect(SEVERITIES).toContain(rule.labels.severity);
    expect(rule.annotations.summary?.length).toBeGreaterThan(10);
    expect(rule.annotations.description?.length).toBeGreaterThan(20);
    const runbook = /^docs\/runbook\.md#([\w-]+)$/.exec(rule.annotations.runbook_url ?? '');
    expect(runbook).not.toBeNull();
    expect(runbookAnchors()).toContain(runbook![1]);
  });

  it.each([...new Set(alerting.map((rule) => rule.alert))])(
    '%s has unit tests where it fires and where it stays silent',
    (alert) => {
      const cases = alertTests.filter((test) => test.alertname === alert);
      expect(cases.some((test) => (test.exp_alerts ?? []).length > 0)).toBe(true);
      expect(cases.some((test) => (test.exp_alerts ?? []).length === 0)).toBe(true);
    },
  );
});
