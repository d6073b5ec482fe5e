// `reddwarf agent` takes its join token from $REDDWARF_TOKEN as well as --token: the SMF method
// passes it that way because arguments show in ps(1) to every local user.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Cli } from 'clipanion';
import { AgentCommand } from '../../src/cli/commands/agent.ts';
import { TOKEN_ENV } from '../../src/cli/flags.ts';

const parse = (argv: string[], env: Record<string, string>): AgentCommand => Cli.from([AgentCommand]).process(['agent', '--server', 'https://10.0.0.1:6443', ...argv], { env }) as AgentCommand;

describe('reddwarf agent --token', () => {
  it(`is read from $${TOKEN_ENV} when the flag is absent, and the flag wins`, () => {
    assert.equal(parse([], { [TOKEN_ENV]: 'rdj1.from-env' }).token, 'rdj1.from-env');
    assert.equal(parse(['--token', 'rdj1.from-flag'], { [TOKEN_ENV]: 'rdj1.from-env' }).token, 'rdj1.from-flag');
    assert.equal(parse([], {}).token, undefined);
  });
});
