// Tracing first: the HTTP instrumentation must patch `http` before Fastify and Nest are loaded.
import './telemetry/instrument';
import 'reflect-metadata';
import { createApp } from './app';
import { limitHeapGrowth } from './common/heap-growth';
import { HelperThreadPriority } from './common/thread-priority';
import { loadConfig } from './config/config';
import { installShutdownSignals } from './health/shutdown.hooks';
import { AppLogger } from './telemetry/logger';

async function main(): Promise<void> {
  const config = loadConfig();
  limitHeapGrowth(config.HEAP_GROWTH_PERCENT);
  const app = await createApp(config);
  installShutdownSignals(app);
  await app.listen({ port: config.PORT, host: config.HOST });
  new HelperThreadPriority(config.HELPER_THREAD_NICE).start();
  app.get(AppLogger).info(`Vigil listening on http://${config.HOST}:${config.PORT}`, {
    'event.action': 'startup',
  });
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
