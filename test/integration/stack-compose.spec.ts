import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { isAbsolute, join, relative, resolve } from 'node:path';
import { load } from 'js-yaml';

/**
 * docker-compose.yml, checked without a Docker engine: Debian's `docker-compose config` parses and
 * resolves it (anchors, interpolation, relative paths), then the resolved model is checked here.
 */
const ROOT = resolve(__dirname, '../..');
const INSTALL = 'apt-get install -y docker-compose (or: make system-deps)';

interface Healthcheck {
  test?: string[] | string;
  disable?: boolean;
}
interface PortObject {
  published?: string | number;
  target?: number;
  host_ip?: string;
}
interface VolumeObject {
  type?: string;
  source?: string;
  target?: string;
}
interface Service {
  image?: string;
  build?: unknown;
  command?: string[] | string;
  entrypoint?: string[] | string;
  healthcheck?: Healthcheck;
  restart?: string;
  ports?: (string | PortObject)[];
  volumes?: (string | VolumeObject)[];
  networks?: Record<string, unknown> | string[];
  depends_on?: Record<string, { condition?: string }> | string[];
  deploy?: { resources?: { limits?: { cpus?: string | number; memory?: string } } };
  container_name?: string;
  read_only?: boolean;
  environment?: Record<string, string | number | null>;
}
interface ComposeModel {
  services: Record<string, Service>;
  networks?: Record<string, unknown>;
  volumes?: Record<string, unknown>;
}

const EXPECTED_SERVICES = [
  'api',
  'trainer',
  'postgres',
  'prometheus',
  'alertmanager',
  'grafana',
  'elasticsearch',
  'elasticsearch-setup',
  'kibana',
  'kibana-setup',
  'otel-collector',
  'jaeger',
  'cadvisor',
  'node-exporter',
];
const ONE_SHOT = new Set(['trainer', 'elasticsearch-setup', 'kibana-setup']);
/** Long-running services Docker cannot probe from inside, and why (documented in docker-compose.yml). */
const NO_HEALTHCHECK_POSSIBLE: Record<string, string> = {
  'otel-collector': 'distroless image: no shell or HTTP client; Prometheus scrapes it instead',
};

function dockerCompose(args: string[]): string {
  const which = spawnSync('sh', ['-c', 'command -v docker-compose'], { encoding: 'utf8' });
  if (which.status !== 0) throw new Error(`docker-compose is not installed: ${INSTALL}`);
  return execFileSync('docker-compose', args, {
    cwd: ROOT,
    encoding: 'utf8',
    // Interpolation must not depend on the caller's shell: defaults from the file only.
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/tmp' },
  });
}

/** `host_ip:published:target/proto` or `published:target` or a long-syntax object -> host ports. */
function hostPorts(port: string | PortObject): number[] {
  let published: string | undefined;
  if (typeof port === 'string') {
    const withoutProto = port.split('/')[0] ?? '';
    const parts = withoutProto.split(':');
    published = parts.length >= 2 ? parts[parts.length - 2] : undefined;
  } else if (port.published !== undefined) {
    published = String(port.published);
  }
  if (published === undefined || published === '') return [];
  const [from, to] = published.split('-').map(Number);
  if (from === undefined || Number.isNaN(from)) throw new Error(`unparsable port ${JSON.stringify(port)}`);
  const last = to ?? from;
  return Array.from({ length: last - from + 1 }, (_unused, index) => from + index);
}

interface Mount {
  type: 'bind' | 'volume' | 'tmpfs';
  source: string;
  target: string;
}
function mountOf(volume: string | VolumeObject): Mount {
  if (typeof volume !== 'string') {
    return {
      type: (volume.type ?? 'volume') as Mount['type'],
      source: volume.source ?? '',
      target: volume.target ?? '',
    };
  }
  const [source = '', target = ''] = volume.split(':');
  const isPath = source.startsWith('/') || source.startsWith('.');
  return { type: isPath ? 'bind' : 'volume', source, target };
}

function list(value: string[] | string | undefined): string[] {
  if (value === undefined) return [];
  return Array.isArray(value) ? value : value.split(/\s+/);
}

