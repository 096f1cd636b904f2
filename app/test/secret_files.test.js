'use strict';
// KEY_FILE -> KEY, as Swarm secrets arrive (docs/SWARM.md): runs anywhere, no stack needed.

const { test } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { loadSecretFiles } = require('../secret_files');

test('each KEY_FILE becomes KEY from the file, one final newline dropped', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'secret-files-'));
  fs.writeFileSync(path.join(dir, 'GITHUB_TOKEN'), 'ghp_fromfile\n');
  fs.writeFileSync(path.join(dir, 'OPENAI_API_KEY'), 'sk-two\nlines\n');
  const env = {
    GITHUB_TOKEN_FILE: path.join(dir, 'GITHUB_TOKEN'),
    OPENAI_API_KEY_FILE: path.join(dir, 'OPENAI_API_KEY'),
    LOG_LEVEL: 'info',
  };
  assert.deepEqual(loadSecretFiles(env), { loaded: ['GITHUB_TOKEN', 'OPENAI_API_KEY'], failed: [] });
  assert.equal(env.GITHUB_TOKEN, 'ghp_fromfile');
  assert.equal(env.OPENAI_API_KEY, 'sk-two\nlines');
  fs.rmSync(dir, { recursive: true });
});

test('a KEY already set wins, and an unreadable file is reported by key only', () => {
  const env = { GITHUB_TOKEN: 'ghp_set', GITHUB_TOKEN_FILE: '/nonexistent/x', OPENAI_API_KEY_FILE: '/nonexistent/y', _FILE: 'z' };
  assert.deepEqual(loadSecretFiles(env), {
    loaded: [],
    failed: [{ key: 'OPENAI_API_KEY', error: 'ENOENT' }],
  });
  assert.equal(env.GITHUB_TOKEN, 'ghp_set');
  assert.equal(env.OPENAI_API_KEY, undefined);
});
