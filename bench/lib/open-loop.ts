// Creates sent open-loop: request i goes at start + i/rate, however long earlier answers take, so
// a slow server shows as latency and backlog rather than as a slower offered load.
import http from 'node:http';

/** What the sender has done so far; readable while it runs (progress lines, backlog samplers). */
export class OpenLoop {
  /** When request i was sent / answered with 201 (performance.now() ms; 0: not yet). */
  readonly sent: Float64Array;
  readonly ack: Float64Array;
  /** Requests sent so far. */
  next = 0;
  created = 0;
  errors = 0;
  firstError: string | undefined;
  /** Longest a request went out after its due time (the sender's own lag). */
  maxLagMs = 0;
  lastAck: number;
  readonly inFlight = new Set<Promise<void>>();
  readonly t0 = performance.now();

  constructor(
    readonly count: number,
    readonly rate: number,
    private readonly send: (i: number) => Promise<{ status: number; text: string }>,
  ) {
    this.sent = new Float64Array(count);
    this.ack = new Float64Array(count);
    this.lastAck = this.t0;
  }

  /** Sends every request on schedule (until `deadline`, if given), calling `tick` each round; answers may still be owed. */
  async run(tick: (now: number) => void = () => {}, deadline = Number.POSITIVE_INFINITY): Promise<void> {
    while (this.next < this.count && performance.now() < deadline) {
      const now = performance.now();
      while (this.next < this.count && this.t0 + (this.next * 1000) / this.rate <= now) this.fire(this.next++, now);
      tick(now);
      await new Promise((r) => setTimeout(r, 2));
    }
  }

  private fire(i: number, now: number): void {
    this.maxLagMs = Math.max(this.maxLagMs, now - (this.t0 + (i * 1000) / this.rate));
    this.sent[i] = now;
    const p = this.send(i).then(
      (r) => {
        if (r.status === 201) {
          this.ack[i] = this.lastAck = performance.now();
          this.created++;
        } else {
          this.errors++;
          this.firstError ??= `HTTP ${r.status}: ${r.text}`;
        }
      },
      (e: unknown) => {
        this.errors++;
        this.firstError ??= String(e);
      },
    ).finally(() => this.inFlight.delete(p));
    this.inFlight.add(p);
  }
}

/** POSTs a pod into `default` on 127.0.0.1; the body of a non-201 answer comes back for the error line. */
export function postPod(agent: http.Agent, port: number, body: Buffer, token?: string): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const headers: http.OutgoingHttpHeaders = { 'content-type': 'application/json', accept: 'application/json', 'content-length': body.length };
    if (token) headers.authorization = `Bearer ${token}`;
    const req = http.request({ agent, host: '127.0.0.1', port, method: 'POST', path: '/api/v1/namespaces/default/pods', headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => {
        if (res.statusCode !== 201) chunks.push(c);
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8', 0, 400) }));
      res.on('error', reject);
    });
    req.setNoDelay(true);
    req.on('error', reject);
    req.end(body);
  });
}
