'use strict';
// The `*_FILE` convention for secrets (as the official database images read it): for every
// variable KEY_FILE that is set, the value of KEY is the content of that file (one trailing
// newline dropped). On Swarm, `timmy deploy` in secrets mode mounts each secret at
// /run/secrets/KEY and sets KEY_FILE, so the value never sits in the service's environment
// (which `docker service inspect` shows to anyone with docker access).
// A KEY_FILE that cannot be read is an error naming the key and the path, never the value.
// KEY_FILE wins over a KEY set beside it; the names of such keys are returned for a warning.

const fs = require('node:fs');

function withFileSecrets(env = process.env, readFile = (p) => fs.readFileSync(p, 'utf8')) {
  const out = { ...env };
  const shadowed = [];
  for (const [name, path] of Object.entries(env)) {
    if (!name.endsWith('_FILE') || name.length <= '_FILE'.length || !path) continue;
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
