// browser.cuff: the pressures taken from the cuff through the page (issue 15). treadsim
// plays the treadmill (Modbus TCP), the patient's button box with the foot switch on it
// (a pty, key 3) and a cuff inflator (Modbus TCP, config/devices/sim-cuff.profile) with a
// virtual patient (tests/data/cuff-scenario.txt) whose simulated Doppler presses the foot
// switch when the deflating cuff crosses the site's true pressure.
// Through the page: the rest series at each configured site, the technician moving the
// probe (treadsim's cuff-site) as the page says; each value fills its cell tagged "cuff"
// and equals the record's; a correction typed over one is kept beside it. Then a
// post-exercise series from the minute the reminder says is due: "Signal back" and its
// F2 key mark the current site, "Skip site" moves on, "Vent" lets the cuff down, and the
// EMERGENCY STOP during an inflation vents it. A physician's page may vent, nothing else.
// Timings are not asserted.
import {spawn} from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import {ARTIFACTS, BUILD, SRC, WORK, addUser, axe, check, launch, login, newPage, run, screenshot, startDaemon, startTest,
	state, stopDaemon, until, viaSocket} from './lib.mjs';

const SIM_CTL = path.join(WORK, 'sim.ctl');
const SIM_LOG = path.join(WORK, 'sim.log');
const BOX = path.join(WORK, 'tty-box');
// A lab that takes four sites; the ceiling and the fastest deflation the config allows
// keep each cycle short (the values are not what this test is about: hil.cuff checks them)
const ORDER = ['brachial-right', 'pt-right', 'brachial-left', 'pt-left'];
// 10 mmHg above the highest true pressure the simulated Doppler answers here (brachial
// right and PT left at rest, 138, tests/data/cuff-scenario.txt); after exercise the
// page's presses mark
const CEILING = 148;
const NAMES = {'brachial-right': 'Arm (brachial) right', 'brachial-left': 'Arm (brachial) left',
	'pt-right': 'PT right', 'dp-right': 'DP right', 'pt-left': 'PT left', 'dp-left': 'DP left'};
// the scenario's names for the daemon's sites, when it does not use the daemon's own
const SIM_SITE = {'brachial-right': 'brachial-right', 'brachial-left': 'brachial-left',
	'pt-right': 'ankle-right-pt', 'dp-right': 'ankle-right-dp', 'pt-left': 'ankle-left-pt', 'dp-left': 'ankle-left-dp'};

function startSim() {
	const args = ['--modbus-tcp', '127.0.0.1:0', '--tcp-port-file', path.join(WORK, 'tm.port'),
		'--button-box', BOX, '--cuff-modbus-tcp', '127.0.0.1:0', '--cuff-tcp-port-file', path.join(WORK, 'cuff.port'),
		'--cuff-scenario', path.join(SRC, 'tests/data/cuff-scenario.txt'), '--control', SIM_CTL, '--log', SIM_LOG,
		// a pump four times its default: the inflation's speed changes no reading, and 1.6 s
		// to the ceiling is still long enough to stop an inflation from the page
		'--cuff-inflate-mmhg-s', '100'];
	const err = fs.openSync(path.join(WORK, 'sim.err'), 'a');
	const child = spawn(path.join(BUILD, 'hil/treadsim'), args, {stdio: ['ignore', 'pipe', err]});
	fs.closeSync(err);
	return new Promise((resolve, reject) => {
		let got = '';
		const timer = setTimeout(() => reject(new Error('treadsim did not become ready')), 20000);
		child.stdout.on('data', (d) => {
			got += d;
			if (got.includes('ready\n')) {
				clearTimeout(timer);
				resolve(child);
			}
		});
		child.on('exit', (code) => reject(new Error(`treadsim exited (${code}): ` +
			fs.readFileSync(path.join(WORK, 'sim.err'), 'utf8'))));
	});
}

// One line to treadsim's control socket, its one-line answer.
function simctl(line) {
	return new Promise((resolve, reject) => {
		const s = net.createConnection(SIM_CTL);
		let got = '';
		s.on('connect', () => s.write(line + '\n'));
		s.on('data', (d) => {
			got += d;
			if (got.includes('\n')) s.end();
		});
		s.on('error', reject);
		s.on('close', () => resolve(got.trim()));
	});
}

