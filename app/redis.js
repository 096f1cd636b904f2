'use strict';
// One redis PING over plain TCP (RESP inline command), no client library.
// Resolves with the round-trip time in ms when the server answers +PONG; rejects otherwise.
// waitForRedis retries it until redis answers (no start ordering on Swarm).

const net = require('node:net');

function ping({ host = 'redis', port = 6379, timeoutMs = 1000 } = {}) {
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    let reply = '';
    let settled = false;
    const socket = net.connect({ host, port });
    const finish = (err) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      if (err) reject(err);
      else resolve(Number(process.hrtime.bigint() - started) / 1e6);
    };
    const timer = setTimeout(
      () => finish(new Error(`redis ${host}:${port} did not answer within ${timeoutMs} ms`)),
      timeoutMs,
    );
    socket.setEncoding('utf8');
    socket.on('connect', () => socket.write('PING\r\n'));
    socket.on('data', (chunk) => {
      reply += chunk;
      if (!reply.includes('\r\n')) return;
      if (reply.startsWith('+PONG')) finish();
      else finish(new Error(`redis ${host}:${port} answered ${JSON.stringify(reply.trim())}`));
    });
    socket.on('error', (err) => finish(new Error(`redis ${host}:${port}: ${err.code || err.message}`)));
    socket.on('close', () => finish(new Error(`redis ${host}:${port} closed the connection`)));
  });
}

// Swarm has no start ordering (`depends_on` is ignored): the service must keep trying until
// redis answers. Pings every `delayMs` (doubling up to `maxDelayMs`) until one answers, logging
// the first failure and then every `logEvery`-th, and resolves with the number of attempts.
// /health answers 503 meanwhile, so the container's health check holds the task back.
// `stopped()` ends the wait early (shutdown); it then resolves with 0.
async function waitForRedis({
  target,
  log,
  ping: pingOnce = ping,
  delayMs = 250,
  maxDelayMs = 2000,
  logEvery = 10,
  stopped = () => false,
}) {
  let delay = delayMs;
  for (let attempt = 1; ; attempt += 1) {
    if (stopped()) return 0;
    try {
      await pingOnce(target);
      if (attempt > 1) log.info('redis answers', { attempts: attempt });
      return attempt;
    } catch (err) {
      if (attempt === 1 || attempt % logEvery === 0) {
        log.warn('redis does not answer yet; retrying', { attempt, error: err.message });
      }
    }
    await new Promise((resolve) => setTimeout(resolve, delay));
    delay = Math.min(delay * 2, maxDelayMs);
  }
}

module.exports = { ping, waitForRedis };
