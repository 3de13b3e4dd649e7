import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

// Smoke test of the benchmark harness itself: one tiny floor scenario (about 3 s) must produce a
// well-formed result. No timing is asserted: figures on a shared 2-core machine are not test material.
const ROOT = join(__dirname, '..', '..');

interface BenchScenario {
  id: string;
  rps: number;
  requests: number;
  errorCount: number;
  latencyMs: { p50: number; p95: number; p99: number };
  server: { rssPeakMb: number; cpuSeconds: number; stealPct: number | null };
  perRound: { rps: number; p99: number; cpuUsPerRequest: number | null; stealPct: number | null }[];
}

describe('bench harness (smoke)', () => {
  let out: string;

  beforeEach(() => {
    out = mkdtempSync(join(tmpdir(), 'vigil-bench-smoke-'));
  });
  afterEach(() => {
    rmSync(out, { recursive: true, force: true });
  });

  // wrk is what `npm run bench` picks (scripts/install-system-deps.sh installs it); autocannon is the
  // fallback where wrk is missing. Both must give a well-formed result.
  it.each(['wrk', 'autocannon'])(
    'runs one floor scenario with %s and writes JSON, markdown and SVG',
    (loadgen) => {
      const run = spawnSync(
        process.execPath,
        [
          'bench/run.mjs',
          '--filter',
          '^floor\\.iris-1row\\.c1$',
          '--duration',
          '1',
          '--warmup',
          '0',
          '--no-build',
          '--no-extras',
          '--loadgen',
          loadgen,
          '--out',
          out,
        ],
        { cwd: ROOT, encoding: 'utf8', timeout: 60_000 },
      );
      expect({ status: run.status, stderr: run.status === 0 ? '' : run.stderr }).toEqual({
        status: 0,
        stderr: '',
      });

      const files = readdirSync(out).sort();
      const json = files.find((file) => file.endsWith('.json'));
      expect(json).toBeDefined();
      const stem = json!.replace(/\.json$/, '');
      expect(files).toEqual([`${stem}.json`, `${stem}.md`, `${stem}.svg`]);

      const report = JSON.parse(readFileSync(join(out, json!), 'utf8'));
      expect(report.schemaVersion).toBe(1);
      expect(report.options.loadGenerator).toBe(loadgen);
      expect(report.failures).toEqual([]);
      expect(report.scenarios).toHaveLength(1);
      const [scenario] = report.scenarios as BenchScenario[];
      expect(scenario!.id).toBe('floor.iris-1row.c1');
      expect(scenario!.requests).toBeGreaterThan(0);
      expect(scenario!.rps).toBeGreaterThan(0);
      expect(scenario!.errorCount).toBe(0);
      expect(scenario!.latencyMs.p50).toBeLessThanOrEqual(scenario!.latencyMs.p99);
      expect(scenario!.server.rssPeakMb).toBeGreaterThan(0);
      // The hypervisor's share of the window (/proc/stat steal): a percentage, 0 on a quiet machine.
      expect(scenario!.server.stealPct).toBeGreaterThanOrEqual(0);
      expect(scenario!.server.stealPct).toBeLessThanOrEqual(100);
      expect(scenario!.perRound).toEqual([
        {
          rps: scenario!.rps,
          p99: scenario!.latencyMs.p99,
          cpuUsPerRequest: expect.any(Number),
          stealPct: scenario!.server.stealPct,
        },
      ]);
      expect(Array.isArray(report.targets)).toBe(true);

      const markdown = readFileSync(join(out, `${stem}.md`), 'utf8');
      expect(markdown).toContain('| floor.iris-1row.c1 |');
      const svg = readFileSync(join(out, `${stem}.svg`), 'utf8');
      expect(svg.startsWith('<svg ')).toBe(true);
      expect(svg.trimEnd().endsWith('</svg>')).toBe(true);
    },
    60_000,
  );

  it('reads each absolute target against the floor of the same run, and says how fast the host was', () => {
    const scenario = (
      id: string,
      rps: number,
      rowsPerRequest: number,
      p99: number,
      ratioToFloor: number | null,
    ) => ({
      id,
      profile: id.split('.')[0],
      rps,
      rowsPerSecond: rps * rowsPerRequest,
      ratioToFloor,
      latencyMs: { p50: p99 / 3, p95: p99 / 2, p99 },
      errorCount: 0,
      server: { cpuCores: 1, cpuUsPerRequest: 60, rssPeakMb: 200, stealPct: 0 },
      meanBatchRows: null,
      eventLoopLagMaxMs: id.startsWith('floor.') ? null : p99 * 2,
      perRound: [],
    });
    const report = {
      startedAt: '2026-11-24T00:00:00.000Z',
      git: { commit: 'abc1234', dirty: false },
      host: { cores: 2, cpuModel: 'test', node: 'v20' },
      options: { loadGenerator: 'wrk', pinning: {}, durationSeconds: 5, warmupSeconds: 2, rounds: 1 },
      scenarios: [
        scenario('floor.iris-1row.c50', 16_000, 1, 8, null),
        scenario('floor.iris-100rows.c16', 3_000, 100, 9, null),
        scenario('defaults.iris-1row.c50', 15_000, 1, 12, 0.94),
        scenario('defaults.iris-100rows.c16', 2_100, 100, 20, 0.7),
        scenario('defaults.credit-1row.c50', 12_000, 1, 9, null),
        scenario('evaluating.credit-1row.c50', 11_000, 1, 14, null),
      ],
      startup: { byProfile: {} },
      extras: {},
      profiles: {},
      failures: [],
    };
    const script =
      "import('./bench/lib/report.mjs').then(({ evaluateTargets, renderMarkdown }) => {" +
      ' const report = JSON.parse(process.argv[1]); report.targets = evaluateTargets(report);' +
      " process.stdout.write(JSON.stringify({ targets: report.targets, markdown: renderMarkdown(report, 'x.svg') }));" +
      '});';
    const run = spawnSync(process.execPath, ['-e', script, JSON.stringify(report)], {
      cwd: ROOT,
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(run.stderr).toBe('');
    const { targets, markdown } = JSON.parse(run.stdout) as {
      targets: { name: string; value: number | null; floor: number | null; pass: boolean | null }[];
      markdown: string;
    };
    const target = (name: string) => targets.find((item) => item.name === name);
    expect(target('iris: defaults p99 ≤ 10 ms (50 conns)')).toMatchObject({
      value: 12,
      floor: 8,
      pass: false,
    });
    expect(target('iris: batch of 100 rows/s')).toMatchObject({ value: 210_000, floor: 300_000, pass: true });
    // Relative targets need no floor column: the ratio is already to the floor.
    expect(target('iris: defaults ≥ 50 % of floor (50 conns)')).toMatchObject({ value: 0.94, floor: null });
    // Not measured in this run: neither a figure nor a floor.
    expect(target('credit: batch of 100 rows/s')).toMatchObject({
      value: null,
      floor: null,
      pass: null,
    });
    expect(markdown).toContain(
      'Host: the floor served 16,000 iris single rows a second at 50 connections (p99 8.00 ms), 0.50 of the ~32,000',
    );
    expect(markdown).toContain(
      '| iris: defaults p99 ≤ 10 ms (50 conns) | ≤ 10 ms | 12 ms | 8 ms | **miss** |',
    );
    expect(markdown).toContain(
      '| iris: batch of 100 rows/s | ≥ 200,000 rows/s | 210,000 rows/s | 300,000 rows/s | pass |',
    );
    // The longest event-loop delay: a column for each Vigil scenario, and serving while evaluating
    // set beside the defaults.
    expect(markdown).toContain('| defaults.iris-1row.c50 | 15,000 |');
    expect(markdown).toMatch(/\| defaults\.iris-1row\.c50 \|.*\| 24\.0 \| 0\.0 \|$/m);
    expect(markdown).toMatch(/\| floor\.iris-1row\.c50 \|.*\| – \| 0\.0 \|$/m);
    expect(markdown).toContain('## Serving while evaluating (no issue 11 target)');
    expect(markdown).toContain('| req/s | 12,000 | 11,000 |');
    expect(markdown).toContain('| p99 ms | 9.00 | 14.00 |');
    expect(markdown).toContain('| longest event-loop delay ms | 18.0 | 28.0 |');
  });

  it('notes an event-loop stall with the time the main thread ran and waited, then tabulates stalls', () => {
    interface Stall {
      at: number;
      gapMs: number;
      ranMs: number;
      waitedMs: number;
      gcMs: number;
    }
    /** Runs `script` under the stall hook; what the hook wrote, and its longest stall. */
    const underHook = (script: string) => {
      const file = join(out, 'stalls.json');
      const run = spawnSync(
        process.execPath,
        ['--require', join(ROOT, 'bench', 'lib', 'stall-hook.cjs'), '-e', script],
        { cwd: ROOT, encoding: 'utf8', timeout: 30_000, env: { ...process.env, STALL_HOOK_FILE: file } },
      );
      expect(run.status).toBe(0);
      const written = JSON.parse(readFileSync(file, 'utf8')) as { thresholdMs: number; stalls: Stall[] };
      return { ...written, longest: written.stalls.reduce((a, b) => (b.gapMs > a.gapMs ? b : a)) };
    };

    // A 30-ms busy loop keeps the 1-ms timer from running: one stall of at least 30 ms, which the main
    // thread spent running (or, on a busy machine, partly waiting for the core).
    const busy = underHook(
      'setTimeout(() => { const end = performance.now() + 30; while (performance.now() < end); setTimeout(() => {}, 20); }, 50);',
    );
    expect(busy.thresholdMs).toBe(4);
    expect(busy.longest.gapMs).toBeGreaterThanOrEqual(30);
    expect(busy.longest.ranMs + busy.longest.waitedMs).toBeCloseTo(busy.longest.gapMs, 1);
    expect(busy.longest.ranMs).toBeGreaterThan(0);
    expect(Math.abs(busy.longest.at - Date.now())).toBeLessThan(60_000);

    // Allocating for 40 ms in an immediate (where the predict path answers a batch): the collector
    // runs within the stall, and reports its pauses only after the timer has noted the stall.
    const allocating = underHook(
      'setTimeout(() => setImmediate(() => { const keep = []; const end = performance.now() + 40;' +
        ' while (performance.now() < end) keep.push(new Array(100).fill(Math.random()));' +
        ' setTimeout(() => keep.length, 50); }), 50);',
    ).longest;
    expect(allocating.gapMs).toBeGreaterThanOrEqual(40);
    expect(allocating.gcMs).toBeGreaterThan(0);
    expect(allocating.gcMs).toBeLessThanOrEqual(allocating.gapMs);

    // Two seconds of window: 4 stalls of 5 ms (half of one waiting) and one of 20 ms with 8 ms of GC;
    // one stall after the window is not counted.
    const at = 1_000_500;
    const synthetic = [
      ...[0, 1, 2].map(() => ({ at, gapMs: 5, ranMs: 5, waitedMs: 0, gcMs: 0 })),
      { at, gapMs: 5, ranMs: 2.5, waitedMs: 2.5, gcMs: 0 },
      { at, gapMs: 20, ranMs: 10, waitedMs: 10, gcMs: 8 },
      { at: 1_003_000, gapMs: 50, ranMs: 50, waitedMs: 0, gcMs: 0 },
    ];
    const script =
      "import('./bench/lib/stalls.mjs').then(({ stallTable }) =>" +
      ' process.stdout.write(JSON.stringify(stallTable(JSON.parse(process.argv[1]), 1_000_000, 1_002_000))));';
    const table = spawnSync(process.execPath, ['-e', script, JSON.stringify(synthetic)], {
      cwd: ROOT,
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(JSON.parse(table.stdout)).toEqual([
      '| 4–6 ms | 2.0 | 10.0 | 88 % | 0 % | 13 % |',
      '| 6–10 ms | 0.0 | 0.0 | – | – | – |',
      '| > 10 ms | 0.5 | 10.0 | 50 % | 40 % | 50 % |',
    ]);
  });

  it('summarises a .cpuprofile into top self-time functions, areas and folded stacks', () => {
    // root → handler (dist/prediction) → run (onnxruntime-node) → native; plus GC and idle samples.
    const frame = (id: number, functionName: string, url: string, children: number[] = []) => ({
      id,
      callFrame: { functionName, url, scriptId: '0', lineNumber: 9, columnNumber: 0 },
      hitCount: 0,
      children,
    });
    const profile = {
      nodes: [
        frame(1, '(root)', '', [2, 5, 6]),
        frame(2, 'handle', 'file:///app/dist/prediction/prediction.service.js', [3]),
        frame(3, 'run', 'file:///app/node_modules/onnxruntime-node/dist/backend.js', [4]),
        frame(4, '', ''),
        frame(5, '(garbage collector)', ''),
        frame(6, '(idle)', ''),
      ],
      startTime: 0,
      endTime: 1000,
      samples: [4, 4, 4, 2, 5, 6, 6, 6, 4, 4],
      timeDeltas: [100, 100, 100, 100, 100, 100, 100, 100, 100, 100],
    };
    const file = join(out, 'synthetic.cpuprofile');
    writeFileSync(file, JSON.stringify(profile));
    const run = spawnSync(process.execPath, ['bench/profile.mjs', '--summarize', file], {
      cwd: ROOT,
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(run.status).toBe(0);

    const summary = JSON.parse(readFileSync(join(out, 'synthetic.summary.json'), 'utf8'));
    // 10 samples of 100 µs; the last one has no successor and is weighted by the mean (100 µs).
    expect(summary.busyMs + summary.idleMs).toBe(1);
    const [hottest] = summary.functions;
    expect(hottest.category).toBe('onnxruntime-node (native)');
    expect(hottest.selfPct).toBeCloseTo(71.4, 1);
    expect(summary.categories.map((entry: { category: string }) => entry.category)).toEqual([
      'onnxruntime-node (native)',
      'vigil: prediction',
      'v8: garbage collector',
    ]);
    const folded = readFileSync(join(out, 'synthetic.folded'), 'utf8');
    expect(folded).toContain(
      'handle dist/prediction/prediction.service.js:10;run onnxruntime-node/dist/backend.js:10;(anonymous) 500',
    );
    expect(existsSync(join(out, 'synthetic.svg'))).toBe(true);
  });
});
