// ZoneRuntime.logDir: where each runtime keeps a container's CRI logs (supervisor/bundle.ts).
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { illumosRuntime } from '../../src/runtime/illumos/start.ts';
import type { CommandRunner } from '../../src/runtime/illumos/command.ts';

const noRunner = { run: () => Promise.reject(new Error('no commands here')) } as unknown as CommandRunner;

it('illumos: <zonepath>/root/.reddwarf/logs/<container>, with or without --zonepath-prefix', () => {
  const byDataset = illumosRuntime({ storage: { pool: 'tank' }, etherstub: 'reddwarf0', podCidr: '10.88.0.0/16', runner: noRunner });
  assert.equal(byDataset.logDir('reddwarf-default-web', 'c'), '/tank/zones/reddwarf-default-web/root/.reddwarf/logs/c');
  const byPrefix = illumosRuntime({ storage: {}, etherstub: 'reddwarf0', podCidr: '10.88.0.0/16', runner: noRunner, zonepathPrefix: '/zones/' });
  assert.equal(byPrefix.logDir('reddwarf-default-web', 'c'), '/zones/reddwarf-default-web/root/.reddwarf/logs/c');
});
