// lib.mjs - shared by the browser tests (tests/browser/test_*.mjs): each starts its own
// treadlabd (simulated treadmill, loopback TCP, its own socket and database), makes an
// account through the command line, drives Debian's Chromium headless through
// playwright-core, and stops what it started by pid. Waits are on conditions (what the
// page shows, the daemon's ready line), never on fixed sleeps. Exit 77 (ctest: skipped)
// when Chromium or the npm packages (tests/package-lock.json, npm ci) are missing.
import {spawn, spawnSync} from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import {createRequire} from 'node:module';

export const BUILD = process.env.TL_BUILD_DIR;
export const SRC = process.env.TL_SOURCE_DIR;
if (!BUILD || !SRC) {
	console.error('run through ctest (TL_BUILD_DIR, TL_SOURCE_DIR)');
	process.exit(2);
}
const CHROMIUM = process.env.TL_CHROMIUM || '/usr/bin/chromium';
export const ARTIFACTS = path.join(BUILD, 'artifacts', 'browser');
const require = createRequire(import.meta.url);

let chromium;
try {
	({chromium} = await import('playwright-core'));
	require.resolve('axe-core/axe.min.js');
} catch (e) {
	console.log('SKIP: npm packages missing (run npm ci in tests/): ' + e.message);
	process.exit(77);
}
if (!fs.existsSync(CHROMIUM)) {
	console.log(`SKIP: no ${CHROMIUM} (apt-get install chromium)`);
	process.exit(77);
}

export const WORK = fs.mkdtempSync(path.join(os.tmpdir(), 'treadlab-browser.'));
export const SOCKET = path.join(WORK, 'api.sock');
const started = [];
let fails = 0, passes = 0;

export function check(what, ok, detail) {
	if (ok) {
		passes++;
		console.log(`ok   - ${what}`);
	} else {
		fails++;
		console.log(`FAIL - ${what}${detail !== undefined ? `: ${detail}` : ''}`);
	}
	return ok;
}

// The daemon: a configuration of [api] listen (port 0 unless given) and whatever else
// the test needs; resolves once its --ready-fd line came, with the address it bound.
export async function startDaemon(extra = '', port = 0) {
	const conf = path.join(WORK, 'd.conf');
	fs.writeFileSync(conf, `[api]\nlisten = 127.0.0.1:${port}\n${extra}\n`);
	const log = path.join(WORK, 'daemon.log');
	const logFd = fs.openSync(log, 'a');
	const size = fs.statSync(log).size;
	const child = spawn(path.join(BUILD, 'treadlabd'), ['--config', conf, '--db', path.join(WORK, 'treadlab.db'),
		'--socket', SOCKET, '--ready-fd', '3'], {stdio: ['ignore', logFd, logFd, 'pipe']});
	fs.closeSync(logFd);
	started.push(child);
	const ready = await new Promise((resolve) => {
		let got = '';
		const timer = setTimeout(() => resolve(false), 60000);
		child.stdio[3].on('data', (d) => {
			got += d;
			if (got.includes('ready\n')) {
				clearTimeout(timer);
				resolve(true);
			}
		});
		child.on('exit', () => resolve(false));
	});
	if (!ready)
		throw new Error('treadlabd did not become ready: ' + fs.readFileSync(log, 'utf8'));
	const m = /listen (127\.0\.0\.1:\d+)/.exec(fs.readFileSync(log, 'utf8').slice(size));
	return {child, addr: m[1], url: `http://${m[1]}`};
}

export async function stopDaemon(d, signal = 'SIGTERM') {
	if (d.child.exitCode !== null) return d.child.exitCode;
	const done = new Promise((resolve) => d.child.on('exit', (code, sig) => resolve(code ?? sig)));
	d.child.kill(signal);
	return done;
}

// treadlab user add NAME --role ROLE over the Unix socket, the password on stdin.
export function addUser(name, role, password) {
	const r = spawnSync(path.join(BUILD, 'treadlab'), ['user', 'add', name, '--role', role],
		{input: password + '\n', env: {...process.env, TREADLAB_SOCKET: SOCKET}, encoding: 'utf8'});
	if (r.status !== 0) throw new Error(`user add ${name}: ${r.stderr}`);
}

// A raw request over the Unix socket (what the daemon really recorded, not what the
// page says): {status, json}.
export function viaSocket(method, urlPath, body) {
	return new Promise((resolve, reject) => {
		const headers = {Host: 'treadlabd'};
		if (method !== 'GET') headers['Content-Type'] = 'application/json';
		const req = http.request({socketPath: SOCKET, method, path: urlPath, headers}, (res) => {
			let text = '';
			res.on('data', (d) => { text += d; });
			res.on('end', () => {
				let json = null;
				try { json = JSON.parse(text); } catch (e) { /* not JSON */ }
				resolve({status: res.statusCode, json, text});
			});
		});
		req.on('error', reject);
		if (body !== undefined) req.write(JSON.stringify(body));
		req.end();
	});
}

