'use strict';
// Secrets as files: on a Swarm, `timmy deploy` mounts each secret of .env at
// /run/secrets/KEY and sets KEY_FILE to that path instead of KEY (docs/SWARM.md). Before
// anything reads the environment, each KEY_FILE becomes KEY (the file's content, one final
// newline dropped), unless KEY is set too. Values are never logged, only key names.

const fs = require('node:fs');

// Sets env[KEY] from the file env[KEY_FILE] names; returns { loaded: [KEY...],
// failed: [{ key, error }] } (the error is the file system's code, e.g. ENOENT).
function loadSecretFiles(env = process.env, read = (path) => fs.readFileSync(path, 'utf8')) {
  const loaded = [];
  const failed = [];
  for (const name of Object.keys(env).sort()) {
    if (!name.endsWith('_FILE') || name.length <= '_FILE'.length) continue;
    const key = name.slice(0, -'_FILE'.length);
    if (env[key]) continue;
    try {
      env[key] = read(env[name]).replace(/\r?\n$/, '');
      loaded.push(key);
    } catch (err) {
      failed.push({ key, error: err.code || 'unreadable' });
    }
  }
  return { loaded, failed };
}

module.exports = { loadSecretFiles };
