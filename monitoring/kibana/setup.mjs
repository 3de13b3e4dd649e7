#!/usr/bin/env node
// One-shot Kibana setup for Vigil (the `kibana-setup` compose service), with no dependency but Node:
//   1. wait until Kibana's status API answers `available`;
//   2. import saved-objects.ndjson with overwrite (data view, saved searches, visualizations, dashboard);
//   3. exit 0 only if Kibana reports success for every object, otherwise print its errors and exit 1.
// Running it again overwrites the same objects (fixed ids): idempotent.
//
// Environment: KIBANA_URL (default http://localhost:5601), SAVED_OBJECTS_FILE (default: the NDJSON
// beside this script), KIBANA_AUTH (user:password, optional), WAIT_SECONDS (default 300),
// POLL_INTERVAL_MS (default 3000).
import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';

const kibanaUrl = (process.env.KIBANA_URL ?? 'http://localhost:5601').replace(/\/+$/, '');
const file = process.env.SAVED_OBJECTS_FILE ?? new URL('./saved-objects.ndjson', import.meta.url).pathname;
const waitSeconds = Number(process.env.WAIT_SECONDS ?? 300);
const pollIntervalMs = Number(process.env.POLL_INTERVAL_MS ?? 3000);
const auth = process.env.KIBANA_AUTH;

const headers = { 'kbn-xsrf': 'vigil-setup' };
if (auth) headers.authorization = `Basic ${Buffer.from(auth).toString('base64')}`;

const log = (message) => process.stdout.write(`[kibana-setup] ${message}\n`);
const fail = (message) => {
  process.stderr.write(`[kibana-setup] FAILED: ${message}\n`);
  process.exit(1);
};
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Kibana 8/9 answer `status.overall.level`; 7.x answered `status.overall.state`. */
async function kibanaLevel() {
  try {
    const response = await fetch(`${kibanaUrl}/api/status`, { headers, signal: AbortSignal.timeout(5000) });
    if (!response.ok) return `HTTP ${response.status}`;
    const body = await response.json();
    return body?.status?.overall?.level ?? body?.status?.overall?.state ?? 'unknown';
  } catch (error) {
    return error instanceof Error ? (error.cause?.code ?? error.message) : String(error);
  }
}

async function waitForKibana() {
  const deadline = Date.now() + waitSeconds * 1000;
  let last = '';
  for (;;) {
    const level = await kibanaLevel();
    if (level === 'available' || level === 'green') return;
    if (level !== last) log(`waiting for Kibana at ${kibanaUrl}: ${level}`);
    last = level;
    if (Date.now() >= deadline)
      fail(`Kibana at ${kibanaUrl} was not available within ${waitSeconds}s (last: ${level})`);
    await sleep(pollIntervalMs);
  }
}

async function importSavedObjects() {
  const ndjson = await readFile(file, 'utf8');
  const expected = ndjson.split('\n').filter((line) => line.trim() !== '').length;
  const form = new FormData();
  form.append('file', new Blob([ndjson], { type: 'application/ndjson' }), basename(file));
  const response = await fetch(`${kibanaUrl}/api/saved_objects/_import?overwrite=true`, {
    method: 'POST',
    headers,
    body: form,
    signal: AbortSignal.timeout(60_000),
  });
  const text = await response.text();
  if (!response.ok) fail(`import answered HTTP ${response.status}: ${text}`);
  let result;
  try {
    result = JSON.parse(text);
  } catch {
    fail(`import answered something other than JSON: ${text.slice(0, 500)}`);
  }
  const errors = Array.isArray(result.errors) ? result.errors : [];
  for (const error of errors) {
    process.stderr.write(
      `[kibana-setup]   ${error.type}/${error.id} (${error.title ?? ''}): ${JSON.stringify(error.error)}\n`,
    );
  }
  if (result.success !== true || errors.length > 0) {
    fail(`Kibana did not import every object (success=${String(result.success)}, errors=${errors.length})`);
  }
  if (result.successCount !== expected) {
    fail(`Kibana imported ${String(result.successCount)} objects, the file has ${expected}`);
  }
  log(`imported ${result.successCount} saved objects from ${basename(file)} (overwrite)`);
}

await waitForKibana();
await importSavedObjects();
