// Reading a V8 .cpuprofile (the JSON that --cpu-prof and the inspector write): self and total time
// per function, time per package / area, folded stacks for flamegraph.pl / speedscope / inferno, and
// a small SVG flame graph.

const IDLE = new Set(['(idle)', '(program)', '(root)']);

function frameKey(frame) {
  const name = frame.functionName || '(anonymous)';
  if (!frame.url) return name;
  return `${name} ${shortUrl(frame.url)}:${frame.lineNumber + 1}`;
}

function shortUrl(url) {
  const path = url.replace(/^file:\/\//, '');
  const modules = path.lastIndexOf('/node_modules/');
  if (modules >= 0) return path.slice(modules + '/node_modules/'.length);
  const dist = path.indexOf('/dist/');
  if (dist >= 0) return path.slice(dist + 1);
  const bench = path.indexOf('/bench/');
  if (bench >= 0) return path.slice(bench + 1);
  return path;
}

/** The area a frame's time is charged to: a package, a Vigil folder, node core, V8. */
export function categoryOf(frame) {
  const url = frame.url ?? '';
  if (!url) {
    if (frame.functionName === '(garbage collector)') return 'v8: garbage collector';
    if (IDLE.has(frame.functionName)) return `v8: ${frame.functionName}`;
    return 'v8/native';
  }
  if (url.startsWith('node:')) return 'node core';
  const path = url.replace(/^file:\/\//, '');
  const modules = path.lastIndexOf('/node_modules/');
  if (modules >= 0) {
    const rest = path.slice(modules + '/node_modules/'.length).split('/');
    return rest[0]?.startsWith('@') ? `${rest[0]}/${rest[1]}` : (rest[0] ?? 'node_modules');
  }
  const dist = path.indexOf('/dist/');
  if (dist >= 0) {
    const parts = path.slice(dist + '/dist/'.length).split('/');
    return `vigil: ${parts.length > 1 ? parts[0] : parts[0].replace(/\.js$/, '')}`;
  }
  if (path.includes('/bench/')) return 'bench';
  return 'other';
}

/** Per-sample durations (µs): the delta to the next sample, as Chrome DevTools does. */
function sampleWeights(profile) {
  const deltas = profile.timeDeltas ?? [];
  const count = profile.samples?.length ?? 0;
  const weights = new Array(count);
  const total = profile.endTime - profile.startTime;
  const mean = count > 0 ? total / count : 0;
  for (let index = 0; index < count; index += 1) {
    const next = deltas[index + 1];
    weights[index] = typeof next === 'number' && next >= 0 ? next : mean;
  }
  return weights;
}

function index(profile) {
  const nodes = new Map();
  const parent = new Map();
  for (const node of profile.nodes) nodes.set(node.id, node);
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
  // Native frames (no url) are charged to their nearest JavaScript caller: the ONNX Runtime
  // binding's native run shows up under onnxruntime-node, a socket writev under node core.
  const attributed = new Map();
  const attribute = (id) => {
    if (attributed.has(id)) return attributed.get(id);
    const frame = nodes.get(id).callFrame;
    let result = { key: frameKey(frame), category: categoryOf(frame), frame };
    if (!frame.url && !frame.functionName.startsWith('(')) {
      for (let current = parent.get(id); current !== undefined; current = parent.get(current)) {
        const caller = nodes.get(current).callFrame;
        if (caller.url) {
          result = {
            key: `${frame.functionName || '(native)'} ← ${frameKey(caller)}`,
            category: `${categoryOf(caller)} (native)`,
            frame,
          };
          break;
        }
      }
    }
    attributed.set(id, result);
    return result;
  };
  const stackCache = new Map();
  const stackOf = (id) => {
    if (stackCache.has(id)) return stackCache.get(id);
    const stack = [];
    for (let current = id; current !== undefined; current = parent.get(current)) {
      const node = nodes.get(current);
      if (node.callFrame.functionName !== '(root)') stack.push(node);
    }
    stack.reverse();
    stackCache.set(id, stack);
    return stack;
  };
  return { nodes, stackOf, attribute, parentOf: (id) => parent.get(id) };
}

/**
 * @returns {{ wallMs, busyMs, idleMs, samples, functions: {name, location, category, selfMs, selfPct, totalPct}[],
 *   categories: {category, selfMs, pct}[] }} percentages of busy time (idle and program excluded).
 */
export function summarizeProfile(profile, { top = 30 } = {}) {
  const { nodes, stackOf, attribute, parentOf } = index(profile);
  const weights = sampleWeights(profile);
  const self = new Map();
  const total = new Map();
  const categories = new Map();
  const components = new Map();
  let busy = 0;
  let idle = 0;
  const componentOf = (id) => {
    const frame = nodes.get(id).callFrame;
    if (frame.functionName === '(garbage collector)') return 'garbage collector';
    for (let current = id; current !== undefined; current = parentOf(current)) {
      const category = categoryOf(nodes.get(current).callFrame);
      if (!category.startsWith('node core') && !category.startsWith('v8')) return category;
    }
    return 'node core / V8 (no package on the stack)';
  };
  profile.samples.forEach((id, sample) => {
    const node = nodes.get(id);
    const weight = weights[sample];
    const frame = node.callFrame;
    if (frame.functionName === '(idle)' || frame.functionName === '(program)') {
      idle += weight;
      return;
    }
    busy += weight;
    const { key, category } = attribute(id);
    const entry = self.get(key) ?? { frame, category, us: 0 };
    entry.us += weight;
    self.set(key, entry);
    categories.set(category, (categories.get(category) ?? 0) + weight);
    const component = componentOf(id);
    components.set(component, (components.get(component) ?? 0) + weight);
    const seen = new Set();
    for (const frameNode of stackOf(id)) {
      const frameName = frameKey(frameNode.callFrame);
      if (seen.has(frameName)) continue;
      seen.add(frameName);
      total.set(frameName, (total.get(frameName) ?? 0) + weight);
    }
  });
  const pct = (us) => (busy > 0 ? Math.round((us / busy) * 1000) / 10 : 0);
  const functions = [...self.entries()]
    .sort((a, b) => b[1].us - a[1].us)
    .slice(0, top)
    .map(([key, { frame, category, us }]) => ({
      name: frame.url ? frame.functionName || '(anonymous)' : key,
      location: frame.url ? `${shortUrl(frame.url)}:${frame.lineNumber + 1}` : '',
      category,
      selfMs: Math.round(us / 100) / 10,
      selfPct: pct(us),
      totalPct: pct(total.get(key) ?? us),
    }));
  return {
    wallMs: Math.round((profile.endTime - profile.startTime) / 1000),
    busyMs: Math.round(busy / 1000),
    idleMs: Math.round(idle / 1000),
    samples: profile.samples.length,
    functions,
    categories: [...categories.entries()]
      .sort((a, b) => b[1] - a[1])
      .map(([category, us]) => ({ category, selfMs: Math.round(us / 1000), pct: pct(us) })),
    components: [...components.entries()]
      .sort((a, b) => b[1] - a[1])
      .map(([component, us]) => ({ component, ms: Math.round(us / 1000), pct: pct(us) })),
  };
}

/** Folded stacks (`a;b;c weight_us`), the input of flamegraph.pl, inferno and speedscope. */
export function foldedStacks(profile) {
  const { nodes, stackOf } = index(profile);
  const weights = sampleWeights(profile);
  const folded = new Map();
  profile.samples.forEach((id, sample) => {
    const key = stackOf(id)
      .map((node) => frameKey(node.callFrame).replace(/;/g, ':'))
      .join(';');
    if (!key) return;
    folded.set(key, (folded.get(key) ?? 0) + weights[sample]);
  });
  void nodes;
  return [...folded.entries()].map(([stack, us]) => `${stack} ${Math.round(us)}`).join('\n') + '\n';
}

const escapeXml = (text) =>
  String(text).replace(
    /[<>&"]/g,
    (char) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;' })[char],
  );

/** A flame graph (root at the bottom) of busy time, from folded stacks; frames under 0.1 % are dropped. */
export function flameGraphSvg(folded, { title = 'CPU flame graph', width = 1400 } = {}) {
  const root = { name: 'all', value: 0, children: new Map() };
  for (const line of folded.split('\n')) {
    if (!line) continue;
    const space = line.lastIndexOf(' ');
    const frames = line.slice(0, space).split(';');
    if (frames[0] === '(idle)' || frames[0] === '(program)') continue;
    const value = Number(line.slice(space + 1));
    root.value += value;
    let node = root;
    for (const frame of frames) {
      if (!node.children.has(frame)) node.children.set(frame, { name: frame, value: 0, children: new Map() });
      node = node.children.get(frame);
      node.value += value;
    }
  }
  const rowHeight = 16;
  const minimum = root.value * 0.001;
  const rects = [];
  let depthMax = 0;
  const layout = (node, x, depth) => {
    depthMax = Math.max(depthMax, depth);
    rects.push({ node, x, depth });
    let offset = x;
    for (const child of [...node.children.values()].sort((a, b) => a.name.localeCompare(b.name))) {
      if (child.value >= minimum) layout(child, offset, depth + 1);
      offset += child.value;
    }
  };
  layout(root, 0, 0);
  const height = (depthMax + 1) * rowHeight + 40;
  const scale = root.value > 0 ? (width - 20) / root.value : 0;
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="monospace" font-size="11">`,
    `<rect width="100%" height="100%" fill="#fffdf7"/>`,
    `<text x="10" y="18" font-family="system-ui, sans-serif" font-size="14" font-weight="bold">${escapeXml(title)}</text>`,
  ];
  for (const { node, x, depth } of rects) {
    const rectWidth = node.value * scale;
    const y = height - (depth + 1) * rowHeight - 4;
    const hue = /node_modules/.test(node.name)
      ? 30
      : /dist\//.test(node.name)
        ? 200
        : /^node:|\(garbage/.test(node.name)
          ? 0
          : 50;
    const share = root.value > 0 ? ((node.value / root.value) * 100).toFixed(1) : '0';
    parts.push(
      `<g><title>${escapeXml(`${node.name} (${share} %)`)}</title><rect x="${(10 + x * scale).toFixed(1)}" y="${y}" width="${rectWidth.toFixed(1)}" height="${rowHeight - 1}" fill="hsl(${hue},75%,${60 + ((depth * 7) % 20)}%)"/>` +
        (rectWidth > 40
          ? `<text x="${(13 + x * scale).toFixed(1)}" y="${y + 11}">${escapeXml(node.name.slice(0, Math.floor(rectWidth / 6.6)))}</text>`
          : '') +
        '</g>',
    );
  }
  parts.push('</svg>');
  return `${parts.join('\n')}\n`;
}

/**
 * A sampling heap profile (HeapProfiler.stopSampling, collected objects included): bytes allocated per
 * function and per area over the window. `selfSize` is V8's estimate of bytes allocated at the site.
 */
export function summarizeHeapProfile(profile, { top = 30 } = {}) {
  const self = new Map();
  const categories = new Map();
  let total = 0;
  const visit = (node, callers) => {
    const frame = node.callFrame;
    let key = frameKey(frame);
    let category = categoryOf(frame);
    if (!frame.url && callers.length > 0) {
      const caller = callers[callers.length - 1];
      key = `${frame.functionName || '(native)'} ← ${frameKey(caller)}`;
      category = `${categoryOf(caller)} (native)`;
    }
    if (node.selfSize > 0) {
      total += node.selfSize;
      const entry = self.get(key) ?? { frame, category, bytes: 0 };
      entry.bytes += node.selfSize;
      self.set(key, entry);
      categories.set(category, (categories.get(category) ?? 0) + node.selfSize);
    }
    const nextCallers = frame.url ? [...callers, frame] : callers;
    for (const child of node.children ?? []) visit(child, nextCallers);
  };
  visit(profile.head, []);
  const pct = (bytes) => (total > 0 ? Math.round((bytes / total) * 1000) / 10 : 0);
  return {
    totalMb: Math.round(total / 1e5) / 10,
    functions: [...self.entries()]
      .sort((a, b) => b[1].bytes - a[1].bytes)
      .slice(0, top)
      .map(([key, { frame, category, bytes }]) => ({
        name: frame.url ? frame.functionName || '(anonymous)' : key,
        location: frame.url ? `${shortUrl(frame.url)}:${frame.lineNumber + 1}` : '',
        category,
        mb: Math.round(bytes / 1e4) / 100,
        pct: pct(bytes),
      })),
    categories: [...categories.entries()]
      .sort((a, b) => b[1] - a[1])
      .map(([category, bytes]) => ({ category, mb: Math.round(bytes / 1e4) / 100, pct: pct(bytes) })),
  };
}
