'use strict';
// Checks the running service from inside the stack (the `tests` service of
// docker/docker-compose.test.yml). TIMMY_URL overrides the address.

const { test } = require('node:test');
const assert = require('node:assert/strict');

const BASE = process.env.TIMMY_URL || 'http://timmy:3000';

test('GET /health answers 200 with redis up', async () => {
  const res = await fetch(`${BASE}/health`, { signal: AbortSignal.timeout(5000) });
  assert.equal(res.status, 200);
  const body = await res.json();
  assert.equal(body.status, 'ok');
  assert.equal(body.redis, 'up');
});

test('GET / reports the service and its NODE_ENV', async () => {
  const res = await fetch(`${BASE}/`, { signal: AbortSignal.timeout(5000) });
  assert.equal(res.status, 200);
  const body = await res.json();
  assert.equal(body.service, 'timmy-reference-service');
  assert.equal(typeof body.node_env, 'string');
});

test('unknown paths answer 404', async () => {
  const res = await fetch(`${BASE}/nope`, { signal: AbortSignal.timeout(5000) });
  assert.equal(res.status, 404);
  await res.body?.cancel();
});
