// A local stand-in for Elasticsearch and an OTLP/HTTP collector, so that "full telemetry" scenarios
// pay the real cost of shipping (serialisation, HTTP requests, bulk bodies) without a real cluster.
// It answers like the real ones (`x-elastic-product` header, bulk `items`, OTLP 200) and counts what
// it received: `GET /_sink/stats`.
//
//   node bench/sink-server.mjs --port 9299
import { createServer } from 'node:http';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: { port: { type: 'string', default: '0' }, host: { type: 'string', default: '127.0.0.1' } },
});

const stats = { bulkRequests: 0, logDocuments: 0, traceRequests: 0, traceBytes: 0, otherRequests: 0 };
const ES_HEADERS = { 'content-type': 'application/json', 'x-elastic-product': 'Elasticsearch' };

function answer(response, status, body, headers = ES_HEADERS) {
  response.writeHead(status, headers);
  response.end(typeof body === 'string' ? body : JSON.stringify(body));
}

function countLines(buffer) {
  let lines = 0;
  for (let index = 0; index < buffer.length; index += 1) if (buffer[index] === 10) lines += 1;
  if (buffer.length > 0 && buffer[buffer.length - 1] !== 10) lines += 1;
  return lines;
}

const server = createServer((request, response) => {
  const chunks = [];
  request.on('data', (chunk) => chunks.push(chunk));
  request.on('end', () => {
    const body = Buffer.concat(chunks);
    const path = (request.url ?? '/').split('?')[0];
    if (path === '/_sink/stats') return answer(response, 200, stats);
    if (path.startsWith('/v1/traces') || path.startsWith('/v1/metrics') || path.startsWith('/v1/logs')) {
      stats.traceRequests += 1;
      stats.traceBytes += body.length;
      const json = (request.headers['content-type'] ?? '').includes('json');
      return answer(response, 200, json ? '{}' : '', {
        'content-type': json ? 'application/json' : 'application/x-protobuf',
      });
    }
    if (path.endsWith('/_bulk')) {
      // NDJSON: one action line + one document line per event (create/index).
      const documents = Math.floor(countLines(body) / 2);
      stats.bulkRequests += 1;
      stats.logDocuments += documents;
      const items = new Array(documents);
      for (let index = 0; index < documents; index += 1)
        items[index] = { create: { status: 201, result: 'created' } };
      return answer(response, 200, { took: 1, errors: false, items });
    }
    stats.otherRequests += 1;
    if (path === '/' || path === '') {
      return answer(response, 200, {
        name: 'vigil-bench-sink',
        cluster_name: 'bench',
        version: { number: '8.15.0', build_flavor: 'default', lucene_version: '9.11.1' },
        tagline: 'You Know, for Search',
      });
    }
    // Index templates, ILM policies, data streams: acknowledge.
    return answer(response, 200, { acknowledged: true });
  });
});
server.keepAliveTimeout = 60_000;
server.listen(Number(values.port), values.host, () => {
  const address = server.address();
  process.stdout.write(`${JSON.stringify({ listening: address.port })}\n`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
