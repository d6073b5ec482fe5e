// Structured logs (issue 7): --log-format json gives one JSON object per line; --log-level debug
// logs every API request with user, verb, path, status and duration; bad values are usage errors.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BIN, makeTempDir, pollUntil, startServe } from '../helpers/process.ts';

interface Line {
  time: string;
  level: string;
  msg: string;
  user?: string;
  verb?: string;
  path?: string;
  status?: number;
  durationMs?: number;
}

describe('reddwarf serve logs', () => {
  it('writes JSON lines and one debug entry per request naming the user', async () => {
    const dir = makeTempDir('reddwarf-log-');
    const tokens = join(dir, 'tokens.csv');
    writeFileSync(tokens, 'viewer-token,vera,1,"system:viewers"\n');
    const srv = await startServe({ dataDir: join(dir, 'data'), args: ['--log-format', 'json', '--log-level', 'debug', '--token-file', tokens] });
    try {
      const auth = { authorization: 'Bearer viewer-token' };
      assert.equal((await fetch(`${srv.url}/api/v1/namespaces/default/pods`, { headers: auth })).status, 200);
      const denied = await fetch(`${srv.url}/api/v1/namespaces/default/pods`, { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: '{}' });
      assert.equal(denied.status, 403);
      const lines = (): Line[] => srv.stderr().split('\n').filter(Boolean).map((l) => JSON.parse(l) as Line);
      const requests = await pollUntil(() => {
        const r = lines().filter((l) => l.msg === 'request' && l.user === 'vera');
        return r.length >= 2 ? r : undefined;
      }, 5_000);
      assert.ok(requests, `no request entries for vera:\n${srv.stderrTail(10)}`);
      const list = requests.find((l) => l.verb === 'list');
      assert.deepEqual({ ...list, time: undefined, durationMs: undefined }, { time: undefined, level: 'debug', msg: 'request', user: 'vera', verb: 'list', path: '/api/v1/namespaces/default/pods', status: 200, durationMs: undefined });
      assert.ok(typeof list?.durationMs === 'number' && list.durationMs >= 0);
      assert.ok(requests.some((l) => l.verb === 'create' && l.status === 403));
      // Every line is JSON with a time and a level, the operator messages included.
      for (const l of lines()) assert.ok(!Number.isNaN(Date.parse(l.time)) && ['debug', 'info', 'warn', 'error'].includes(l.level), JSON.stringify(l));
      assert.ok(lines().some((l) => l.level === 'info' && /API server listening on/.test(l.msg)));
    } finally {
      await srv.stop();
      srv.cleanup();
    }
  });

  it('logs no requests at the default level, and refuses unknown formats and levels (exit 2)', async () => {
    const srv = await startServe();
    try {
      await fetch(`${srv.url}/api/v1/namespaces`);
      await fetch(`${srv.url}/healthz`);
      assert.doesNotMatch(srv.stderr(), /request/);
      assert.match(srv.stderr(), /^\S+Z reddwarf: API server listening on/m);
    } finally {
      await srv.stop();
      srv.cleanup();
    }
    for (const [flag, value, message] of [
      ['--log-format', 'xml', /--log-format must be text or json/],
      ['--log-level', 'chatty', /--log-level must be one of debug, info, warn, error/],
    ] as const) {
      const r = spawnSync(process.execPath, [BIN, 'serve', flag, value, '--bind', '127.0.0.1:0'], { encoding: 'utf8', timeout: 30_000 });
      assert.equal(r.status, 2, r.stderr);
      assert.match(r.stdout + r.stderr, message);
    }
  });
});
