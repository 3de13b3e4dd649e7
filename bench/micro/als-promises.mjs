// Usage: node bench/micro/als-promises.mjs als
// CPU of a 30-await promise chain (a Nest request creates dozens of promises) with and without an
// OpenTelemetry AsyncLocalStorage context manager registered and entered once.
import { context, ROOT_CONTEXT } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
const chain = async (n) => {
  let x = 0;
  for (let i = 0; i < n; i++) x += await Promise.resolve(i);
  return x;
};
async function measure(label) {
  for (let i = 0; i < 20000; i++) await chain(30);
  const t0 = process.cpuUsage();
  for (let i = 0; i < 100000; i++) await chain(30);
  const c = process.cpuUsage(t0);
  console.log(label, ((c.user + c.system) / 100000).toFixed(2), 'µs CPU per 30-promise request');
}
await measure('no context manager (this change)');
if (process.argv[2] === 'als') {
  const manager = new AsyncLocalStorageContextManager().enable();
  context.setGlobalContextManager(manager);
  await context.with(ROOT_CONTEXT.setValue(Symbol('k'), 1), () => chain(1));
  await measure('AsyncLocalStorage context manager entered once (before)');
}
