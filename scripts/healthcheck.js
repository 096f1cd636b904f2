'use strict';
// Container health check: GET http://localhost:$PORT/health (PORT defaults to 3000).
// Exit 0 only on HTTP 200; 1 on any other status, a connection error or after 2 s.
// Its one output line lands in `docker inspect`'s .State.Health.Log.

const http = require('node:http');

const port = Number(process.env.PORT || 3000);
const req = http.get({ host: 'localhost', port, path: '/health', timeout: 2000 }, (res) => {
  let body = '';
  res.setEncoding('utf8');
  res.on('data', (chunk) => {
    body += chunk;
  });
  res.on('end', () => {
    console.log(`HTTP ${res.statusCode} ${body.slice(0, 200)}`);
    process.exit(res.statusCode === 200 ? 0 : 1);
  });
});
req.on('timeout', () => req.destroy(new Error('no answer within 2 s')));
req.on('error', (err) => {
  console.log(`unhealthy: ${err.message}`);
  process.exit(1);
});
