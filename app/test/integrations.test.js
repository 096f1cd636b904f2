'use strict';
// The service without its external tokens, and how often health probes reach the log: runs
// anywhere (fake redis on loopback), no stack needed.

const { test, after } = require('node:test');
const assert = require('node:assert/strict');
const net = require('node:net');
const { createApp } = require('../server');
const { createLogger } = require('../log');
const { integrations, isPlaceholder } = require('../integrations');

const servers = [];
after(() => servers.forEach((s) => s.close()));

function listen(server) {
  servers.push(server);
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server.address().port)));
}

const fakeRedis = (answer) =>
  listen(net.createServer((sock) => sock.on('data', () => sock.end(answer))));

function captured(level = 'debug') {
  const lines = [];
  const log = createLogger(level, { write: (s) => lines.push(JSON.parse(s)) });
  return { lines, log };
}

// The placeholders that .env.example ships, as a fresh .env holds them.
const FRESH = {
  CLICKUP_API_TOKEN: 'pk_your_token_here',
  CLICKUP_TEAM_ID: 'changeme',
  GITHUB_TOKEN: 'ghp_your_token_here',
  GITHUB_REPO: 'your_org/your_repo',
  ANTHROPIC_API_KEY: 'sk-ant-your_key_here',
  OPENAI_API_KEY: 'sk-your_key_here',
};

test('the placeholders of .env.example are recognised, real-looking values are not', () => {
  for (const v of Object.values(FRESH)) assert.equal(isPlaceholder(v), true, v);
  for (const v of ['ghp_Z8v1XkR3mQ9tL2pW7sN4bH6cJ0dF5gY1aE3u', 'timmy-org/timmy', '9012345']) {
    assert.equal(isPlaceholder(v), false, v);
  }
});

test('integrations are unavailable without their tokens and name the keys, never values', () => {
  const { status, missing } = integrations({ ...FRESH, OPENAI_API_KEY: 'sk-proj-real0123456789' });
  assert.deepEqual(status, {
    clickup: 'unavailable',
    github: 'unavailable',
    anthropic: 'unavailable',
    openai: 'available',
  });
  assert.deepEqual(missing, {
    clickup: ['CLICKUP_API_TOKEN', 'CLICKUP_TEAM_ID'],
    github: ['GITHUB_TOKEN', 'GITHUB_REPO'],
    anthropic: ['ANTHROPIC_API_KEY'],
  });
  assert.deepEqual(integrations({}).missing.openai, ['OPENAI_API_KEY']);
});

test('/health stays 200 with redis up and the tokens missing, and lists them', async () => {
  const redisPort = await fakeRedis('+PONG\r\n');
  const { log } = captured('error');
  const port = await listen(
    createApp({ env: { ...FRESH, REDIS_HOST: '127.0.0.1', REDIS_PORT: String(redisPort) }, log }),
  );
  const res = await fetch(`http://127.0.0.1:${port}/health`);
  assert.equal(res.status, 200);
  const body = await res.json();
  assert.equal(body.status, 'ok');
  assert.deepEqual(body.integrations, {
    clickup: 'unavailable',
    github: 'unavailable',
    anthropic: 'unavailable',
    openai: 'unavailable',
  });
});

test('successful health probes are logged once per interval with their count; failures always', async () => {
  const redisPort = await fakeRedis('+PONG\r\n');
  const { lines, log } = captured('debug');
  const env = { REDIS_HOST: '127.0.0.1', REDIS_PORT: String(redisPort) };
  const port = await listen(createApp({ env, log, probeLogEveryMs: 60_000 }));
  for (let i = 0; i < 5; i += 1) {
    const res = await fetch(`http://127.0.0.1:${port}/health`);
    await res.json();
  }
  const probes = lines.filter((l) => l.path === '/health');
  assert.equal(probes.length, 1);
  assert.equal(probes[0].level, 'debug');
  assert.equal(probes[0].probes, 1);
  await (await fetch(`http://127.0.0.1:${port}/`)).json();
  assert.equal(lines.filter((l) => l.path === '/').length, 1);

  // redis gone: every failed probe is a warning
  const down = captured('debug');
  const gonePort = await listen(net.createServer());
  await new Promise((resolve) => servers.pop().close(resolve));
  const port2 = await listen(
    createApp({
      env: { REDIS_HOST: '127.0.0.1', REDIS_PORT: String(gonePort) },
      log: down.log,
      probeLogEveryMs: 60_000,
    }),
  );
  for (let i = 0; i < 2; i += 1) await (await fetch(`http://127.0.0.1:${port2}/health`)).json();
  const failed = down.lines.filter((l) => l.msg === 'request' && l.path === '/health');
  assert.deepEqual(
    failed.map((l) => [l.level, l.status]),
    [
      ['warn', 503],
      ['warn', 503],
    ],
  );
});