// A raw request over TCP with the headers given (Host, Origin, Cookie ... as an attacker
// would send them): {status, json}.
export function viaTcp(addr, method, urlPath, headers, body) {
	const [host, port] = addr.split(':');
	return new Promise((resolve, reject) => {
		const req = http.request({host, port: Number(port), method, path: urlPath, headers, setHost: false}, (res) => {
			let text = '';
			res.on('data', (d) => { text += d; });
			res.on('end', () => {
				let json = null;
				try { json = JSON.parse(text); } catch (e) { /* not JSON */ }
				resolve({status: res.statusCode, json, text, headers: res.headers});
			});
		});
		req.on('error', reject);
		if (body !== undefined) req.write(body);
		req.end();
	});
}

// Polls fn (async, truthy when done) until it is or the time is up.
export async function until(what, fn, timeoutMs = 30000) {
	const end = Date.now() + timeoutMs;
	for (;;) {
		const v = await fn();
		if (v) return v;
		if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
		await new Promise((r) => setTimeout(r, 100));
	}
}

export async function launch() {
	const browser = await chromium.launch({executablePath: CHROMIUM, headless: true,
		args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage']});
	started.push({kill: () => browser.close().catch(() => {})});
	return browser;
}

// A page that fails the test on any console error (a Content-Security-Policy violation
// above all: the page must run under its own policy) or uncaught exception.
export async function newPage(browser) {
	const context = await browser.newContext({viewport: {width: 1280, height: 900}});
	const page = await context.newPage();
	page.on('console', (m) => {
		if (m.type() === 'error' && !/Failed to load resource|ERR_CONNECTION_REFUSED|net::ERR_/.test(m.text()))
			check(`no console error (${m.text()})`, false);
		if (/Content.Security.Policy/i.test(m.text())) check(`no CSP violation (${m.text()})`, false);
	});
	page.on('pageerror', (e) => check(`no uncaught exception (${e.message})`, false));
	page.setDefaultTimeout(30000);
	return page;
}

export async function screenshot(page, name) {
	fs.mkdirSync(ARTIFACTS, {recursive: true});
	await page.screenshot({path: path.join(ARTIFACTS, `${name}.png`), fullPage: true});
	// A full-page shot resizes the view for a moment: let the layout settle before the
	// next click lands (one landed beside its button otherwise).
	await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
}

// axe-core on what the page shows now: no serious or critical violation. It is run
// through the DevTools protocol (page.evaluate), which the page's CSP does not govern.
const axeSource = fs.readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
export async function axe(page, screen) {
	await page.evaluate(axeSource + '\n;0');
	const r = await page.evaluate(() => window.axe.run(document, {resultTypes: ['violations']}));
	const bad = r.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
	check(`axe: no serious or critical violation on the ${screen} screen`, bad.length === 0,
		bad.map((v) => `${v.id} (${v.impact}): ${v.nodes.map((n) => n.target.join(' ')).join('; ')}`).join(' | '));
}

export async function login(page, url, user, password) {
	await page.goto(url + '/');
	await page.getByLabel('User name').fill(user);
	await page.getByLabel('Password').fill(password);
	await page.getByRole('button', {name: 'Log in'}).click();
	await page.locator('#who').filter({hasText: user}).waitFor();
	await page.locator('#v-state').filter({hasNotText: /^-$/}).waitFor();
}

// Starts a test from the page; retries while the daemon refuses because the belt is
// still coming to rest after an emergency stop (409), which is the daemon's rule.
export async function startTest(page, patient, protocol = 'gardner-skinner') {
	await page.getByLabel('Patient identifier (MRN)').first().fill(patient);
	await page.getByLabel('Protocol', {exact: true}).selectOption(protocol);
	await until('the test to start', async () => {
		const err = page.locator('#start-error');
		await err.evaluate((e) => { e.textContent = ''; });
		await page.locator('#b-start').click();
		await until('an answer to start', async () =>
			(await page.locator('#v-state').textContent()) === 'running' || (await err.textContent()) !== '');
		if ((await page.locator('#v-state').textContent()) === 'running') return true;
		const text = await err.textContent();
		if (!/still stopping|already in progress/.test(text)) throw new Error('start refused: ' + text);
		return false;
	}, 60000);
}

export async function state(page) {
	return page.locator('#v-state').textContent();
}

// Runs main; on an exception prints it and saves a screenshot of every open page.
export async function run(name, main) {
	let code = 0;
	try {
		await main();
	} catch (e) {
		console.log(`FAIL - ${e.stack || e}`);
		fails++;
	} finally {
		for (const s of started.reverse()) {
			try {
				if (s.exitCode === null || s.exitCode === undefined) s.kill('SIGTERM');
			} catch (e) { /* gone */ }
		}
		await Promise.all(started.filter((s) => s.pid).map((s) =>
			s.exitCode !== null ? null : new Promise((r) => s.on('exit', r))));
		const log = path.join(WORK, 'daemon.log');
		if (fails && fs.existsSync(log)) console.log('daemon log:\n' + fs.readFileSync(log, 'utf8'));
		fs.rmSync(WORK, {recursive: true, force: true});
		console.log(`${name}: ${passes} passed, ${fails} failed`);
		code = fails ? 1 : 0;
	}
	process.exit(code);
}
