// Opens the gateway's GraphiQL in headless Chromium (Debian's /usr/bin/chromium, driven by playwright-core),
// enters a query in the editor, runs it with the run button and waits for the expected text in the result pane.
// Usage: node graphiql.mjs --url http://127.0.0.1:PORT/graphql --query '{ ... }' --expect iris --screenshot out.png
// Prints one JSON line: {"editor": ..., "result": ..., "served": [...], "blocked": [...], "pageErrors": [...]}.
// Exit code 0 when the expected text appeared, 1 otherwise (the JSON line is printed either way).
//
// GraphiQL's page loads React, GraphiQL and the explorer plugin from unpkg.com (with SRI hashes). This machine
// reaches only package registries, so those exact files are served from node_modules (the same npm tarballs
// unpkg serves; the browser still checks the page's integrity hashes). Any other non-loopback request is
// refused and reported.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { chromium } from 'playwright-core';

const HERE = dirname(fileURLToPath(import.meta.url));
const CHROMIUM = '/usr/bin/chromium';
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const TYPES = { '.js': 'application/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8' };

const { values } = parseArgs({
  options: {
    url: { type: 'string' },
    query: { type: 'string' },
    expect: { type: 'string' },
    screenshot: { type: 'string' },
    timeout: { type: 'string', default: '60000' },
  },
});
for (const name of ['url', 'query', 'expect', 'screenshot']) {
  if (!values[name]) {
    console.error('usage: node graphiql.mjs --url URL --query QUERY --expect TEXT --screenshot FILE [--timeout MS]');
    process.exit(2);
  }
}
const timeout = Number(values.timeout);
const watchdog = setTimeout(() => { console.error(`graphiql.mjs: no result within ${2 * timeout} ms`); process.exit(3); },
  2 * timeout);

const served = [];
const blocked = [];
const pageErrors = [];

// https://unpkg.com/<name>@<version>/<file> -> node_modules/<name>/<file>, only at the pinned version.
function fromNodeModules(url) {
  const match = /^\/((?:@[^/]+\/)?[^/@]+)@([^/]+)\/(.+)$/.exec(url.pathname);
  if (!match) return { error: `not a package file: ${url.href}` };
  const [, name, version, file] = match;
  const root = join(HERE, 'node_modules', name);
  let installed;
  try {
    installed = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).version;
  } catch {
    return { error: `${name} is not in tests/browser/package.json (the page wants ${name}@${version})` };
  }
  if (installed !== version) return { error: `the page wants ${name}@${version}; tests/browser pins ${installed}` };
  const path = join(root, file);
  if (!path.startsWith(root + '/')) return { error: `bad path ${url.pathname}` };
  try {
    return { body: readFileSync(path), contentType: TYPES[extname(path)] ?? 'application/octet-stream' };
  } catch {
    return { error: `${name}@${version} has no ${file}` };
  }
}

const userDataDir = mkdtempSync(join(tmpdir(), 'graphiql-chromium-'));
let context;
let ok = false;
const report = { editor: null, result: null, served, blocked, pageErrors };
try {
  context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM, headless: true, args: ARGS, viewport: { width: 1280, height: 800 }, timeout,
  });
  await context.route('**/*', async (route) => {
    const url = new URL(route.request().url());
    if (['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname) || url.protocol === 'data:') {
      await route.continue();
    } else if (url.hostname === 'unpkg.com') {
      const file = fromNodeModules(url);
      if (file.error) {
        blocked.push(`${url.href}: ${file.error}`);
        await route.fulfill({ status: 404, body: file.error });
      } else {
        served.push(url.href);
        await route.fulfill({ status: 200, body: file.body, contentType: file.contentType,
          headers: { 'access-control-allow-origin': '*' } });
      }
    } else {
      blocked.push(url.href);
      await route.abort('blockedbyclient');
    }
  });
  const page = context.pages()[0] ?? await context.newPage();
  page.setDefaultTimeout(timeout);
  page.on('pageerror', (error) => pageErrors.push(String(error)));
  await page.goto(values.url, { waitUntil: 'load' });

  const editor = page.locator('.graphiql-query-editor .CodeMirror');
  await editor.waitFor({ state: 'visible' });
  await editor.click();
  await page.keyboard.press('ControlOrMeta+A');
  await page.keyboard.press('Backspace');
  // insertText enters the text as one input (as a paste does), so the editor's bracket auto-closing adds nothing
  await page.keyboard.insertText(values.query);
  report.editor = await editor.evaluate((element) => element.CodeMirror.getValue());

  await page.locator('.graphiql-execute-button').click();
  const response = page.locator('.graphiql-response');
  try {
    await page.waitForFunction(
      (expected) => document.querySelector('.graphiql-response')?.innerText.includes(expected), values.expect,
    );
    ok = true;
  } finally {
    report.result = await response.innerText().catch(() => null);
    await page.screenshot({ path: values.screenshot });
  }
} catch (error) {
  report.error = String(error);
} finally {
  await context?.close().catch(() => {});
  rmSync(userDataDir, { recursive: true, force: true });
  clearTimeout(watchdog);
}
console.log(JSON.stringify(report));
process.exit(ok ? 0 : 1);
