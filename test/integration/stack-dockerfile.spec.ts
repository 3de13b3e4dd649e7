import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { validate, ValidationSeverity } from 'dockerfile-utils';

/**
 * The Dockerfile, linted without a Docker engine: dockerfile-utils (the VS Code Docker linter: syntax,
 * instruction arguments, flags) plus the house rules hadolint would enforce and the stack relies on.
 */
const ROOT = resolve(__dirname, '../..');
const dockerfile = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');
const dockerignore = readFileSync(join(ROOT, '.dockerignore'), 'utf8')
  .split('\n')
  .map((line) => line.trim())
  .filter((line) => line !== '' && !line.startsWith('#'));

interface Instruction {
  keyword: string;
  args: string;
  stage: number;
}

/** Instructions with continuation lines joined, comments dropped, tagged with their stage index. */
function instructions(text: string): Instruction[] {
  const joined = text.replace(/\\\n/g, ' ');
  const out: Instruction[] = [];
  let stage = -1;
  for (const line of joined.split('\n')) {
    const trimmed = line.trim();
    if (trimmed === '' || trimmed.startsWith('#')) continue;
    const match = /^(\w+)\s+(.*)$/.exec(trimmed);
    if (!match) continue;
    const keyword = match[1]!.toUpperCase();
    if (keyword === 'FROM') stage += 1;
    out.push({ keyword, args: match[2]!.replace(/\s+/g, ' '), stage });
  }
  return out;
}

const all = instructions(dockerfile);
const finalStage = Math.max(...all.map((item) => item.stage));
const final = all.filter((item) => item.stage === finalStage);

