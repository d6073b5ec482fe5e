// A load generator in a child process, so that it does not share the measured server's event
// loop: the bench sends it one spec at a time over IPC and gets one result back.
import { fork, type ChildProcess } from 'node:child_process';

/** The environment variable that tells a bench script which side of the fork it runs. */
export const ROLE_ENV = 'REDDWARF_BENCH_ROLE';

/** Child side: runs each spec the parent sends; exits when the parent disconnects. */
export function serveSpecs<S, R>(run: (spec: S) => Promise<R>): void {
  process.on('message', (m: { op: string; spec: S }) => {
    if (m.op !== 'load') return;
    run(m.spec).then(
      (result) => process.send?.({ op: 'result', result }),
      (e: unknown) => process.send?.({ op: 'result', error: String((e as Error)?.stack ?? e) }),
    );
  });
  process.on('disconnect', () => process.exit(0));
  process.send?.({ op: 'ready' });
}

/** Parent side: the forked `script` running as `role`, one spec at a time. */
export class SpecRunner<S, R> {
  private waiting?: { resolve: (r: R) => void; reject: (e: Error) => void };

  private constructor(
    private readonly child: ChildProcess,
    label: string,
  ) {
    child.on('message', (m: { op: string; result?: R; error?: string }) => {
      if (m.op !== 'result' || !this.waiting) return;
      const w = this.waiting;
      this.waiting = undefined;
      if (m.result) w.resolve(m.result);
      else w.reject(new Error(m.error ?? `${label} failed`));
    });
    child.on('exit', (code) => this.waiting?.reject(new Error(`${label} exited with ${code}`)));
  }

  /** Forks `script` with ROLE_ENV=`role` (and node flags `execArgv` beside this process's) and resolves once it says it is ready. */
  static start<S, R>(script: string, role: string, label: string, execArgv: string[] = []): Promise<SpecRunner<S, R>> {
    const child = fork(script, [], { env: { ...process.env, [ROLE_ENV]: role }, execArgv: [...process.execArgv, ...execArgv], stdio: ['ignore', 2, 2, 'ipc'], serialization: 'advanced' });
    return new Promise((resolve, reject) => {
      child.once('message', () => resolve(new SpecRunner<S, R>(child, label)));
      child.once('error', reject);
      child.once('exit', (code) => reject(new Error(`${label} exited with ${code}`)));
    });
  }

  run(spec: S): Promise<R> {
    return new Promise((resolve, reject) => {
      this.waiting = { resolve, reject };
      this.child.send({ op: 'load', spec });
    });
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  stop(): void {
    if (this.child.connected) this.child.disconnect();
  }
}
