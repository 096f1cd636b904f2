'use strict';
// The health logic against fake redis servers on loopback: runs anywhere, no stack needed.

const { test, after } = require('node:test');
const assert = require('node:assert/strict');
const net = require('node:net');
const { Writable } = require('node:stream');
const { createApp } = require('../server');
const { createLogger } = require('../log');
const { ping } = require('../redis');

const servers = [];
after(() => servers.forEach((s) => s.close()));

function listen(server) {
  servers.push(server);
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server.address().port)));
}

function fakeRedis(answer) {
  return listen(
    net.createServer((sock) => {
      sock.on('data', () => sock.end(answer));
    }),
  );
}

async function closedPort() {
  const port = await listen(net.createServer());
  await new Promise((resolve) => servers.pop().close(resolve));
  return port;
}

const quiet = () => createLogger('error', new Writable({ write: (_c, _e, cb) => cb() }));

async function health(env) {
  const port = await listen(createApp({ env, log: quiet() }));
  const res = await fetch(`http://127.0.0.1:${port}/health`);
  return { status: res.status, body: await res.json() };
}

test('ping resolves on +PONG', async () => {
  const port = await fakeRedis('+PONG\r\n');
  const ms = await ping({ host: '127.0.0.1', port });
  assert.ok(ms >= 0);
});

test('ping rejects on an error reply', async () => {
  const port = await fakeRedis('-NOAUTH Authentication required.\r\n');
  await assert.rejects(ping({ host: '127.0.0.1', port }), /NOAUTH/);
});

test('ping rejects when nothing listens', async () => {
  const port = await closedPort();
  await assert.rejects(ping({ host: '127.0.0.1', port }), /ECONNREFUSED/);
});

test('ping rejects on a silent server after its timeout', async () => {
  const port = await listen(net.createServer(() => {}));
  await assert.rejects(ping({ host: '127.0.0.1', port, timeoutMs: 200 }), /did not answer/);
});

test('/health is 200 when redis answers PONG', async () => {
  const port = await fakeRedis('+PONG\r\n');
  const { status, body } = await health({ REDIS_HOST: '127.0.0.1', REDIS_PORT: String(port) });
  assert.equal(status, 200);
  assert.equal(body.redis, 'up');
});

test('/health is 503 when redis is unreachable', async () => {
  const port = await closedPort();
  const { status, body } = await health({ REDIS_HOST: '127.0.0.1', REDIS_PORT: String(port) });
  assert.equal(status, 503);
  assert.equal(body.redis, 'down');
});

test('log lines are JSON and honour LOG_LEVEL', () => {
  const lines = [];
  const out = { write: (s) => lines.push(s) };
  const log = createLogger('info', out);
  log.debug('hidden');
  log.info('shown', { a: 1 });
  assert.equal(lines.length, 1);
  const line = JSON.parse(lines[0]);
  assert.equal(line.level, 'info');
  assert.equal(line.msg, 'shown');
  assert.equal(line.a, 1);
});
