// Runs autocannon in its own (pinned) process from a JSON config and prints the normalised result.
// autocannon reports no p95, so every response time is recorded here and the percentiles computed.
import { readFileSync } from 'node:fs';
import autocannon from 'autocannon';

const config = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const latencies = [];
const round = (value, digits = 3) => Math.round(value * 10 ** digits) / 10 ** digits;

const instance = autocannon(
  {
    url: config.url,
    connections: config.connections,
    duration: config.durationSeconds,
    timeout: config.timeoutSeconds,
    requests: config.requests.map((request) => ({
      method: request.method,
      path: request.path,
      headers: { 'content-type': 'application/json' },
      body: request.body,
    })),
  },
  (error, result) => {
    if (error) {
      process.stderr.write(`${String(error)}\n`);
      process.exit(1);
    }
    latencies.sort((a, b) => a - b);
    const at = (quantile) =>
      latencies[Math.min(latencies.length - 1, Math.floor(quantile * latencies.length))] ?? 0;
    const seconds = (result.finish - result.start) / 1000 || config.durationSeconds;
    const errors = {
      connect: result.errors,
      read: 0,
      write: 0,
      timeout: result.timeouts,
      status: result.non2xx,
    };
    const mean = latencies.reduce((sum, value) => sum + value, 0) / (latencies.length || 1);
    process.stdout.write(
      JSON.stringify({
        requests: result.requests.total,
        durationSeconds: round(seconds),
        rps: Math.round(result.requests.total / seconds),
        latencyMs: {
          p50: round(at(0.5)),
          p90: round(at(0.9)),
          p95: round(at(0.95)),
          p99: round(at(0.99)),
          max: round(latencies[latencies.length - 1] ?? 0),
          mean: round(mean),
        },
        errors,
        errorCount: Object.values(errors).reduce((sum, value) => sum + value, 0),
      }),
    );
  },
);
instance.on('response', (_client, _status, _bytes, responseTime) => latencies.push(responseTime));
