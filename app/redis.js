'use strict';
// One redis PING over plain TCP (RESP inline command), no client library.
// Resolves with the round-trip time in ms when the server answers +PONG; rejects otherwise.

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

module.exports = { ping };
