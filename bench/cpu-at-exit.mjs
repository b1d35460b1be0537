// Preloaded by bench/startup.mjs (`node --import`): reports the process's CPU time (user + system,
// µs, every thread) on stderr as it exits, so the bench can print CPU time beside wall time.
process.on('exit', () => {
  const { user, system } = process.cpuUsage();
  process.stderr.write(`\ncpu-at-exit ${user + system}\n`);
});
