// Browser test of the hub console: the real osrc-hub (sync and console on port 0) and four
// osrc-node sites on 127.0.0.1, Debian's chromium driven by playwright-core. It logs in, sees the
// four sites online, resolves a conflict in the page and polls until the correction reaches the
// site, checks that a viewer cannot resolve, that a form post without the CSRF token is refused,
// and that a wrong password is refused and slowed; a Statistics report as table, chart and the
// CLI's CSV, k = 1 refused to a viewer; a screenshot of every page goes to
// SCREENSHOTS. Usage: node console.test.mjs BIN_DIR SCREENSHOTS
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const [binDir, shotDir] = process.argv.slice(2);
let chromium;
try {
  ({ chromium } = await import('playwright-core'));
} catch (e) {
  console.error(`FAIL playwright-core is not installed in tests/browser: run make browser-deps (${e.message})`);
  process.exit(1);
}
if (!binDir || !shotDir) throw new Error('usage: node console.test.mjs BIN_DIR SCREENSHOTS');
const SITES = ['MAS', 'ANT', 'MAG', 'ADS'];
const RECORD = 'MAS-P0000001';
const ADMIN = ['office-admin', 'admin-password-1'];
const VIEWER = ['office-viewer', 'viewer-password-1'];
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'osrc-console-'));
const daemons = [];
let failures = 0;

