// Preloaded with `node --require` into the server under test by bench/profile.mjs. The V8 sampling
// profiler (the one behind --cpu-prof) is started on the first SIGUSR2 and stopped on the second, which
// writes $VIGIL_CPU_PROFILE: the profile covers exactly the load window (not startup, not shutdown)
// and does not depend on how the server exits (--cpu-prof writes nothing when a process is killed
// by a signal, which is how Nest's shutdown hooks end).
'use strict';
const { Session } = require('node:inspector');
const { writeFileSync } = require('node:fs');

const output = process.env.VIGIL_CPU_PROFILE;
const intervalUs = Number(process.env.VIGIL_CPU_PROFILE_INTERVAL_US || 200);
if (output) {
  const session = new Session();
  session.connect();
  let state = 'idle';
  process.on('SIGUSR2', () => {
    if (state === 'idle') {
      state = 'profiling';
      session.post('Profiler.enable', () =>
        session.post('Profiler.setSamplingInterval', { interval: intervalUs }, () =>
          session.post('Profiler.start'),
        ),
      );
    } else if (state === 'profiling') {
      state = 'done';
      session.post('Profiler.stop', (error, result) => {
        writeFileSync(
          `${output}.tmp`,
          error ? JSON.stringify({ error: String(error) }) : JSON.stringify(result.profile),
        );
        require('node:fs').renameSync(`${output}.tmp`, output);
      });
    }
  });
}
