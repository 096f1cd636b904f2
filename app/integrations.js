'use strict';
// The external services the real Timmy app calls, and whether their settings are usable.
// The service starts without them: each one missing is reported as unavailable (in /health
// and in a startup log line), never a crash, so a dev stack runs before the tokens exist.
// Values are never reported, only whether they are set.

const INTEGRATIONS = [
  { name: 'clickup', keys: ['CLICKUP_API_TOKEN', 'CLICKUP_TEAM_ID'] },
  { name: 'github', keys: ['GITHUB_TOKEN', 'GITHUB_REPO'] },
  { name: 'anthropic', keys: ['ANTHROPIC_API_KEY'] },
  { name: 'openai', keys: ['OPENAI_API_KEY'] },
];

// The placeholders of .env.example (and the usual ones): `your_…`, `…_here`, `changeme`,
// `xxx…`, `<…>`. The Rust side (`timmy check`) has the full rule; this one only has to
// recognise what .env.example ships.
function isPlaceholder(value) {
  const v = String(value).trim().toLowerCase();
  return (
    /(^|[_\-/])your[_-]/.test(v) ||
    /_here$/.test(v) ||
    /^change_?me$/.test(v) ||
    /^(sk-|ghp_|pk_)?x{3,}$/.test(v) ||
    /^<.*>$/.test(v) ||
    v === 'todo'
  );
}

// { clickup: 'available' | 'unavailable', ... } and, per unavailable one, why (key names only).
function integrations(env = process.env) {
  const status = {};
  const missing = {};
  for (const { name, keys } of INTEGRATIONS) {
    const problems = keys.filter((k) => !env[k] || isPlaceholder(env[k]));
    status[name] = problems.length === 0 ? 'available' : 'unavailable';
    if (problems.length > 0) missing[name] = problems;
  }
  return { status, missing };
}

module.exports = { integrations, isPlaceholder, INTEGRATIONS };
