// bench_estop.mjs - the page's emergency stop beside the command line's (prints figures,
// asserts none; not a ctest). For each of N stops of a walking belt (the simulated
// treadmill, time x20): from the moment the click is sent to headless Chromium (or
// `treadlab estop` is started) to the driver's emergency-stop call returning in the
// daemon (GET /v1/metrics estop_at_ns: CLOCK_MONOTONIC, the clock of Node's
// process.hrtime on Linux). Then the page's SSE: from that stop to the page showing
// "emergency stopped".
//
// Run: TL_BUILD_DIR=build TL_SOURCE_DIR=. node tests/browser/bench_estop.mjs [N]
import {spawn} from 'node:child_process';
import path from 'node:path';
import {BUILD, SOCKET, addUser, launch, login, newPage, run, startDaemon, stopDaemon, until,
	viaSocket} from './lib.mjs';

const N = Number(process.argv[2] || 50);

async function walking(i) {
	await until('a start', async () => {
		const r = await viaSocket('POST', '/v1/tests', {protocol: 'gardner-skinner', patient: `BENCH${i}`});
		return r.status === 201;
	}, 60000);
	await until('the belt to run', async () => {
		const s = (await viaSocket('GET', '/v1/status')).json;
		return s.state === 'running' && s.treadmill.running && s.treadmill.speed_kmh > 0;
	});
}

async function stops() {
	return (await viaSocket('GET', '/v1/metrics')).json.estop_at_ns;
}

// t0 (bigint ns) to the next stop's estop_at_ns, in ms
async function toDriver(before, t0) {
	const at = await until('the stop in the metrics', async () => {
		const a = await stops();
		return a.length > before ? a[a.length - 1] : null;
	}, 10000);
	return Number(BigInt(at) - t0) / 1e6;
}

function pct(a, p) {
	const s = [...a].sort((x, y) => x - y);
	return s[Math.min(s.length - 1, Math.floor(p / 100 * s.length))];
}
const line = (what, a) => console.log(`${what}: n ${a.length}, p50 ${pct(a, 50).toFixed(2)} ms, p99 ${pct(a, 99).toFixed(2)} ms, max ${Math.max(...a).toFixed(2)} ms`);

function cliEstop() {
	return new Promise((resolve) => {
		const c = spawn(path.join(BUILD, 'treadlab'), ['estop'], {env: {...process.env, TREADLAB_SOCKET: SOCKET}, stdio: 'ignore'});
		c.on('exit', resolve);
	});
}

await run('bench_estop', async () => {
	const d = await startDaemon('[sim]\ntime_scale = 20');
	addUser('bench', 'technician', 'bench password 1');
	const browser = await launch();
	const page = await newPage(browser);
	await login(page, d.url, 'bench', 'bench password 1');
	const box = await page.locator('#estop').boundingBox();
	const x = box.x + box.width / 2, y = box.y + box.height / 2;
	const page_ms = [], cli_ms = [], sse_ms = [];
	for (let i = 0; i < N; i++) {
		await walking(`P${i}`);
		await until('the page to show it', async () => (await page.locator('#v-state').textContent()) === 'running');
		const before = (await stops()).length;
		const t0 = process.hrtime.bigint();
		await page.mouse.click(x, y);
		await page.locator('#v-state').filter({hasText: 'emergency stopped'}).waitFor();
		const shownAt = process.hrtime.bigint();
		const ms = await toDriver(before, t0);
		page_ms.push(ms);
		const at = (await stops()).at(-1);
		sse_ms.push(Number(shownAt - BigInt(at)) / 1e6);

		await walking(`C${i}`);
		const before2 = (await stops()).length;
		const t1 = process.hrtime.bigint();
		await cliEstop();
		cli_ms.push(await toDriver(before2, t1));
	}
	console.log(`emergency stop to the driver's stop, simulated treadmill, ${N} stops each:`);
	line('  page (click in headless Chromium)', page_ms);
	line('  command line (treadlab estop, process start included)', cli_ms);
	line('page showing it after the stop (SSE, polled by Playwright, upper bound)', sse_ms);
	await browser.close();
	await stopDaemon(d);
});
