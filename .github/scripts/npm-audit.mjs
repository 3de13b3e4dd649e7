#!/usr/bin/env node
// `npm audit` gate with a reviewed allowlist: fails on any high or critical advisory that is not in
// .github/audit-allowlist.json, and on any allowlist entry past its `expires` date (so that every
// exception is looked at again).
// Usage: node .github/scripts/npm-audit.mjs [--audit-json file] [--allowlist file] [--today YYYY-MM-DD]
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

const LEVELS = new Set(['high', 'critical']);
const flag = (name) => {
  const index = process.argv.indexOf(name);
  return index > 0 ? process.argv[index + 1] : undefined;
};
const allowlistPath = flag('--allowlist') ?? new URL('../audit-allowlist.json', import.meta.url);
const allowlist = JSON.parse(readFileSync(allowlistPath, 'utf8'));
const today = flag('--today') ?? new Date().toISOString().slice(0, 10);

const auditJson = flag('--audit-json');
let report;
if (auditJson !== undefined) {
  report = JSON.parse(readFileSync(auditJson, 'utf8'));
} else {
  // npm audit exits 1 when it finds anything: the JSON on stdout is what matters.
  const run = spawnSync('npm', ['audit', '--json'], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  try {
    report = JSON.parse(run.stdout);
  } catch {
    console.error(`npm audit did not answer JSON (exit ${run.status}):\n${run.stderr}`);
    process.exit(2);
  }
}
if (report.error) {
  console.error(`npm audit failed: ${JSON.stringify(report.error)}`);
  process.exit(2);
}

const allowed = new Map(allowlist.advisories.map((entry) => [entry.id, entry]));
const findings = new Map();
for (const [name, vulnerability] of Object.entries(report.vulnerabilities ?? {})) {
  for (const via of vulnerability.via ?? []) {
    if (typeof via !== 'object' || !LEVELS.has(via.severity)) continue;
    const id = String(via.url ?? via.source)
      .split('/')
      .pop();
    findings.set(id, { id, package: name, severity: via.severity, title: via.title, url: via.url });
  }
}

let failed = false;
for (const finding of findings.values()) {
  const entry = allowed.get(finding.id);
  if (entry === undefined) {
    failed = true;
    console.error(
      `NOT ALLOWED  ${finding.severity}  ${finding.package}  ${finding.id}  ${finding.title}  ${finding.url}`,
    );
  } else if (entry.expires < today) {
    failed = true;
    console.error(`EXPIRED      ${finding.id} (allowed until ${entry.expires}: ${entry.reason})`);
  } else {
    console.log(
      `allowed      ${finding.severity}  ${finding.package}  ${finding.id} until ${entry.expires}: ${entry.reason}`,
    );
  }
}
for (const entry of allowlist.advisories) {
  if (!findings.has(entry.id))
    console.log(`stale entry  ${entry.id}: no longer reported, remove it from the allowlist`);
}
console.log(`${findings.size} high/critical advisories, ${failed ? 'some not allowed' : 'all reviewed'}`);
process.exit(failed ? 1 : 0);
