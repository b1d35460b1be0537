import Docker from 'dockerode';
const docker = new Docker({ socketPath: '/tmp/pexp/podman.sock' });
const N = 10;
for (const mode of ['none', 'logsAfterWait', 'logsFollow', 'attach']) {
  const T: Record<string, number> = {};
  const time = async <X>(k: string, f: () => Promise<X>): Promise<X> => { const t = performance.now(); try { return await f(); } finally { T[k] = (T[k] ?? 0) + performance.now() - t; } };
  for (let i = 0; i < N; i++) {
    const t0 = performance.now();
    const c = await time('create', () => docker.createContainer({ Image: 'localhost/pilotage/base:latest', Entrypoint: ['sh', '-c', 'echo out1; echo err1 >&2; echo out2'], Cmd: [], HostConfig: { NetworkMode: 'host' } }));
    let ended: Promise<unknown> = Promise.resolve();
    if (mode === 'attach') { const s: any = await c.attach({ stream: true, stdout: true, stderr: true }); s.resume(); ended = new Promise((r) => s.on('end', r)); }
    await time('start', () => c.start());
    if (mode === 'logsFollow') { const s: any = await time('logs', () => c.logs({ follow: true, stdout: true, stderr: true }) as any); s.resume(); ended = new Promise((r) => s.on('end', r)); }
    await time('wait', () => c.wait());
    if (mode === 'logsAfterWait') { await time('logs', () => c.logs({ follow: false, stdout: true, stderr: true }) as any); }
    await time('end', () => ended);
    await time('remove', () => c.remove({ force: true }));
    T['total'] = (T['total'] ?? 0) + performance.now() - t0;
  }
  console.log(mode, Object.entries(T).map(([k, v]) => `${k}=${(v / N).toFixed(0)}`).join(' '));
}
