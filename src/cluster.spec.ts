import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { aggregateWorkerMetrics } from './cluster';

/** One worker's registry with the kinds of metric Vigil exports. */
function makeWorkerRegistry(requests: number, queueDepth: number, latencies: number[]): Registry {
  const registry = new Registry();
  const counter = new Counter({
    name: 'vigil_predictions_total',
    help: 'predictions',
    labelNames: ['model', 'version', 'label'],
    registers: [registry],
  });
  counter.labels('iris', '1', 'setosa').inc(requests);
  new Gauge({
    name: 'vigil_inference_queue_depth_rows',
    help: 'queue depth',
    labelNames: ['model', 'version'],
    registers: [registry],
  })
    .labels('iris', '1')
    .set(queueDepth);
  new Gauge({
    name: 'vigil_model_info',
    help: 'served',
    labelNames: ['model', 'version', 'stage', 'sha256'],
    registers: [registry],
  })
    .labels('iris', '1', 'Production', 'abc')
    .set(1);
  const histogram = new Histogram({
    name: 'http_server_request_duration_seconds',
    help: 'duration',
    labelNames: ['route'],
    buckets: [0.001, 0.01],
    registers: [registry],
  });
  for (const latency of latencies) histogram.labels('/predict').observe(latency);
  return registry;
}

function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((candidate) => candidate.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe('aggregateWorkerMetrics', () => {
  it('sums counters, histograms and per-process gauges across workers', async () => {
    const workers = [makeWorkerRegistry(3, 2, [0.0005, 0.005]), makeWorkerRegistry(4, 5, [0.02])];
    const { text, contentType } = await aggregateWorkerMetrics(
      await Promise.all(workers.map((registry) => registry.getMetricsAsJSON())),
    );
    expect(contentType).toContain('text/plain');
    expect(sample(text, 'vigil_predictions_total{model="iris",version="1",label="setosa"}')).toBe(7);
    expect(sample(text, 'vigil_inference_queue_depth_rows{model="iris",version="1"}')).toBe(7);
    expect(sample(text, 'http_server_request_duration_seconds_bucket{le="0.001",route="/predict"}')).toBe(1);
    expect(sample(text, 'http_server_request_duration_seconds_bucket{le="0.01",route="/predict"}')).toBe(2);
    expect(sample(text, 'http_server_request_duration_seconds_count{route="/predict"}')).toBe(3);
  });

  it('keeps shared-state gauges (what is served) at their value instead of multiplying them', async () => {
    const workers = [
      makeWorkerRegistry(1, 0, []),
      makeWorkerRegistry(1, 0, []),
      makeWorkerRegistry(1, 0, []),
    ];
    const { text } = await aggregateWorkerMetrics(
      await Promise.all(workers.map((registry) => registry.getMetricsAsJSON())),
    );
    expect(sample(text, 'vigil_model_info{model="iris",version="1",stage="Production",sha256="abc"}')).toBe(
      1,
    );
  });

  it('answers an empty exposition when no worker answered', async () => {
    const { text } = await aggregateWorkerMetrics([]);
    expect(text.trim()).toBe('');
  });
});
