import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { counterSeries, gaugeSeries, histogramSeries } from './bound-series';

function pair(kind: 'fast' | 'prom') {
  const registry = new Registry();
  const histogram = new Histogram({
    name: 'score',
    help: 'h',
    labelNames: ['model', 'version'],
    buckets: [0.1, 0.5, 0.9],
    registers: [registry],
  });
  const counter = new Counter({
    name: 'predictions_total',
    help: 'c',
    labelNames: ['model', 'label'],
    registers: [registry],
  });
  const observe =
    kind === 'fast'
      ? histogramSeries(histogram, { model: 'credit', version: '3' })
      : histogram.labels({ model: 'credit', version: '3' });
  const inc =
    kind === 'fast'
      ? counterSeries(counter, { model: 'credit', label: 'yes' })
      : counter.labels({ model: 'credit', label: 'yes' });
  return { registry, histogram, counter, observe, inc };
}

const VALUES = [0, 0.05, 0.1, 0.1000001, 0.5, 0.77, 0.9, 0.95, 1, 42, -3];

describe('bound metric series', () => {
  it('expose exactly what prom-client would for the same observations', async () => {
    const fast = pair('fast');
    const prom = pair('prom');
    for (const side of [fast, prom]) {
      for (const value of VALUES) side.observe.observe(value);
      side.inc.inc();
      side.inc.inc(4);
      // Another series of the same metrics, through prom-client, in between.
      side.histogram.labels({ model: 'iris', version: '1' }).observe(0.3);
    }
    expect(await fast.registry.metrics()).toBe(await prom.registry.metrics());
    expect(await fast.registry.metrics()).toContain('score_count{model="credit",version="3"} 11');
  });

  it('keep counting after the registry is reset', async () => {
    const fast = pair('fast');
    const prom = pair('prom');
    for (const side of [fast, prom]) {
      side.observe.observe(0.2);
      side.inc.inc(2);
      side.registry.resetMetrics();
      side.observe.observe(0.7);
      side.observe.observe(0.8);
      side.inc.inc(3);
    }
    expect(await fast.registry.metrics()).toBe(await prom.registry.metrics());
    expect(await fast.registry.metrics()).toContain('predictions_total{model="credit",label="yes"} 3');
  });

  it('continue an existing series instead of zeroing it', async () => {
    const fast = pair('fast');
    fast.observe.observe(0.2);
    fast.inc.inc(5);
    const again = histogramSeries(fast.histogram, { model: 'credit', version: '3' });
    const againCounter = counterSeries(fast.counter, { model: 'credit', label: 'yes' });
    again.observe(0.3);
    againCounter.inc();
    const text = await fast.registry.metrics();
    expect(text).toContain('score_count{model="credit",version="3"} 2');
    expect(text).toContain('predictions_total{model="credit",label="yes"} 6');
  });

  it('gauges go up and down like prom-client, also after a reset', async () => {
    const texts: string[] = [];
    for (const kind of ['fast', 'prom'] as const) {
      const registry = new Registry();
      const gauge = new Gauge({ name: 'active', help: 'g', labelNames: ['method'], registers: [registry] });
      const series =
        kind === 'fast' ? gaugeSeries(gauge, { method: 'GET' }) : gauge.labels({ method: 'GET' });
      series.inc();
      series.inc(3);
      series.dec();
      registry.resetMetrics();
      series.inc(2);
      series.dec(0.5);
      texts.push(await registry.metrics());
    }
    expect(texts[0]).toBe(texts[1]);
    expect(texts[0]).toContain('active{method="GET"} 1.5');
  });

  it('reject what prom-client rejects', () => {
    const fast = pair('fast');
    expect(() => fast.observe.observe(Number.NaN)).toThrow(TypeError);
    expect(() => fast.inc.inc(-1)).toThrow();
  });
});