describe('Dockerfile', () => {
  it('passes dockerfile-utils with every rule as an error', () => {
    const error = ValidationSeverity.ERROR;
    const problems = validate(dockerfile, {
      deprecatedMaintainer: error,
      directiveCasing: error,
      emptyContinuationLine: error,
      instructionCasing: error,
      instructionCmdMultiple: error,
      instructionEntrypointMultiple: error,
      instructionHealthcheckMultiple: error,
      instructionJSONInSingleQuotes: error,
      instructionWorkdirRelative: error,
    });
    expect(
      problems.map((problem) => {
        const message = typeof problem.message === 'string' ? problem.message : problem.message.value;
        return `${problem.range.start.line + 1}: ${message}`;
      }),
    ).toEqual([]);
  });

  it('is multi-stage on an exactly pinned slim Node LTS base', () => {
    const bases = all.filter((item) => item.keyword === 'FROM').map((item) => item.args.split(' ')[0]!);
    expect(bases.length).toBeGreaterThanOrEqual(2);
    for (const base of bases) {
      expect(base).toMatch(/^node:(2[02468])\.\d+\.\d+-(bookworm|trixie)-slim(@sha256:[0-9a-f]{64})?$/);
    }
  });

  it('installs from the lock file, then keeps production dependencies only', () => {
    const runs = all.filter((item) => item.keyword === 'RUN').map((item) => item.args);
    // npm install, not npm ci: see the Makefile (the lock lists only the platform packages the mirror serves).
    expect(runs.some((run) => /npm install --no-audit --no-fund/.test(run))).toBe(true);
    expect(runs.some((run) => /npm (prune|ci)\b[^&]*--omit=dev/.test(run))).toBe(true);
    // hadolint DL3009 / DL3015: no recommends, no apt lists left in a layer.
    for (const run of runs.filter((item) => item.includes('apt-get install'))) {
      expect(run).toContain('--no-install-recommends');
      expect(run).toContain('rm -rf /var/lib/apt/lists/*');
    }
    // The final stage copies node_modules from the build stage: no compiler reaches the runtime image.
    expect(final.some((item) => item.keyword === 'RUN' && /apt-get|npm (ci|install)/.test(item.args))).toBe(
      false,
    );
  });

  it('keeps onnxruntime-node from downloading CUDA binaries (.npmrc copied before npm install)', () => {
    expect(readFileSync(join(ROOT, '.npmrc'), 'utf8')).toMatch(/^onnxruntime-node-install=skip$/m);
    const copyNpmrc = all.findIndex((item) => item.keyword === 'COPY' && item.args.includes('.npmrc'));
    const npmCi = all.findIndex((item) => item.keyword === 'RUN' && /npm install\b/.test(item.args));
    expect(copyNpmrc).toBeGreaterThanOrEqual(0);
    expect(copyNpmrc).toBeLessThan(npmCi);
  });

  it('runs as a non-root user with a readiness HEALTHCHECK and node (not npm) as the command', () => {
    const users = final.filter((item) => item.keyword === 'USER').map((item) => item.args);
    expect(users.length).toBeGreaterThan(0);
    expect(users[users.length - 1]).not.toMatch(/^(root|0)(:|$)/);
    const healthcheck = final.find((item) => item.keyword === 'HEALTHCHECK');
    expect(healthcheck?.args).toMatch(/CMD \["node", "-e", ".*\/health\/ready/);
    expect(healthcheck?.args).not.toMatch(/curl|wget/); // neither exists in a slim image
    const cmd = final.filter((item) => item.keyword === 'CMD').pop();
    expect(JSON.parse(cmd!.args)).toEqual(['node', '--v8-pool-size=2', 'dist/main.js']);
  });

  it('caps glibc malloc arenas at run time, and the benchmark and the soak run Vigil with the same value', () => {
    const env = final
      .filter((item) => item.keyword === 'ENV')
      .flatMap((item) => item.args.split(/\s+/))
      .find((pair) => pair.startsWith('MALLOC_ARENA_MAX='));
    expect(env).toBe('MALLOC_ARENA_MAX=2');
    const bench = readFileSync(join(ROOT, 'bench', 'lib', 'servers.mjs'), 'utf8');
    expect(bench).toContain(`MALLOC_ARENA_MAX: '${env!.split('=')[1]!}'`);
    const soak = readFileSync(join(ROOT, 'scripts', 'soak.mjs'), 'utf8');
    expect(soak).toContain(`MALLOC_ARENA_MAX: '${env!.split('=')[1]!}'`);
  });

  it('runs two V8 helper threads, and npm start, the benchmark and the soak start Vigil the same way', () => {
    const cmd = JSON.parse(final.filter((item) => item.keyword === 'CMD').pop()!.args) as string[];
    const flags = cmd.slice(1, cmd.indexOf('dist/main.js'));
    expect(flags).toEqual(['--v8-pool-size=2']);
    const scripts = (
      JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }
    ).scripts;
    expect(scripts.start).toBe(`node ${flags.join(' ')} dist/main.js`);
    const bench = readFileSync(join(ROOT, 'bench', 'lib', 'servers.mjs'), 'utf8');
    expect(bench).toContain(`argv = ['${flags[0]}', ...this.nodeArgs, ...nodeFlags, entry];`);
    const soak = readFileSync(join(ROOT, 'scripts', 'soak.mjs'), 'utf8');
    expect(soak).toContain(`spawn(process.execPath, ['${flags[0]}', join(ROOT, 'dist/main.js')]`);
  });

  it('writes only to the /data volume (read-only root filesystem)', () => {
    expect(final.some((item) => item.keyword === 'VOLUME' && item.args.includes('/data'))).toBe(true);
    expect(final.some((item) => item.keyword === 'ENV' && /DATA_DIR=\/data\b/.test(item.args))).toBe(true);
  });

  it('labels the image with OCI metadata and the model it serves, from build args', () => {
    const labels = final
      .filter((item) => item.keyword === 'LABEL')
      .map((item) => item.args)
      .join(' ');
    for (const key of [
      'org.opencontainers.image.source',
      'org.opencontainers.image.version',
      'org.opencontainers.image.revision',
      'org.opencontainers.image.created',
      'org.opencontainers.image.licenses',
    ]) {
      expect(labels).toContain(`${key}=`);
    }
    expect(labels).toMatch(/io\.vigil\.model\.name="\$\{MODEL_NAME\}"/);
    expect(labels).toMatch(/io\.vigil\.model\.version="\$\{MODEL_VERSION\}"/);
    const args = final.filter((item) => item.keyword === 'ARG').map((item) => item.args.split('=')[0]);
    expect(args).toEqual(expect.arrayContaining(['MODEL_NAME', 'MODEL_VERSION', 'VCS_REF', 'BUILD_DATE']));
  });

  it('copies only paths that exist and that .dockerignore lets through', () => {
    const copies = all.filter((item) => item.keyword === 'COPY' && !item.args.includes('--from='));
    expect(copies.length).toBeGreaterThan(0);
    for (const copy of copies) {
      const parts = copy.args.split(' ').filter((part) => !part.startsWith('--'));
      const sources = parts.slice(0, -1);
      for (const source of sources) {
        expect({ source, exists: existsSync(join(ROOT, source)) }).toEqual({ source, exists: true });
        const top = source.replace(/^\.\//, '').split('/')[0]!;
        expect({ source, ignored: dockerignore.includes(top) }).toEqual({ source, ignored: false });
      }
    }
    // The build context never carries local state or secrets.
    expect(dockerignore).toEqual(expect.arrayContaining(['.git', 'node_modules', 'dist', 'data', '.env']));
  });
});
