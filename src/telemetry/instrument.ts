/**
 * Side-effect entry: starts tracing before anything else loads. `main.ts` imports this first, so that
 * the HTTP instrumentation patches `http` before Fastify and Nest are required.
 */
import { ConfigError, loadConfig } from '../config/config';
import { startTracing } from './tracing';

try {
  startTracing(loadConfig());
} catch (error) {
  // A bad configuration is reported by main.ts with every bad variable; tracing just stays off.
  // Any other failure must not keep the service from starting either.
  if (!(error instanceof ConfigError))
    process.stderr.write(`tracing disabled: ${error instanceof Error ? error.message : String(error)}\n`);
}
