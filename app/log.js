'use strict';
// JSON log lines on stdout: {"time","level","msg",...fields}. LOG_LEVEL filters
// (debug < info < warn < error; default info).

const LEVELS = { debug: 10, info: 20, warn: 30, error: 40 };

function createLogger(levelName = process.env.LOG_LEVEL, out = process.stdout) {
  const threshold = LEVELS[String(levelName || 'info').toLowerCase()] ?? LEVELS.info;
  const write = (level, msg, fields) => {
    if (LEVELS[level] < threshold) return;
    const line = { time: new Date().toISOString(), level, msg, ...fields };
    out.write(`${JSON.stringify(line)}\n`);
  };
  return {
    debug: (msg, fields) => write('debug', msg, fields),
    info: (msg, fields) => write('info', msg, fields),
    warn: (msg, fields) => write('warn', msg, fields),
    error: (msg, fields) => write('error', msg, fields),
  };
}

module.exports = { createLogger, LEVELS };
