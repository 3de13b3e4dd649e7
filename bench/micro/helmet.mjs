// Micro-benchmark: CPU per request of Vigil's security headers, as @fastify/helmet applies them (it
// calls helmet(options) — parsing the CSP directives again — on every request) versus the same
// headers computed once. CPU time (process.cpuUsage), so it holds on a busy machine.
//   node bench/micro/helmet.mjs [iterations]
import helmet from 'helmet';

const OPTIONS = {
  contentSecurityPolicy: {
    directives: {
      defaultSrc: [`'self'`],
      styleSrc: [`'self'`, `'unsafe-inline'`],
      imgSrc: [`'self'`, 'data:', 'validator.swagger.io'],
      scriptSrc: [`'self'`, `'unsafe-inline'`],
    },
  },
};
const iterations = Number(process.argv[2] ?? 200_000);

function fakeResponse() {
  const headers = new Map();
  return {
    headers,
    setHeader: (name, value) => headers.set(name, value),
    removeHeader: (name) => headers.delete(name),
  };
}

function cpuMicrosPerCall(body) {
  for (let index = 0; index < 10_000; index += 1) body(); // warm-up
  const start = process.cpuUsage();
  for (let index = 0; index < iterations; index += 1) body();
  const used = process.cpuUsage(start);
  return (used.user + used.system) / iterations;
}

const perRequest = cpuMicrosPerCall(() => {
  const response = fakeResponse();
  helmet(OPTIONS)({}, response, () => {});
});
const prebuilt = helmet(OPTIONS);
const middlewareOnce = cpuMicrosPerCall(() => {
  const response = fakeResponse();
  prebuilt({}, response, () => {});
});
const computed = fakeResponse();
prebuilt({}, computed, () => {});
const constant = Object.fromEntries(computed.headers);
const staticHeaders = cpuMicrosPerCall(() => {
  const response = fakeResponse();
  for (const name in constant) response.setHeader(name, constant[name]);
});
const result = {
  iterations,
  cpuMicrosPerRequest: {
    helmetBuiltPerRequest: Number(perRequest.toFixed(2)),
    helmetBuiltOnce: Number(middlewareOnce.toFixed(2)),
    precomputedHeaders: Number(staticHeaders.toFixed(2)),
  },
};
process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
