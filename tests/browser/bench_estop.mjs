// bench_estop.mjs - the page's emergency stop beside the command line's (prints figures,
// asserts none; not a ctest). For each of N stops of a walking belt, fired at a random
// phase of the daemon's 100 ms tick, from the moment of the click (the mouse button's
// release sent to headless Chromium; and, in the page, its click event) or of the start
// of `treadlab estop` (process start included) or of a bare POST /v1/estop from this
// script, over the Unix socket and over TCP with the page's session (cookie and token):
//
// - default: the simulated treadmill (time x20), to the driver's emergency-stop call
//   returning in the daemon (GET /v1/metrics estop_at_ns);
// - --rtu: treadsim as a Modbus RTU slave on a pty paced at 19200 baud (time x20), to
//   the stop frame's first byte at treadsim (its frame log). After each stop, once the
//   belt is at rest, treadsim's latched stop is reset at its console (`estop-reset` on
//   its control socket, as an operator would) before the next start.
//
// Then the page's Server-Sent Events: from the daemon's state change (estop_at_ns) to
// the page's DOM showing "emergency stopped", and to the next animation frame after it.
//
// Every time is CLOCK_MONOTONIC: Node's process.hrtime on Linux, the daemon's metrics and
// treadsim's frame log. The page's performance.now() (Chromium: the same monotonic clock,
// its own origin) is mapped onto it by the tightest of 20 round trips.
//
// Run: TL_BUILD_DIR=build TL_SOURCE_DIR=. node tests/browser/bench_estop.mjs [N] [--rtu]
import {spawn} from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import {BUILD, SOCKET, SRC, WORK, addUser, launch, login, newPage, run, startDaemon, stopDaemon, until,
	viaSocket, viaTcp} from './lib.mjs';

const RTU = process.argv.includes('--rtu');
const N = Number(process.argv.slice(2).find((a) => /^\d+$/.test(a)) || 50);
const LINK = path.join(WORK, 'tty-treadsim');
const CTL = path.join(WORK, 'treadsim.ctl');
const SIMLOG = path.join(WORK, 'treadsim.log');
// how treadsim logs the quick-stop command (unit 1, write single register 2, value 2:
// config/devices/treadsim.profile)
const ESTOP_FRAME = / rx modbus-rtu 01 06 00 02 00 02 /;

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const nowNs = () => process.hrtime.bigint();

// treadsim on a pty at 19200 baud; resolves with the child once it said "ready".
function startTreadsim() {
	const sim = spawn(path.join(BUILD, 'hil', 'treadsim'), ['--modbus-rtu', LINK, '--baud', '19200',
		'--time-scale', '20', '--control', CTL, '--log', SIMLOG], {stdio: ['ignore', 'pipe', 'inherit']});
	return new Promise((resolve, reject) => {
		let got = '';
		sim.stdout.on('data', (d) => {
			got += d;
			if (got.includes('ready\n')) resolve(sim);
		});
		sim.on('exit', () => reject(new Error('treadsim did not become ready')));
	});
}

// One command on treadsim's control socket; resolves with its reply line.
function simctl(line) {
	return new Promise((resolve, reject) => {
		const c = net.createConnection(CTL, () => c.write(line + '\n'));
		let got = '';
		c.on('data', (d) => {
			got += d;
			if (got.includes('\n')) {
				c.end();
				resolve(got.trim());
			}
		});
		c.on('error', reject);
	});
}

// treadsim's frame log, read on from where the last look stopped.
const simlog = {fd: null, pos: 0, rest: ''};
function simLines() {
	if (simlog.fd === null) simlog.fd = fs.openSync(SIMLOG, 'r');
	const buf = Buffer.alloc(65536);
	let text = simlog.rest;
	for (;;) {
		const n = fs.readSync(simlog.fd, buf, 0, buf.length, simlog.pos);
		if (n <= 0) break;
		simlog.pos += n;
		text += buf.toString('latin1', 0, n);
	}
	const lines = text.split('\n');
	simlog.rest = lines.pop();
	return lines;
}