const bin = (name) => path.join(binDir, name);
function run(binary, args, input) {
  try {
    return execFileSync(bin(binary), args, { input, encoding: 'utf8', stdio: ['pipe', 'pipe', 'pipe'] });
  } catch (e) {
    throw new Error(`${binary} ${args.join(' ')} failed: ${e.stderr || e.message}`);
  }
}
function daemon(binary, args, log) {
  const child = spawn(bin(binary), args, { stdio: ['ignore', 'ignore', fs.openSync(log, 'w')] });
  daemons.push(child);
  return child;
}
// Re-checks `probe` until it returns a truthy value; pauses briefly between probes.
async function poll(what, probe, timeoutMs = 60000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
function check(condition, what) {
  console.log(`${condition ? 'ok  ' : 'FAIL'} ${what}`);
  if (!condition) failures++;
}
const readFile = (file) => (fs.existsSync(file) ? fs.readFileSync(file, 'utf8').trim() : '');

async function main() {
  fs.mkdirSync(shotDir, { recursive: true });
  const hubDir = path.join(work, 'hub');
  const hubKey = run('osrc-hub', ['init', '--data', hubDir, '--bind', 'tcp://127.0.0.1:*']).trim().split('\n').pop();
  run('osrc-hub', ['operator', 'add', '--data', hubDir, ADMIN[0], '--role', 'admin'], ADMIN[1] + '\n');
  run('osrc-hub', ['operator', 'add', '--data', hubDir, VIEWER[0], '--role', 'viewer'], VIEWER[1] + '\n');
  daemon('osrc-hub', ['run', '--data', hubDir, '--console', '127.0.0.1:0'], path.join(work, 'hub.err'));
  const endpoint = await poll('hub.endpoint', () => readFile(path.join(hubDir, 'hub.endpoint')));
  const consoleAddress = await poll('console.address', () => readFile(path.join(hubDir, 'console.address')));
  const base = `http://${consoleAddress}`;

  for (const site of SITES) {
    const dir = path.join(work, site);
    const key = run('osrc-node', ['init', '--data', dir, '--site', site, '--hub', endpoint, '--hub-key', hubKey]).trim().split('\n').pop();
    run('osrc-hub', ['enrol', '--data', hubDir, '--site', site, '--key', key, '--name', `OSRC ${site}`]);
    const sample = path.join(work, `${site}.jsonl`);
    run('osrc-gen', ['--site', site, '--participants', '5', '--services-per', '1', '--out', sample]);
    run('osrc-node', ['import', '--data', dir, sample]);
  }
  // A conflict: hub and site MAS edit the same field between two syncs.
  const mas = path.join(work, 'MAS');
  run('osrc-node', ['sync', '--data', mas]);
  run('osrc-hub', ['put', '--data', hubDir, 'participants', RECORD, '--json', '{"occupation":"hub job"}']);
  run('osrc-node', ['put', '--data', mas, 'participants', RECORD, '--json', '{"occupation":"site job"}']);
  for (const site of SITES) daemon('osrc-node', ['run', '--data', path.join(work, site)], path.join(work, `${site}.err`));
  const conflictId = await poll('the conflict at the hub', () => {
    const lines = run('osrc-hub', ['conflicts', 'list', '--data', hubDir, '--json', '--field', 'occupation']).trim();
    return lines ? JSON.parse(lines.split('\n')[0]).conflict : '';
  });

  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: process.getuid && process.getuid() === 0 ? ['--no-sandbox'] : [],
  });
  try {
    const admin = await browser.newContext({ viewport: { width: 1366, height: 768 } });
    const page = await admin.newPage();
    await page.goto(`${base}/sites`);
    check(new URL(page.url()).pathname === '/login', 'an anonymous visit is sent to the login page');
    await page.screenshot({ path: path.join(shotDir, 'login.png'), fullPage: true });

    // A wrong password is refused, and failures for a name wait longer and longer.
    const times = [];
    for (let i = 0; i < 4; i++) {
      await page.fill('input[name=name]', ADMIN[0]);
      await page.fill('input[name=password]', 'not-the-password');
      const started = Date.now();
      const [response] = await Promise.all([page.waitForNavigation(), page.click('button[type=submit]')]);
      times.push(Date.now() - started);
      check(response.status() === 401 && (await page.textContent('.error')).includes('wrong name or password'),
        `wrong password ${i + 1} refused (401, message shown)`);
    }
    console.log(`failed logins took ${times.join(', ')} ms`);
    // The waits are 0, 250, 500 and 1000 ms: compare the first and the last, so a busy machine's
    // jitter in hashing the password does not decide.
    check(times[3] > times[0], 'the fourth failed login is slower than the first');
    const forgedLogin = await page.request.post(`${base}/login`, { form: { name: ADMIN[0], password: ADMIN[1] } });
    check(forgedLogin.status() === 403, 'a login post without the login form\'s token is refused (403)');
    await page.screenshot({ path: path.join(shotDir, 'login-refused.png'), fullPage: true });

    await page.fill('input[name=name]', ADMIN[0]);
    await page.fill('input[name=password]', ADMIN[1]);
    await Promise.all([page.waitForNavigation(), page.click('button[type=submit]')]);
    check(new URL(page.url()).pathname === '/sites', 'the admin logs in to the Sites page');
    const cookie = (await admin.cookies()).find((c) => c.name === 'osrc_session');
    check(cookie && cookie.httpOnly && cookie.sameSite === 'Strict', 'the session cookie is HttpOnly and SameSite=Strict');

    await poll('four sites online', async () => {
      await page.goto(`${base}/sites`);
      return (await page.locator('td.on').count()) === 4;
    });
    check((await page.locator('tr[data-site] td.on').count()) === 4, 'the Sites page shows four sites online');
    check((await page.locator('.chart svg').count()) === 4, 'a chart of changes per site');
    await page.screenshot({ path: path.join(shotDir, 'sites.png'), fullPage: true });
    const phone = await browser.newContext({ viewport: { width: 390, height: 844 }, storageState: await admin.storageState() });
    const phonePage = await phone.newPage();
    await phonePage.goto(`${base}/sites`);
    await phonePage.screenshot({ path: path.join(shotDir, 'sites-phone.png'), fullPage: true });
    await phone.close();

    // A form post without the CSRF token is refused, and changes nothing.
    const forged = await page.request.post(`${base}/conflicts/resolve`, { form: { id: conflictId, keep: 'winner' } });
    check(forged.status() === 403, 'a resolve without the CSRF token is refused (403)');

    await page.goto(`${base}/conflicts?field=occupation`);
    const row = page.locator(`tr[data-conflict="${conflictId}"]`);
    check((await row.count()) === 1, 'the conflict is listed with its id');
    check((await row.textContent()).includes('hub job') && (await row.textContent()).includes('site job'),
      'kept and lost values shown');
    await page.screenshot({ path: path.join(shotDir, 'conflicts.png'), fullPage: true });

    // The viewer sees the conflict but no button, and a post with their own token is refused.
    const viewer = await browser.newContext({ viewport: { width: 1366, height: 768 } });
    const vpage = await viewer.newPage();
    await vpage.goto(`${base}/login`);
    await vpage.fill('input[name=name]', VIEWER[0]);
    await vpage.fill('input[name=password]', VIEWER[1]);
    await Promise.all([vpage.waitForNavigation(), vpage.click('button[type=submit]')]);
    await vpage.goto(`${base}/conflicts`);
    check((await vpage.locator(`tr[data-conflict="${conflictId}"]`).count()) === 1, 'the viewer sees the conflict');
    check((await vpage.locator('form[action="/conflicts/resolve"]').count()) === 0, 'the viewer gets no resolve button');
    await vpage.screenshot({ path: path.join(shotDir, 'conflicts-viewer.png'), fullPage: true });
    const viewerToken = await vpage.locator('input[name=csrf]').first().getAttribute('value');
    const byViewer = await vpage.request.post(`${base}/conflicts/resolve`,
      { form: { csrf: viewerToken, id: conflictId, keep: 'loser' } });
    check(byViewer.status() === 403, 'a resolve by the viewer, with a valid token, is refused (403)');
    const unprotected = await vpage.goto(`${base}/statistics?report=participants&by=sex&k=1`);
    check(unprotected.status() === 403 && (await vpage.textContent('.error')).includes('only admins'),
      'the viewer may not see counts without disclosure control (k = 1)');
    await viewer.close();

    // The admin enters a value: a central correction that reaches site MAS.
    await row.locator('input[name=value]').fill('"console job"');
    await Promise.all([page.waitForNavigation(), row.locator('button', { hasText: 'Set' }).click()]);
    check((await page.textContent('.notice')).includes(`resolved ${conflictId}`), 'the page says the conflict is resolved');
    check((await page.locator(`tr[data-conflict="${conflictId}"]`).count()) === 0, 'the conflict left the open list');
    await page.screenshot({ path: path.join(shotDir, 'conflicts-resolved.png'), fullPage: true });
    await poll('the correction at site MAS', () =>
      run('osrc-node', ['get', '--data', mas, 'participants', RECORD]).includes('console job'));
    check(true, 'the correction reached site MAS (osrc-node get)');
    const audit = run('osrc-hub', ['audit', '--data', hubDir]);
    check(audit.includes(ADMIN[0]) && audit.includes('conflict resolution'), 'the resolution is audited as the operator');

    // A reference upload is imported and delivered to the sites.
    const courses = path.join(work, 'courses.jsonl');
    fs.writeFileSync(courses, '{"collection":"courses","id":"console_course","fields":{"hours":4,"name":"Uploaded in the console","topic":"migrant rights"}}\n');
    await page.goto(`${base}/reference`);
    check((await page.locator('form[action="/reference/import"]').count()) === 1, 'the admin gets the import form');
    await page.screenshot({ path: path.join(shotDir, 'reference.png'), fullPage: true });
    await page.selectOption('select[name=collection]', 'courses');
    await page.setInputFiles('input[name=file]', courses);
    await Promise.all([page.waitForNavigation(), page.click('form[action="/reference/import"] button')]);
    check((await page.textContent('.notice')).includes('imported 1 courses records, 1 changed'), 'the upload is imported');
    await page.screenshot({ path: path.join(shotDir, 'reference-imported.png'), fullPage: true });
    await poll('the uploaded course at site ANT', () => {
      try {
        return run('osrc-node', ['get', '--data', path.join(work, 'ANT'), 'courses', 'console_course']).includes('Uploaded in the console');
      } catch {
        return false;
      }
    });
    check(true, 'the uploaded course reached site ANT');
    await page.goto(`${base}/operators`);
    check((await page.locator('td', { hasText: VIEWER[0] }).count()) === 1, 'the Operators page lists the viewer');
    await page.screenshot({ path: path.join(shotDir, 'operators.png'), fullPage: true });

    // Statistics: a report chosen in the form, as a table and a chart; its CSV is the CLI's.
    const reportArgs = ['report', '--data', hubDir, 'participants', '--by', 'site', '--format', 'csv'];
    await poll('every site\'s participants at the hub', () => run('osrc-hub', reportArgs).includes('Total,20'));
    await page.goto(`${base}/statistics`);
    await page.selectOption('select[name=report]', 'participants');
    await page.locator('select[name=by]').first().selectOption('site');
    await Promise.all([page.waitForNavigation(), page.click('form[action="/statistics"] button')]);
    check((await page.locator('svg.report rect').count()) === 4, 'the chart has a bar per site');
    check((await page.locator('table th', { hasText: 'MAS' }).count()) === 1 &&
      (await page.locator('td.n', { hasText: '20' }).count()) === 1, 'the table shows each site and the total');
    await page.screenshot({ path: path.join(shotDir, 'statistics.png'), fullPage: true });
    const csvLink = await page.locator('a', { hasText: 'Download CSV' }).getAttribute('href');
    const csv = await page.request.get(`${base}${csvLink}`);
    check(csv.status() === 200 && (csv.headers()['content-disposition'] || '').startsWith('attachment'),
      'the CSV comes as a download');
    check((await csv.text()) === run('osrc-hub', reportArgs), 'the CSV download equals osrc-hub report --format csv');
    const small = await page.request.get(`${base}/statistics.csv?report=services&by=site&by=service_type`);
    check(/,c\n/.test(await small.text()), 'small counts are suppressed as c in the download');
    check(run('osrc-hub', ['audit', '--data', hubDir]).includes('participants by site, k 5 (console)'),
      'a report from the console is audited as the operator');

    const metrics = await page.request.get(`${base}/metrics`, { headers: { Authorization: '' } });
    check(metrics.status() === 401 && (metrics.headers()['www-authenticate'] || '').startsWith('Basic'),
      '/metrics without credentials: 401 with WWW-Authenticate');
    const basic = 'Basic ' + Buffer.from(`${VIEWER[0]}:${VIEWER[1]}`).toString('base64');
    const scraped = await page.request.get(`${base}/metrics`, { headers: { Authorization: basic } });
    check(scraped.status() === 200 && (await scraped.text()).includes('osrc_site_connected{site="MAS"} 1'),
      '/metrics with an operator\'s credentials');
  } finally {
    await browser.close();
  }
}

let error;
try {
  await main();
} catch (e) {
  error = e;
}
for (const child of daemons) child.kill('SIGTERM');
await Promise.all(daemons.map((child) => (child.exitCode !== null ? null : new Promise((r) => child.on('exit', r)))));
if (error || failures) {
  for (const log of fs.readdirSync(work).filter((f) => f.endsWith('.err'))) {
    console.log(`--- ${log}\n${fs.readFileSync(path.join(work, log), 'utf8').split('\n').slice(-15).join('\n')}`);
  }
}
fs.rmSync(work, { recursive: true, force: true });
if (error) {
  console.error(`FAIL ${error.message}`);
  process.exit(1);
}
console.log(failures ? `${failures} checks failed` : 'all checks passed');
process.exit(failures ? 1 : 0);
