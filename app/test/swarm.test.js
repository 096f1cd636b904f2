'use strict';
// What Swarm needs of the service: secrets read from KEY_FILE, and a start that keeps trying
// redis (Swarm starts services in no order). Runs anywhere (fake redis on loopback).

const { test, after } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');
const { spawn } = require('node:child_process');
const { withFileSecrets } = require('../file-secrets');
const { waitForRedis } = require('../redis');
const { createLogger } = require('../log');

const servers = [];
const children = [];
after(() => {
  servers.forEach((s) => s.close());
  children.forEach((c) => c.kill('SIGKILL'));
});

function listen(server, port = 0) {
  servers.push(server);
  return new Promise((resolve) => server.listen(port, '127.0.0.1', () => resolve(server.address().port)));
}

function captured() {
  const lines = [];
  const log = createLogger('debug', { write: (s) => lines.push(JSON.parse(s)) });
  return { lines, log };
}

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'timmy-secrets-'));
const SECRETS_DIR = dir;
const secretFile = (name, content) => {
  const file = path.join(dir, name);
  fs.writeFileSync(file, content);
  return file;
};

test('KEY_FILE sets KEY to the file content without its trailing newline', () => {
  const file = secretFile('github', 'ghp_from_file\n');
  const { env, shadowed } = withFileSecrets({ SECRETS_DIR, GITHUB_TOKEN_FILE: file, OTHER: 'x' });
  assert.equal(env.GITHUB_TOKEN, 'ghp_from_file');
  assert.equal(env.OTHER, 'x');
  assert.deepEqual(shadowed, []);
});

test('KEY_FILE keeps inner newlines and drops one CRLF', () => {
  const file = secretFile('multi', 'line1\nline2\r\n');
  assert.equal(withFileSecrets({ SECRETS_DIR, K_FILE: file }).env.K, 'line1\nline2');
});

test('KEY_FILE wins over KEY and names the key, never the value', () => {
  const file = secretFile('openai', 'sk-file');
  const { env, shadowed } = withFileSecrets({
    SECRETS_DIR,
    OPENAI_API_KEY: 'sk-env',
    OPENAI_API_KEY_FILE: file,
  });
  assert.equal(env.OPENAI_API_KEY, 'sk-file');
  assert.deepEqual(shadowed, ['OPENAI_API_KEY']);
});

test('an unreadable KEY_FILE is an error naming the key and path', () => {
  const missing = path.join(dir, 'absent');
  assert.throws(
    () => withFileSecrets({ SECRETS_DIR, ANTHROPIC_API_KEY_FILE: missing }),
    { message: `ANTHROPIC_API_KEY_FILE: cannot read ${missing}: ENOENT` },
  );
});

test('an empty KEY_FILE or a bare _FILE is left alone', () => {
  const { env } = withFileSecrets({ SECRETS_DIR, A_FILE: '', _FILE: `${dir}/nope` });
  assert.deepEqual(env, { SECRETS_DIR, A_FILE: '', _FILE: `${dir}/nope` });
});

test('a KEY_FILE outside the secrets directory is an ordinary setting', () => {
  // LOG_MAX_FILE=3 reached the app through env_file: .env and crashed it before this rule.
  const env = { LOG_MAX_FILE: '3', LOG_FILE: '/app/logs/app.log', LOG_MAX_SIZE: '10m' };
  assert.deepEqual(withFileSecrets(env), { env, shadowed: [] });
  const secret = secretFile('sentry', 'https://k@sentry.example/1\n');
  assert.equal(withFileSecrets({ SENTRY_DSN_FILE: secret }).env.SENTRY_DSN, undefined);
  assert.equal(
    withFileSecrets({ SECRETS_DIR: `${dir}/`, SENTRY_DSN_FILE: secret }).env.SENTRY_DSN,
    'https://k@sentry.example/1',
  );
});

test('waitForRedis retries until redis answers, logging the first failure', async () => {
  let calls = 0;
  const ping = async () => {
    calls += 1;
    if (calls < 4) throw new Error('redis redis:6379: ENOTFOUND');
    return 1;
  };
  const { lines, log } = captured();
  const attempts = await waitForRedis({ target: {}, log, ping, delayMs: 1, maxDelayMs: 2, logEvery: 3 });
  assert.equal(attempts, 4);
  assert.deepEqual(
    lines.map((l) => [l.level, l.msg, l.attempt ?? l.attempts]),
    [
      ['warn', 'redis does not answer yet; retrying', 1],
      ['warn', 'redis does not answer yet; retrying', 3],
      ['info', 'redis answers', 4],
    ],
  );
});

