import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { load } from 'js-yaml';

/**
 * The OpenTelemetry Collector configuration, checked structurally (no collector binary here): what
 * `otelcol validate` would refuse, plus the shape the stack relies on.
 */
const ROOT = resolve(__dirname, '../..');

type Section = Record<string, Record<string, unknown> | null>;
interface Pipeline {
  receivers?: string[];
  processors?: string[];
  exporters?: string[];
}
interface CollectorConfig {
  extensions?: Section;
  receivers?: Section;
  processors?: Section;
  exporters?: Section;
  connectors?: Section;
  service?: { extensions?: string[]; pipelines?: Record<string, Pipeline> };
}

const config = load(
  readFileSync(join(ROOT, 'monitoring/otel-collector/config.yaml'), 'utf8'),
) as CollectorConfig;
const pipelines = config.service?.pipelines ?? {};

/** `otlp/jaeger` is an instance of the `otlp` component. */
const kind = (id: string): string => id.split('/')[0]!;

describe('otel-collector config', () => {
  it('receives OTLP over gRPC (4317) and HTTP (4318) on every interface', () => {
    const otlp = config.receivers?.otlp as { protocols?: Record<string, { endpoint?: string }> };
    expect(otlp.protocols?.grpc?.endpoint).toBe('0.0.0.0:4317');
    expect(otlp.protocols?.http?.endpoint).toBe('0.0.0.0:4318');
  });

  it('has a traces pipeline: otlp -> memory_limiter, batch (in that order) -> Jaeger over OTLP', () => {
    const traces = pipelines.traces;
    expect(traces?.receivers).toContain('otlp');
    expect(traces?.processors).toEqual(['memory_limiter', 'batch']);
    const jaegerExporters = (traces?.exporters ?? []).filter(
      (id) => kind(id) === 'otlp' && id.includes('jaeger'),
    );
    expect(jaegerExporters).toHaveLength(1);
    const exporter = config.exporters?.[jaegerExporters[0]!] as {
      endpoint?: string;
      tls?: { insecure?: boolean };
    };
    // Jaeger v2 takes OTLP natively; the legacy `jaeger` exporter no longer exists in the collector.
    expect(exporter.endpoint).toBe('jaeger:4317');
    expect(exporter.tls?.insecure).toBe(true);
    expect(Object.keys(config.exporters ?? {}).some((id) => kind(id) === 'jaeger')).toBe(false);
  });

  it('puts memory_limiter first and batch last in every pipeline', () => {
    for (const [name, pipeline] of Object.entries(pipelines)) {
      const processors = pipeline.processors ?? [];
      expect({ name, first: processors[0] }).toEqual({ name, first: 'memory_limiter' });
      expect({ name, last: processors[processors.length - 1] }).toEqual({ name, last: 'batch' });
    }
    const limiter = config.processors?.memory_limiter as { check_interval?: string; limit_mib?: number };
    expect(limiter.check_interval).toBeDefined();
    // Below the container's 256 MiB limit (docker-compose.yml), leaving room for the Go runtime.
    expect(limiter.limit_mib).toBeLessThan(256);
  });

  it('references only components that are defined, and uses every defined one', () => {
    const used = {
      receivers: new Set<string>(),
      processors: new Set<string>(),
      exporters: new Set<string>(),
    };
    expect(Object.keys(pipelines).length).toBeGreaterThan(0);
    for (const [name, pipeline] of Object.entries(pipelines)) {
      expect(['traces', 'metrics', 'logs']).toContain(kind(name));
      for (const section of ['receivers', 'processors', 'exporters'] as const) {
        for (const id of pipeline[section] ?? []) {
          expect({ pipeline: name, section, id, defined: id in (config[section] ?? {}) }).toEqual({
            pipeline: name,
            section,
            id,
            defined: true,
          });
          used[section].add(id);
        }
      }
      expect(pipeline.receivers?.length).toBeGreaterThan(0);
      expect(pipeline.exporters?.length).toBeGreaterThan(0);
    }
    for (const section of ['receivers', 'processors', 'exporters'] as const) {
      expect(Object.keys(config[section] ?? {}).filter((id) => !used[section].has(id))).toEqual([]);
    }
    for (const id of config.service?.extensions ?? []) expect(config.extensions).toHaveProperty([id]);
  });

  it('exposes the health_check extension and its own metrics for Prometheus', () => {
    expect(config.service?.extensions).toContain('health_check');
    expect(JSON.stringify(config.service)).toContain('"port":8888');
  });
});
