'use strict';
// Reference service standing in for the Timmy app. It honours the stack's runtime contract:
//   GET /health  200 {"status":"ok"} when a redis PING answers PONG, else 503
//   GET /        200 with the service's name, version and NODE_ENV
//   JSON log lines on stdout; clean exit (code 0) within a second on SIGTERM/SIGINT.
// Environment: PORT (3000), REDIS_HOST (redis), REDIS_PORT (6379), LOG_LEVEL (info), NODE_ENV.

const http = require('node:http');
const { createLogger } = require('./log');
const { ping } = require('./redis');
const { version } = require('./package.json');

function createApp({ env = process.env, log = createLogger(env.LOG_LEVEL) } = {}) {
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
        send(res, status, { status: 'ok', redis: 'up', redis_ms: Math.round(ms * 10) / 10 });
      } catch (err) {
        status = 503;
        log.warn('health check failed', { error: err.message });
        send(res, status, { status: 'unavailable', redis: 'down', error: err.message });
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
    // Health probes come every few seconds: keep them at debug level.
    const level = path === '/health' && status === 200 ? 'debug' : 'info';
    log[level]('request', { method: req.method, path, status, ms: Date.now() - started });
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
  });
}

if (require.main === module) main();

module.exports = { createApp };