// The first stop frame at treadsim stamped after t0 (ns): its stamp in ns.
async function stopFrameAfter(t0) {
	return until('the stop frame at treadsim', async () => {
		for (const l of simLines()) {
			if (!ESTOP_FRAME.test(l)) continue;
			const [s, us] = l.split(' ')[0].split('.');
			const at = BigInt(s) * 1000000000n + BigInt(us) * 1000n;
			if (at >= t0) return at;
		}
		return null;
	}, 10000);
}

async function walking(i) {
	if (RTU) {
		// the belt at rest (the daemon's reading), then the stop reset at the treadmill
		await until('the belt at rest', async () => {
			const s = (await viaSocket('GET', '/v1/status')).json;
			return !s.treadmill.running && s.treadmill.speed_kmh <= 0.05;
		});
		await until('the stop reset at treadsim', async () => /^ok/.test(await simctl('estop-reset')), 10000);
	}
	await until('a start', async () => {
		const r = await viaSocket('POST', '/v1/tests', {protocol: 'gardner-skinner', patient: `BENCH${i}`});
		return r.status === 201;
	}, 60000);
	await until('the belt to run', async () => {
		const s = (await viaSocket('GET', '/v1/status')).json;
		return s.state === 'running' && s.treadmill.running && s.treadmill.speed_kmh > 0;
	});
	// a random phase of the 100 ms tick
	await sleep(50 + Math.random() * 200);
}

async function stops() {
	return (await viaSocket('GET', '/v1/metrics')).json.estop_at_ns;
}

// The daemon's next stop after `before` stops: its estop_at_ns (bigint).
async function nextStop(before) {
	return BigInt(await until('the stop in the metrics', async () => {
		const a = await stops();
		return a.length > before ? a[a.length - 1] : null;
	}, 10000));
}

// From t0 to where this mode measures the stop, in ms; and the daemon's stop (bigint ns).
async function measure(before, t0) {
	const daemon = await nextStop(before);
	const at = RTU ? await stopFrameAfter(t0) : daemon;
	return [Number(at - t0) / 1e6, daemon];
}

function pct(a, p) {
	const s = [...a].sort((x, y) => x - y);
	return s[Math.min(s.length - 1, Math.ceil(p / 100 * s.length) - 1)];
}
const line = (what, a) => console.log(`  ${what.padEnd(58)} n ${a.length}, p50 ${pct(a, 50).toFixed(2)} ms, ` +
	`p99 ${pct(a, 99).toFixed(2)} ms, max ${Math.max(...a).toFixed(2)} ms`);

function cliEstop() {
	return new Promise((resolve) => {
		const c = spawn(path.join(BUILD, 'treadlab'), ['estop'], {env: {...process.env, TREADLAB_SOCKET: SOCKET}, stdio: 'ignore'});
		c.on('exit', resolve);
	});
}

// The page's clock onto ours: offset (ns, bigint) with page performance.now() ms + offset
// = hrtime ns, from the tightest of 20 round trips.
async function pageClock(page) {
	let best = null;
	for (let i = 0; i < 20; i++) {
		const a = nowNs();
		const p = await page.evaluate(() => performance.now());
		const b = nowNs();
		if (!best || b - a < best.rtt)
			best = {rtt: b - a, offset: (a + b) / 2n - BigInt(Math.round(p * 1e6))};
	}
	return best;
}
const pageNs = (clock, ms) => BigInt(Math.round(ms * 1e6)) + clock.offset;

// Notes in the page when the estop button's click event runs, and when #v-state turns to
// "emergency stopped" (and the next frame after that).
function watchPage() {
	const w = window.__bench = {click: null, shown: null, frame: null};
	document.getElementById('estop').addEventListener('click', () => { w.click = performance.now(); }, true);
	const v = document.getElementById('v-state');
	let last = v.dataset.state;
	new MutationObserver(() => {
		const s = v.dataset.state;
		if (s === 'emergency_stopped' && last !== s && w.shown === null) {
			w.shown = performance.now();
			requestAnimationFrame(() => { w.frame = performance.now(); });
		}
		last = s;
	}).observe(v, {childList: true, characterData: true, subtree: true, attributes: true});
}