test('waitForRedis stops when the service stops', async () => {
  const { log } = captured();
  const ping = async () => {
    throw new Error('down');
  };
  let stop = false;
  setTimeout(() => {
    stop = true;
  }, 20);
  assert.equal(await waitForRedis({ target: {}, log, ping, delayMs: 5, stopped: () => stop }), 0);
});

// The real process: redis comes up after the service, and the tokens come from files.
async function freePort() {
  const s = net.createServer();
  const port = await new Promise((resolve) => s.listen(0, '127.0.0.1', () => resolve(s.address().port)));
  await new Promise((resolve) => s.close(resolve));
  return port;
}

async function getJson(url) {
  const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
  return { status: res.status, body: await res.json() };
}

test('server.js reads *_FILE secrets and turns healthy once a late redis answers', async () => {
  const port = await freePort();
  const redisPort = await freePort();
  const env = {
    PATH: process.env.PATH,
    SECRETS_DIR,
    LOG_MAX_FILE: '3',
    PORT: String(port),
    REDIS_HOST: '127.0.0.1',
    REDIS_PORT: String(redisPort),
    LOG_LEVEL: 'info',
    CLICKUP_API_TOKEN_FILE: secretFile('clickup', 'pk_12345678_ABCDEFGHIJKLMNOPQRSTUVWXYZ012345\n'),
    CLICKUP_TEAM_ID: '9012345',
    GITHUB_TOKEN_FILE: secretFile('gh', 'ghp_abcdefghijklmnopqrstuvwxyz0123456789\n'),
    GITHUB_REPO: 'example/repo',
    ANTHROPIC_API_KEY_FILE: secretFile('anthropic', 'sk-ant-api03-abcdefghijklmnop\n'),
    OPENAI_API_KEY_FILE: secretFile('openai', 'sk-proj-abcdefghijklmnop\n'),
  };
  const child = spawn(process.execPath, [path.join(__dirname, '..', 'server.js')], { env });
  children.push(child);
  let out = '';
  child.stdout.on('data', (c) => {
    out += c;
  });
  const until = async (what, check) => {
    for (let i = 0; i < 100; i += 1) {
      try {
        const got = await check();
        if (got) return got;
      } catch {
        // not listening yet
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`${what} never happened; output:\n${out}`);
  };
  const down = await until('a 503', async () => {
    const r = await getJson(`http://127.0.0.1:${port}/health`);
    return r.status === 503 && r;
  });
  assert.equal(down.body.redis, 'down');
  assert.deepEqual(down.body.integrations, {
    clickup: 'available',
    github: 'available',
    anthropic: 'available',
    openai: 'available',
  });
  await until('the retry log line', () => out.includes('"msg":"redis does not answer yet; retrying"'));
  await listen(net.createServer((sock) => sock.on('data', () => sock.end('+PONG\r\n'))), redisPort);
  const up = await until('a 200', async () => {
    const r = await getJson(`http://127.0.0.1:${port}/health`);
    return r.status === 200 && r;
  });
  assert.equal(up.body.redis, 'up');
  await until('the "redis answers" line', () => out.includes('"msg":"redis answers"'));
  assert.ok(!out.includes('ghp_abcdefghijklmnopqrstuvwxyz0123456789'), out);
});

test('server.js exits 1 naming the key when a secret file is missing', async () => {
  const env = {
    PATH: process.env.PATH,
    SECRETS_DIR,
    PORT: '0',
    GITHUB_TOKEN_FILE: path.join(dir, 'nope'),
  };
  const child = spawn(process.execPath, [path.join(__dirname, '..', 'server.js')], { env });
  children.push(child);
  let out = '';
  child.stdout.on('data', (c) => {
    out += c;
  });
  const code = await new Promise((resolve) => child.on('exit', resolve));
  assert.equal(code, 1);
  const line = JSON.parse(out.trim());
  assert.equal(line.msg, 'cannot read a secret file');
  assert.equal(line.error, `GITHUB_TOKEN_FILE: cannot read ${path.join(dir, 'nope')}: ENOENT`);
});
