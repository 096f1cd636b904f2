'use strict';
// Reference service standing in for the Timmy app. It honours the stack's runtime contract:
//   GET /health  200 {"status":"ok"} when a redis PING answers PONG, else 503; the external
//                integrations (ClickUp, GitHub, Anthropic, OpenAI) are listed as available or
//                unavailable and never change the status: the service runs without their tokens
//   GET /        200 with the service's name, version and NODE_ENV
//   JSON log lines on stdout; clean exit (code 0) within a second on SIGTERM/SIGINT, after a
//   drain: for DRAIN_MS it keeps answering, every answer with `Connection: close` (a keep-alive
//   client reconnects, on Swarm to the new task), then stops listening, closes idle
//   connections, lets requests in flight finish and exits; EXIT_WITHIN_MS ends it regardless.
//   Successful health probes are logged at debug level once a minute (with how many there
//   were), failed ones every time at warn: a probe every 3 s would bury the app's own lines.
// Environment: PORT (3000), REDIS_HOST (redis), REDIS_PORT (6379), LOG_LEVEL (info), NODE_ENV,
// and the integrations' tokens (see integrations.js); any KEY may come from a file named by
// KEY_FILE (file-secrets.js: Swarm secrets). At startup it retries redis until it answers
// (Swarm starts services in no order) while /health answers 503.

const http = require('node:http');
const { createLogger } = require('./log');
const { ping, waitForRedis } = require('./redis');
const { withFileSecrets } = require('./file-secrets');
const { integrations } = require('./integrations');
const { version } = require('./package.json');

const PROBE_LOG_EVERY_MS = 60_000;
// Longer than a keep-alive client's pause between requests (a prober's 100 ms), short enough
// that `docker compose down` never waits for its 10-second kill.
const DRAIN_MS = 400;
const EXIT_WITHIN_MS = 800;

function createApp({
  env = process.env,
  log = createLogger(env.LOG_LEVEL),
  probeLogEveryMs = PROBE_LOG_EVERY_MS,
  draining = () => false,
} = {}) {
  const external = integrations(env).status;
  // Successful probes since the last one logged; the first one is always logged.
  let probes = 0;
  let lastProbeLog = -Infinity;
  const redis = {
    host: env.REDIS_HOST || 'redis',
    port: Number(env.REDIS_PORT || 6379),
    timeoutMs: 1000,
  };

  const send = (res, status, body) => {
    const text = JSON.stringify(body);
    const headers = {
      'content-type': 'application/json',
      'content-length': Buffer.byteLength(text),
    };
    // Draining: the client must not send its next request on this connection.
    if (draining()) headers.connection = 'close';
    res.writeHead(status, headers);
    res.end(text);
  };

  return http.createServer(async (req, res) => {
    const started = Date.now();
    const path = (req.url || '/').split('?')[0];
    let status;
    if (req.method === 'GET' && path === '/health') {
      try {
        const ms = await ping(redis);
        status = 200;
        send(res, status, {
          status: 'ok',
          redis: 'up',
          redis_ms: Math.round(ms * 10) / 10,
          integrations: external,
        });
      } catch (err) {
        status = 503;
        log.warn('health check failed', { error: err.message });
        send(res, status, {
          status: 'unavailable',
          redis: 'down',
          error: err.message,
          integrations: external,
        });
      }
    } else if (req.method === 'GET' && path === '/') {
      status = 200;
      send(res, status, {
        service: 'timmy-reference-service',
        version,
        node_env: env.NODE_ENV || null,
      });
    } else {
      status = 404;
      send(res, status, { error: 'not found', path });
    }
    const fields = { method: req.method, path, status, ms: Date.now() - started };
    if (path === '/health' && status === 200) {
      // Health probes come every few seconds: one debug line a minute says they still do.
      probes += 1;
      if (started - lastProbeLog < probeLogEveryMs) return;
      log.debug('request', { ...fields, probes });
      probes = 0;
      lastProbeLog = started;
    } else {
      log[status >= 500 ? 'warn' : 'info']('request', fields);
    }
  });
}

function main() {
  let env;
  let shadowed;
  try {
    ({ env, shadowed } = withFileSecrets(process.env));
  } catch (err) {
    createLogger(process.env.LOG_LEVEL).error('cannot read a secret file', { error: err.message });
    process.exit(1);
  }
  const log = createLogger(env.LOG_LEVEL);
  if (shadowed.length > 0) {
    log.warn('both KEY and KEY_FILE are set: the file wins', { keys: shadowed });
  }
  const port = Number(env.PORT || 3000);
  let stopping = false;
  const server = createApp({ env, log, draining: () => stopping });

  const stop = (signal) => {
    if (stopping) return;
    stopping = true;
    log.info('shutting down', { signal, drain_ms: DRAIN_MS });
    // Never let `docker compose down` wait for its 10-second kill.
    setTimeout(() => process.exit(0), EXIT_WITHIN_MS).unref();
    // Closing a keep-alive connection at once resets a request the client may be sending on
    // it: answer with `Connection: close` first, then close what is idle.
    setTimeout(() => {
      server.close(() => process.exit(0));
      server.closeIdleConnections();
    }, DRAIN_MS);
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));

  server.on('error', (err) => {
    log.error('server error', { error: err.message });
    process.exit(1);
  });
  server.listen(port, () => {
    log.info('listening', {
      port,
      node_env: env.NODE_ENV || null,
      node: process.version,
      redis: `${env.REDIS_HOST || 'redis'}:${env.REDIS_PORT || 6379}`,
    });
    const { status, missing } = integrations(env);
    const off = Object.keys(missing);
    if (off.length > 0) {
      log.warn('integrations unavailable: their tokens are not set or are placeholders', {
        unavailable: off,
        keys: Object.values(missing).flat(),
      });
    } else {
      log.info('integrations available', { integrations: Object.keys(status) });
    }
    const target = {
      host: env.REDIS_HOST || 'redis',
      port: Number(env.REDIS_PORT || 6379),
      timeoutMs: 1000,
    };
    waitForRedis({ target, log, stopped: () => stopping });
  });
}

if (require.main === module) main();

module.exports = { createApp };