// treadsim's cuff: {mode, mmhg, site, ...} from "ok cuff mode=... mmhg=...".
async function simCuff() {
	const a = await simctl('cuff-state');
	return Object.fromEntries(a.split(' ').filter((w) => w.includes('=')).map((w) => w.split('=')));
}

// The technician moves the Doppler probe: the simulated patient answers at that site.
async function probeTo(site) {
	let a = await simctl(`cuff-site=${site}`);
	if (!a.startsWith('ok')) a = await simctl(`cuff-site=${SIM_SITE[site]}`);
	if (!a.startsWith('ok')) throw new Error(`treadsim cuff-site ${site}: ${a}`);
}

// The page shows the cuff on its way down, below P: a press now is a reading (the first
// samples after the ceiling are not yet falling, and the daemon refuses a press there).
async function deflatingBelow(page, p) {
	await page.locator('#cuff-state').filter({hasText: 'deflating'}).waitFor({timeout: 60000});
	await until(`the cuff below ${p} mmHg`, async () => {
		const v = await page.locator('#cuff-mmhg').getAttribute('data-mmhg');
		return v !== '' && Number(v) < p;
	});
}

const simLog = () => (fs.existsSync(SIM_LOG) ? fs.readFileSync(SIM_LOG, 'utf8') : '');
const cuff = async () => (await viaSocket('GET', '/v1/cuff')).json;
const record = async (id) => (await viaSocket('GET', `/v1/tests/${id}`)).json;
const readings = (rec, phase, minute, site) =>
	rec.pressures.filter((p) => p.phase === phase && p.site === site && (phase === 'rest' || p.minute === minute));

let daemon = null;
await run('browser.cuff', async () => {
	const sim = await startSim();
	try {
		await main();
	} finally {
		// the daemon first: it vents the cuff as it stops, treadsim must be there to hear it
		if (daemon) await stopDaemon(daemon);
		// treadsim's log beside the screenshots: what the cuff did, for a failure's reader
		fs.mkdirSync(ARTIFACTS, {recursive: true});
		if (fs.existsSync(SIM_LOG)) fs.copyFileSync(SIM_LOG, path.join(ARTIFACTS, 'cuff-treadsim.log'));
		if (sim.exitCode === null) {
			const gone = new Promise((r) => sim.on('exit', r));
			sim.kill('SIGTERM');
			await gone;
		}
	}
});