describe('docker-compose.yml', () => {
  let model: ComposeModel;

  beforeAll(() => {
    model = load(dockerCompose(['config'])) as ComposeModel;
  });

  it('is valid for docker-compose (config --quiet exits 0)', () => {
    expect(() => dockerCompose(['config', '--quiet'])).not.toThrow();
  });

  it('declares exactly the services of the stack', () => {
    expect(Object.keys(model.services).sort()).toEqual([...EXPECTED_SERVICES].sort());
  });

  it('pins every third-party image to an exact version (no latest, no floating major)', () => {
    for (const [name, service] of Object.entries(model.services)) {
      if (service.build !== undefined) continue; // built here: vigil:<tag>
      const image = service.image ?? '';
      const digest = /@sha256:[0-9a-f]{64}$/.test(image);
      const tag = image.slice(image.lastIndexOf(':') + 1);
      // A full release number; PostgreSQL's are two-part (17.6), everyone else's three-part.
      const release = name === 'postgres' ? /^\d+\.\d+-[\w.-]+$/ : /^v?\d+\.\d+\.\d+([.-][\w.-]+)?$/;
      expect({ name, image, pinned: digest || release.test(tag) }).toEqual({
        name,
        image,
        pinned: true,
      });
      expect(image).not.toMatch(/:latest$/);
    }
  });

  it('has a health check on every long-running service and a restart policy', () => {
    for (const [name, service] of Object.entries(model.services)) {
      if (ONE_SHOT.has(name)) {
        expect({ name, restart: service.restart }).toEqual({ name, restart: 'no' });
        continue;
      }
      expect({ name, restart: service.restart }).toEqual({ name, restart: 'unless-stopped' });
      if (name in NO_HEALTHCHECK_POSSIBLE) {
        expect(service.healthcheck).toBeUndefined();
        continue;
      }
      const test = list(service.healthcheck?.test);
      expect({ name, probes: test.length > 1 && service.healthcheck?.disable !== true }).toEqual({
        name,
        probes: true,
      });
    }
  });

  it('publishes every host port once (API range included)', () => {
    const owner = new Map<number, string>();
    for (const [name, service] of Object.entries(model.services)) {
      for (const port of service.ports ?? []) {
        for (const hostPort of hostPorts(port)) {
          expect({ port: hostPort, owner: owner.get(hostPort) ?? name }).toEqual({
            port: hostPort,
            owner: name,
          });
          owner.set(hostPort, name);
        }
      }
    }
    expect([...owner.keys()]).toEqual(
      expect.arrayContaining([8080, 9090, 9093, 3000, 9200, 5601, 4317, 4318, 16686, 9100]),
    );
  });

  it('mounts only files that exist, and every config file a command names is mounted', () => {
    for (const [name, service] of Object.entries(model.services)) {
      const mounts = (service.volumes ?? []).map(mountOf);
      for (const mount of mounts.filter((item) => item.type === 'bind')) {
        const inRepo = !relative(ROOT, mount.source).startsWith('..');
        if (!inRepo) continue; // host paths (cadvisor, node-exporter): the host's, not ours
        expect({ name, source: relative(ROOT, mount.source), exists: existsSync(mount.source) }).toEqual({
          name,
          source: relative(ROOT, mount.source),
          exists: true,
        });
      }
      // `--config.file=/etc/prometheus/prometheus.yml`, `/setup/setup.sh`: map back to the repository.
      const args = [...list(service.entrypoint), ...list(service.command)];
      const paths = args
        .map((arg) => arg.replace(/^--[\w.-]+=/, ''))
        .filter((arg) => isAbsolute(arg) && /\.(ya?ml|json|sh|mjs|ndjson)$/.test(arg));
      for (const path of paths) {
        const mount = mounts.find(
          (item) => item.type === 'bind' && (path === item.target || path.startsWith(`${item.target}/`)),
        );
        expect({ name, path, mounted: mount !== undefined }).toEqual({ name, path, mounted: true });
        const hostPath = join(mount!.source, relative(mount!.target, path));
        expect({ name, path, exists: existsSync(hostPath) }).toEqual({ name, path, exists: true });
      }
    }
  });

  it('uses one network and named volumes only for state', () => {
    expect(Object.keys(model.networks ?? {})).toEqual(['vigil']);
    const declared = new Set(Object.keys(model.volumes ?? {}));
    for (const [name, service] of Object.entries(model.services)) {
      const networks = Array.isArray(service.networks)
        ? service.networks
        : Object.keys(service.networks ?? {});
      expect({ name, networks }).toEqual({ name, networks: ['vigil'] });
      for (const mount of (service.volumes ?? []).map(mountOf).filter((item) => item.type === 'volume')) {
        expect({ name, volume: mount.source, declared: declared.has(mount.source) }).toEqual({
          name,
          volume: mount.source,
          declared: true,
        });
      }
    }
  });

  it('runs the API scalable, limited and read-only, after the trainer succeeded', () => {
    const api = model.services.api!;
    expect(api.container_name).toBeUndefined();
    expect(api.read_only).toBe(true);
    expect(api.deploy?.resources?.limits?.cpus).toBeDefined();
    expect(api.deploy?.resources?.limits?.memory).toBeDefined();
    expect(api.depends_on).toMatchObject({
      trainer: { condition: 'service_completed_successfully' },
      postgres: { condition: 'service_healthy' },
    });
    // Replicas share the registry: PostgreSQL, not a SQLite file per container.
    expect(String(api.environment?.DATABASE_URL)).toMatch(/^postgres:\/\/[^@]+@postgres:5432\//);
    expect(model.services.trainer!.image).toBe(api.image);
  });

  it('orders the one-shot setups after what they configure', () => {
    expect(model.services['elasticsearch-setup']!.depends_on).toMatchObject({
      elasticsearch: { condition: 'service_healthy' },
    });
    expect(model.services['kibana-setup']!.depends_on).toMatchObject({
      kibana: { condition: 'service_healthy' },
      'elasticsearch-setup': { condition: 'service_completed_successfully' },
    });
  });

  it('runs kibana-setup on the same Node base image as the Dockerfile', () => {
    const dockerfile = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');
    const bases = [...dockerfile.matchAll(/^FROM\s+(\S+)/gm)].map((match) => match[1]);
    expect(bases).toContain(model.services['kibana-setup']!.image);
  });
});