await run('bench_estop', async () => {
	const sim = RTU ? await startTreadsim() : null;
	if (sim) process.on('exit', () => sim.kill('SIGTERM')); // also when the bench fails
	const d = await startDaemon(RTU ? `[treadmill]\ndriver = modbus\ndevice = ${LINK}\nbaud = 19200\n` +
		`framing = 8N1\nprofile = ${path.join(SRC, 'config/devices/treadsim.profile')}\nsimulated = true\n` +
		'[limits]\ndeviation_timeout_ms = 60000\n[sim]\ntime_scale = 20' : '[sim]\ntime_scale = 20');
	addUser('bench', 'technician', 'bench password 1');
	const browser = await launch();
	const page = await newPage(browser);
	await login(page, d.url, 'bench', 'bench password 1');
	await page.evaluate(watchPage);
	const box = await page.locator('#estop').boundingBox();
	const x = box.x + box.width / 2, y = box.y + box.height / 2;
	// the page's session, for the same request from Node over TCP
	const cookie = (await page.context().cookies()).find((c) => c.name === 'treadlab_session');
	const csrf = await page.evaluate(() => fetch('/v1/session').then((res) => res.json()).then((j) => j.csrf_token));
	const tcpHeaders = {'Cookie': `treadlab_session=${cookie.value}`, 'X-CSRF-Token': csrf, 'Origin': d.url,
		'Host': d.addr, 'Content-Type': 'application/json'};
	const r = {page: [], pageEvent: [], cli: [], api: [], tcp: [], sse: [], sseFrame: [], rtt: []};
	for (let i = 0; i < N; i++) {
		await walking(`P${i}`);
		await page.locator('#v-state').filter({hasText: /^running$/}).waitFor();
		await page.evaluate(() => { Object.assign(window.__bench, {click: null, shown: null, frame: null}); });
		const clock = await pageClock(page);
		r.rtt.push(Number(clock.rtt) / 1e6);
		await page.mouse.move(x, y);
		await page.mouse.down();
		let before = (await stops()).length;
		const t0 = nowNs();
		await page.mouse.up();
		const [ms, daemon] = await measure(before, t0);
		r.page.push(ms);
		const w = await until('the page to show it', async () => {
			const v = await page.evaluate(() => window.__bench);
			return v.frame !== null ? v : null;
		});
		const at = RTU ? t0 + BigInt(Math.round(ms * 1e6)) : daemon;
		r.pageEvent.push(Number(at - pageNs(clock, w.click)) / 1e6);
		r.sse.push(Number(pageNs(clock, w.shown) - daemon) / 1e6);
		r.sseFrame.push(Number(pageNs(clock, w.frame) - daemon) / 1e6);

		await walking(`C${i}`);
		before = (await stops()).length;
		const t1 = nowNs();
		await cliEstop();
		r.cli.push((await measure(before, t1))[0]);

		await walking(`A${i}`);
		before = (await stops()).length;
		const t2 = nowNs();
		await viaSocket('POST', '/v1/estop', {});
		r.api.push((await measure(before, t2))[0]);

		await walking(`T${i}`);
		before = (await stops()).length;
		const t3 = nowNs();
		const answer = await viaTcp(d.addr, 'POST', '/v1/estop', tcpHeaders, '{}');
		if (answer.status !== 200) throw new Error(`estop over TCP: ${answer.status} ${answer.text}`);
		r.tcp.push((await measure(before, t3))[0]);
	}
	const to = RTU ? 'the stop frame at treadsim (Modbus RTU, 19200 baud, paced)' : "the driver's stop (simulated treadmill)";
	console.log(`emergency stop to ${to}, ${N} stops each, time x20:`);
	line('page: click (mouse button released) in headless Chromium', r.page);
	line('page: from its click event', r.pageEvent);
	line('command line: treadlab estop (process start included)', r.cli);
	line('API: POST /v1/estop over the Unix socket from Node', r.api);
	line('API: the same over TCP with the page\'s session, from Node', r.tcp);
	console.log('the page showing it (SSE), from the daemon\'s stop:');
	line('in the DOM', r.sse);
	line('next animation frame', r.sseFrame);
	console.log(`page clock mapping: tightest round trip p50 ${pct(r.rtt, 50).toFixed(2)} ms (the error is at most half of it)`);
	await browser.close();
	await stopDaemon(d);
	if (sim) {
		const done = new Promise((res) => sim.on('exit', res));
		sim.kill('SIGTERM');
		await done;
		if (simlog.fd !== null) fs.closeSync(simlog.fd);
	}
});