async function main() {
	const tmPort = fs.readFileSync(path.join(WORK, 'tm.port'), 'utf8').trim();
	const cuffPort = fs.readFileSync(path.join(WORK, 'cuff.port'), 'utf8').trim();
	const d = await startDaemon([
		'[treadmill]', 'driver = modbus', `tcp = 127.0.0.1:${tmPort}`,
		`profile = ${path.join(SRC, 'config/devices/treadsim.profile')}`, 'simulated = true',
		'[buttons]', `box_device = ${BOX}`,
		'[cuff]', 'source = cuff-modbus', `tcp = 127.0.0.1:${cuffPort}`,
		`profile = ${path.join(SRC, 'config/devices/sim-cuff.profile')}`, 'response_timeout_ms = 500',
		`sites = ${ORDER.join(',')}`, `ceiling_mmhg = ${CEILING}`, 'deflate_mmhg_s = 5'].join('\n'));
	daemon = d;
	addUser('tina', 'technician', 'tina password 12');
	await until('the daemon connected to the cuff', async () => (await cuff()).connected === true);

	const browser = await launch();
	const page = await newPage(browser);
	await login(page, d.url, 'tina', 'tina password 12');
	await startTest(page, 'MRN-CUFF1');
	const testId = (await viaSocket('GET', '/v1/status')).json.test_id;
	await page.getByRole('button', {name: 'Pressures and findings'}).click();
	await page.locator('#record-test').filter({hasText: `test ${testId}`}).waitFor();
	const panel = page.getByRole('region', {name: 'Cuff', exact: true});
	await panel.waitFor();
	check('the cuff panel shows above the pressure table', await page.evaluate(() =>
		!!(document.getElementById('cuff-panel').compareDocumentPosition(document.getElementById('pressures')) &
			Node.DOCUMENT_POSITION_FOLLOWING)));
	check('the cuff\'s pressure is shown (mmHg or "no reading")',
		/^(\d+ mmHg|no reading)$/.test(await page.locator('#cuff-mmhg').textContent()));
	check('no series yet; the series commands wait for one', (await page.locator('#cuff-series').textContent()) === 'none'
		&& await page.getByRole('button', {name: 'Inflate'}).isDisabled()
		&& await page.getByRole('button', {name: /Signal back/}).isDisabled()
		&& await page.getByRole('button', {name: 'Vent'}).isEnabled());

	// ---- the rest series, every site from the cuff ----
	await page.getByRole('button', {name: 'Take rest pressures with the cuff'}).click();
	const values = {};
	for (const [i, site] of ORDER.entries()) {
		await until(`the series at ${site}`, async () => {
			const c = await cuff();
			return c.series && c.series.site === site;
		});
		await page.locator('#cuff-site').filter({hasText: NAMES[site]}).waitFor();
		const next = ORDER[i + 1];
		check(`${site}: the page names the site and the next one`,
			(await page.locator('#cuff-next').textContent()) === (next ? NAMES[next] : 'none (last site)'));
		check(`${site}: its cell is highlighted`, await page.locator(`td.cuff-current #p-rest-${site}`).count() === 1
			&& await page.locator('td.cuff-current').count() === 1);
		if (i > 0) {
			// the technician moves the cuff and the probe, then inflates from the page
			await probeTo(site);
			await until('the cuff down', async () => (await cuff()).state === 'idle');
			await page.getByRole('button', {name: 'Inflate'}).click();
		}
		if (i === 1) {
			await page.locator('#cuff-state').filter({hasText: /inflating|deflating/}).waitFor();
			await axe(page, 'pressures (cuff inflating)');
			await screenshot(page, 'cuff-01-rest-series');
		}
		const tag = page.locator(`#p-rest-${site}-src`);
		await until(`the cuff's value at ${site} in its cell`, async () =>
			(await tag.isVisible()) && /^cuff/.test(await tag.textContent()), 60000);
		const rec = await record(testId);
		const r = readings(rec, 'rest', null, site);
		const shown = Number(await page.locator(`#p-rest-${site}`).inputValue());
		values[site] = r.length ? r[r.length - 1].mmhg : null;
		check(`${site}: one reading, from the cuff (cuff-modbus), by the series' operator`, r.length === 1
			&& r[0].source === 'cuff-modbus' && r[0].operator === 'tina', JSON.stringify(r));
		check(`${site}: the cell shows the record's value (${values[site]})`, shown === values[site], shown);
		check(`${site}: the record has the sampling interval and the deflation rate`, r.length === 1
			&& Number.isInteger(r[0].interval_ms) && r[0].deflation_mmhg_s > 0, JSON.stringify(r[0]));
		check(`${site}: the tag says so`, (await tag.getAttribute('title')).startsWith('from the cuff (cuff-modbus)'));
		const done = await page.locator('#cuff-done').textContent();
		if (next)
			check(`${site}: the page lists the sites done`, done === ORDER.slice(0, i + 1).map((s) => NAMES[s]).join(', '), done);
	}
	check('the four rest values are physiological', Object.values(values).every((v) => v > 60 && v < CEILING),
		JSON.stringify(values));
	await screenshot(page, 'cuff-02-rest-done');
	if (await page.getByRole('button', {name: 'End series'}).isEnabled()) {
		await page.getByRole('button', {name: 'End series'}).click();
		await page.locator('#cuff-series').filter({hasText: /^none$/}).waitFor();
	}
	check('the series is over: no cell highlighted', await page.locator('td.cuff-current').count() === 0);

	// ---- a correction typed over a cuff value: the record keeps both ----
	const typed = Math.round(values['pt-right']) + 4;
	const f = page.getByLabel('PT right, Rest', {exact: true});
	await f.fill(String(typed));
	await f.press('Enter');
	await page.locator('#p-rest-pt-right-msg').filter({hasText: 'recorded'}).waitFor();
	await page.locator('#p-rest-pt-right-src').filter({hasText: /^corrected/}).waitFor();
	let rec = await record(testId);
	const both = readings(rec, 'rest', null, 'pt-right');
	check('the correction is recorded as typed (manual), the cuff\'s value kept before it', both.length === 2
		&& both[0].source === 'cuff-modbus' && both[0].mmhg === values['pt-right']
		&& both[1].source === 'manual' && both[1].mmhg === typed && both[1].interval_ms === undefined,
		JSON.stringify(both));
	check('the record\'s history shows the cuff\'s value and the correction',
		(rec.history || []).filter((h) => h.what === 'pressure' && h.value && h.value.site === 'pt-right').length === 2,
		JSON.stringify(rec.history));
	check('the cell shows the correction', Number(await f.inputValue()) === typed);
	await screenshot(page, 'cuff-03-corrected');

	// ---- after exercise: the minute due, Signal back (button and F2), Skip, Vent ----
	await page.getByRole('button', {name: 'Station'}).click();
	await page.locator('#b-stop').click();
	await page.getByRole('button', {name: 'Stop the belt'}).click();
	await until('recovery', async () => (await state(page)) === 'recovery', 60000);
	await page.getByRole('button', {name: 'Pressures and findings'}).click();
	const post = page.getByRole('button', {name: 'Take the minute-1 pressures with the cuff'});
	await post.waitFor();
	check('the post-exercise button names the minute due (1)', true);
	await page.getByLabel('Post-exercise minute').fill('3');
	await page.getByRole('button', {name: 'Take the minute-3 pressures with the cuff'}).waitFor();
	check('the minute picker renames the button (minute 3)', true);
	await page.getByLabel('Post-exercise minute').fill('1');
	// the probe on the site whose true pressure is lowest at minute 1 (96): the simulated
	// Doppler stays silent long after the cuff starts down, so the press that marks is the page's
	await simctl('cuff-phase=1');
	await probeTo('dp-right');
	await post.click();
	await page.locator('#cuff-series').filter({hasText: 'minute 1 after exercise'}).waitFor();
	check('the post series\' first cell is highlighted', await page.locator('td.cuff-current #p-post1-brachial-right').count() === 1);
	// 2 s into the deflation: a whole rate window (1 s) of falling samples before the press
	await deflatingBelow(page, CEILING - 10);
	const presses0 = Number((await simCuff()).presses);
	await page.getByRole('button', {name: /Signal back/}).click();
	await page.locator('#p-post1-brachial-right-src').filter({hasText: /^cuff/}).waitFor();
	rec = await record(testId);
	let r = readings(rec, 'post', 1, 'brachial-right');
	check('Signal back (the button) recorded brachial right at minute 1, from the cuff, while deflating', r.length === 1
		&& r[0].source === 'cuff-modbus' && r[0].mmhg > 70, JSON.stringify(r));
	check('... before the simulated patient\'s signal came back', Number((await simCuff()).presses) === presses0);
	check('... and its cell shows it', Number(await page.locator('#p-post1-brachial-right').inputValue()) === r[0].mmhg);

	await page.locator('#cuff-site').filter({hasText: 'PT right'}).waitFor();
	await until('the cuff down', async () => (await cuff()).state === 'idle');
	await page.getByRole('button', {name: 'Inflate'}).click();
	await deflatingBelow(page, CEILING - 10);
	await page.keyboard.press('F2');
	await page.locator('#p-post1-pt-right-src').filter({hasText: /^cuff/}).waitFor();
	rec = await record(testId);
	r = readings(rec, 'post', 1, 'pt-right');
	check('the F2 key recorded PT right at minute 1, from the cuff', r.length === 1 && r[0].source === 'cuff-modbus'
		&& r[0].mmhg > 70, JSON.stringify(r));
	check('... and F2 is not the emergency stop: the test is still in recovery', (await state(page)) === 'recovery');
	await screenshot(page, 'cuff-04-post-marked');

	await page.locator('#cuff-site').filter({hasText: 'Arm (brachial) left'}).waitFor();
	await page.getByRole('button', {name: 'Skip site'}).click();
	await page.locator('#cuff-site').filter({hasText: 'PT left'}).waitFor();
	check('Skip site moves the series to the next site', (await cuff()).series.site === 'pt-left');

	await until('the cuff down', async () => (await cuff()).state === 'idle');
	const vents0 = (simLog().match(/cuff-vent command/g) || []).length;
	await page.getByRole('button', {name: 'Inflate'}).click();
	await until('the cuff above 40 mmHg', async () => Number((await simCuff()).mmhg) > 40);
	const high = Number((await simCuff()).mmhg);
	await page.getByRole('button', {name: 'Vent'}).click();
	await until('treadsim vents', async () => (simLog().match(/cuff-vent command/g) || []).length > vents0);
	await until('the cuff empty', async () => {
		const s = await simCuff();
		return s.mode === 'idle' && Number(s.mmhg) === 0;
	});
	check(`Vent: treadsim's cuff vented from ${high} mmHg to 0`, true);
	await page.locator('#cuff-state').filter({hasText: 'idle'}).waitFor();
	await page.locator('#cuff-mmhg').filter({hasText: /^0 mmHg$/}).waitFor();
	check('... and the page shows it down (idle, 0 mmHg)', true);
	check('... nothing recorded at PT left', readings(await record(testId), 'post', 1, 'pt-left').length === 0);

	// ---- the emergency stop during an inflation vents the cuff ----
	const logAt = simLog().length;
	await page.getByRole('button', {name: 'Inflate'}).click();
	await page.locator('#cuff-state').filter({hasText: 'inflating'}).waitFor();
	const vents1 = (simLog().match(/cuff-vent /g) || []).length;
	await page.keyboard.press('Escape');
	await page.locator('#estop-msg').filter({hasText: 'Emergency stop done'}).waitFor();
	await until('treadsim vents after the emergency stop', async () => (simLog().match(/cuff-vent /g) || []).length > vents1);
	await until('the cuff empty after the emergency stop', async () => {
		const s = await simCuff();
		return s.mode === 'idle' && Number(s.mmhg) === 0;
	});
	// treadsim's log since the Inflate: the pump started, and the vent came before the
	// ceiling was reached (a hold) or the deflation began
	const since = simLog().slice(logAt);
	check('the EMERGENCY STOP during an inflation vented the cuff', /cuff-inflate /.test(since)
		&& /cuff-vent /.test(since) && !/cuff-(hold|deflate) /.test(since.split(/cuff-vent /)[0]),
		since.split('\n').filter((l) => / event cuff-/.test(l)).join('; '));
	await page.locator('#cuff-message').filter({hasText: /emergency stop/i}).waitFor();
	check('the page says why the cuff vented', true);
	await axe(page, 'pressures (after the emergency stop)');
	await screenshot(page, 'cuff-05-estop-vented');

	// ---- a physician watches: no series commands, but Vent, like the emergency stop ----
	addUser('phil', 'physician', 'physician password');
	const doc = await newPage(browser);
	await login(doc, d.url, 'phil', 'physician password');
	await doc.getByRole('button', {name: 'Pressures and findings'}).click();
	await doc.getByRole('region', {name: 'Cuff', exact: true}).waitFor();
	check('a physician: the series commands are disabled', await doc.getByRole('button', {name: 'Take rest pressures with the cuff'}).isDisabled()
		&& await doc.getByRole('button', {name: /Signal back/}).isDisabled());
	// the cuff is down already: treadsim logs no new vent event, but the command crosses the wire
	const ventFrames = () => (simLog().match(/^\S+ rx cuff-modbus-tcp .. .. 00 00 00 06 01 06 00 02 00 03$/gm) || []).length;
	const frames2 = ventFrames();
	await doc.getByRole('button', {name: 'Vent'}).click();
	await doc.locator('#cuff-message').filter({hasText: 'vented: on request of phil'}).waitFor();
	await until('the vent command on treadsim\'s wire', async () => ventFrames() > frames2);
	check('a physician: Vent works, without an error', (await doc.locator('#cuff-cmd-msg').textContent()) === '');

	await browser.close();
	check('the daemon stops cleanly', (await stopDaemon(d)) === 0);
}
