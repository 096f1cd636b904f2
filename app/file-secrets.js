'use strict';
// The `*_FILE` convention for secrets (as the official database images read it): for every
// variable KEY_FILE that names a file in the secrets directory (/run/secrets/, where Swarm and
// Compose mount secrets; SECRETS_DIR overrides it), the value of KEY is that file's content
// (one trailing newline dropped). Any other KEY_FILE is an ordinary setting: LOG_MAX_FILE=3 or
// LOG_FILE=/app/logs/app.log are not secrets. On Swarm, `timmy deploy` in secrets mode mounts each secret at
// /run/secrets/KEY and sets KEY_FILE, so the value never sits in the service's environment
// (which `docker service inspect` shows to anyone with docker access).
// A KEY_FILE that cannot be read is an error naming the key and the path, never the value.
// KEY_FILE wins over a KEY set beside it; the names of such keys are returned for a warning.

const fs = require('node:fs');

function withFileSecrets(env = process.env, readFile = (p) => fs.readFileSync(p, 'utf8')) {
  const out = { ...env };
  const shadowed = [];
  const dir = `${(env.SECRETS_DIR || '/run/secrets').replace(/\/+$/, '')}/`;
  for (const [name, path] of Object.entries(env)) {
    if (!name.endsWith('_FILE') || name.length <= '_FILE'.length || !path) continue;
    if (!path.startsWith(dir)) continue;
    const key = name.slice(0, -'_FILE'.length);
    let value;
    try {
      value = readFile(path);
    } catch (err) {
      throw new Error(`${name}: cannot read ${path}: ${err.code || err.message}`);
    }
    if (env[key] !== undefined && env[key] !== '') shadowed.push(key);
    out[key] = value.endsWith('\r\n') ? value.slice(0, -2) : value.replace(/\n$/, '');
  }
  return { env: out, shadowed };
}

module.exports = { withFileSecrets };
