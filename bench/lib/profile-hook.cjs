// Preloaded with `node --require` into the server under test by bench/profile.mjs. The V8 sampling
// profiler (the one behind --cpu-prof) is started on the first SIGUSR2 and stopped on the second, which
// writes $VIGIL_CPU_PROFILE: the profile covers exactly the load window (not startup, not shutdown)
// and does not depend on how the server exits (--cpu-prof writes nothing when a process is killed
// by a signal). With $VIGIL_HEAP_PROFILE, the sampling heap profiler runs over the same window and
// keeps objects already collected by GC: it shows what allocates, i.e. what feeds the GC. With
// $VIGIL_HEAP_SURVIVORS=1 it leaves out what young collections freed: what is left survived one, i.e.
// what was copied and promoted (what makes the full collections).
'use strict';
const { Session } = require('node:inspector');
const { writeFileSync, renameSync } = require('node:fs');

const cpuOutput = process.env.VIGIL_CPU_PROFILE;
const heapOutput = process.env.VIGIL_HEAP_PROFILE;
const intervalUs = Number(process.env.VIGIL_CPU_PROFILE_INTERVAL_US || 200);
const survivorsOnly = process.env.VIGIL_HEAP_SURVIVORS === '1';

function writeAtomically(path, value) {
  writeFileSync(`${path}.tmp`, JSON.stringify(value));
  renameSync(`${path}.tmp`, path);
}

if (cpuOutput || heapOutput) {
  const session = new Session();
  session.connect();
  let state = 'idle';
  process.on('SIGUSR2', () => {
    if (state === 'idle') {
      state = 'profiling';
      if (heapOutput) {
        session.post('HeapProfiler.enable', () =>
          session.post('HeapProfiler.startSampling', {
            samplingInterval: 16_384,
            includeObjectsCollectedByMajorGC: true,
            includeObjectsCollectedByMinorGC: !survivorsOnly,
          }),
        );
      }
      if (cpuOutput) {
        session.post('Profiler.enable', () =>
          session.post('Profiler.setSamplingInterval', { interval: intervalUs }, () =>
            session.post('Profiler.start'),
          ),
        );
      }
    } else if (state === 'profiling') {
      state = 'done';
      // CPU first, so that serialising the heap profile is not in the CPU profile.
      const stopHeap = () => {
        if (!heapOutput) return;
        session.post('HeapProfiler.stopSampling', (error, result) =>
          writeAtomically(heapOutput, error ? { error: String(error) } : result.profile),
        );
      };
      if (!cpuOutput) {
        stopHeap();
        return;
      }
      session.post('Profiler.stop', (error, result) => {
        writeAtomically(cpuOutput, error ? { error: String(error) } : result.profile);
        stopHeap();
      });
    }
  });
}
