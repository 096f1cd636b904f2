'use strict';
// Reference service standing in for the Timmy app. It honours the stack's runtime contract:
//   GET /health  200 {"status":"ok"} when a redis PING answers PONG, else 503; the external
//                integrations (ClickUp, GitHub, Anthropic, OpenAI) are listed as available or
//                unavailable and never change the status: the service runs without their tokens
//   GET /        200 with the service's name, version and NODE_ENV
//   JSON log lines on stdout; clean exit (code 0) within a second on SIGTERM/SIGINT.
//   Successful health probes are logged at debug level once a minute (with how many there
//   were), failed ones every time at warn: a probe every 3 s would bury the app's own lines.
// Environment: PORT (3000), REDIS_HOST (redis), REDIS_PORT (6379), LOG_LEVEL (info), NODE_ENV,
// and the integrations' tokens (see integrations.js).

const http = require('node:http');
const { createLogger } = require('./log');
const { ping } = require('./redis');
const { integrations } = require('./integrations');
const { version } = require('./package.json');

const PROBE_LOG_EVERY_MS = 60_000;

function createApp({
  env = process.env,
  log = createLogger(env.LOG_LEVEL),
  probeLogEveryMs = PROBE_LOG_EVERY_MS,
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
    res.writeHead(status, {
      'content-type': 'application/json',
      'content-length': Buffer.byteLength(text),
    });
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
  const log = createLogger(process.env.LOG_LEVEL);
  const port = Number(process.env.PORT || 3000);
  const server = createApp({ log });

  let stopping = false;
  const stop = (signal) => {
    if (stopping) return;
    stopping = true;
    log.info('shutting down', { signal });
    // Never let `docker compose down` wait for its 10-second kill.
    setTimeout(() => process.exit(0), 800).unref();
    server.close(() => process.exit(0));
    server.closeAllConnections();
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
      node_env: process.env.NODE_ENV || null,
      node: process.version,
      redis: `${process.env.REDIS_HOST || 'redis'}:${process.env.REDIS_PORT || 6379}`,
    });
    const { status, missing } = integrations(process.env);
    const off = Object.keys(missing);
    if (off.length > 0) {
      log.warn('integrations unavailable: their tokens are not set or are placeholders', {
        unavailable: off,
        keys: Object.values(missing).flat(),
      });
    } else {
      log.info('integrations available', { integrations: Object.keys(status) });
    }
  });
}

if (require.main === module) main();

module.exports = { createApp };
