// The fixed scenarios. A scenario id reads `<profile>.<model>-<rows>.c<connections>`, e.g.
// `defaults.iris-1row.c50`; `--filter` is a regular expression over these ids.

/** Server configurations. Vigil profiles only set what differs from the service's own defaults. */
export const PROFILES = {
  floor: {
    kind: 'floor',
    description: 'bare Fastify + onnxruntime-node, same models and JSON I/O, no validation or telemetry',
  },
  off: {
    kind: 'vigil',
    description: 'Vigil, telemetry off (no traces, metrics, access/prediction logs or prediction store)',
    env: {
      OTEL_SDK_DISABLED: 'true',
      METRICS_ENABLED: 'false',
      ACCESS_LOG: 'false',
      PREDICTION_LOG: 'false',
      PREDICTION_STORE_ENABLED: 'false',
    },
  },
  defaults: {
    kind: 'vigil',
    description:
      'Vigil at production defaults: validation, metrics, default trace sampler, ECS logs shipped to (fake) Elasticsearch, prediction store, micro-batching',
    env: {},
    sink: true,
  },
  full: {
    kind: 'vigil',
    description: 'defaults + every trace sampled (always_on) and exported over OTLP/HTTP',
    env: { OTEL_TRACES_SAMPLER: 'always_on' },
    sink: true,
  },
  nobatch: {
    kind: 'vigil',
    description: 'defaults with micro-batching off (one inference per request)',
    env: { BATCHING_ENABLED: 'false' },
    sink: true,
  },
  evaluating: {
    kind: 'vigil',
    description:
      'defaults with the scheduled drift evaluation every second (EVALUATION_INTERVAL_MS=1000, 5,000-prediction window), not every minute',
    env: { EVALUATION_INTERVAL_MS: '1000' },
    sink: true,
  },
  single: {
    kind: 'vigil',
    description: 'defaults, one process, not pinned (the reference for cluster)',
    env: {},
    sink: true,
    unpinned: true,
  },
  cluster: {
    kind: 'cluster',
    description:
      'defaults, node dist/cluster.js with one worker per core, not pinned (shares cores with the load generator)',
    env: {},
    sink: true,
    unpinned: true,
  },
};

const SHAPES = {
  '1row': { rows: 1 },
  '100rows': { rows: 100 },
};

function scenario(profile, model, shapeName, connections) {
  const { rows } = SHAPES[shapeName];
  // Single iris rows use the classic flat `POST /predict`; everything else the v1 instances route.
  const shape = model === 'iris' && rows === 1 ? 'flat' : 'instances';
  return {
    id: `${profile}.${model}-${shapeName}.c${connections}`,
    profile,
    model,
    shape,
    rowsPerRequest: rows,
    connections,
    floorId: `floor.${model}-${shapeName}.c${connections}`,
  };
}

/**
 * The scenario `name` (`iris-100rows.c16`, the id without its profile) run with `profile`, whether or
 * not a full run has it: profile.mjs and memwatch.mjs drive one scenario by name.
 */
export function scenarioFor(profile, name) {
  const match = /^([a-z]+)-(1row|100rows)\.c([1-9][0-9]*)$/.exec(name);
  if (match === null) throw new Error(`bad scenario ${name} (e.g. iris-1row.c50, credit-100rows.c16)`);
  return scenario(profile, match[1], match[2], Number(match[3]));
}

/** Every scenario of a full run, in execution order within each profile. */
export function allScenarios() {
  const list = [];
  for (const profile of ['floor', 'defaults']) {
    for (const model of ['iris', 'credit']) {
      for (const connections of [1, 16, 50, 64]) list.push(scenario(profile, model, '1row', connections));
      list.push(scenario(profile, model, '100rows', 16));
    }
  }
  for (const profile of ['off', 'full', 'nobatch', 'evaluating', 'single', 'cluster']) {
    for (const model of ['iris', 'credit']) list.push(scenario(profile, model, '1row', 50));
  }
  return list;
}

/**
 * `--quick`: the scenarios the targets need, iris only for the telemetry and batching comparisons, and
 * credit (11 features to test) while evaluating.
 */
export const QUICK_FILTER =
  /^(floor|defaults)\.(iris|credit)-1row\.c50$|^(floor|defaults)\.(iris|credit)-100rows\.c16$|^(off|full|nobatch)\.iris-1row\.c50$|^evaluating\.credit-1row\.c50$/;
