// browser.estop: the page's EMERGENCY STOP while the belt walks: clicked, by the Escape
// key, by the key and by the button while a dialog is open. Each time the daemon records
// emergency_stop (by the account logged in) and the belt stops. Also: the stop with a
// reason (its dialog), and a physician's session, which watches (no commands) but has
// the emergency stop. Prints the time from each stop on the page to the page showing it.
import {addUser, axe, check, launch, login, newPage, run, screenshot, startDaemon, startTest, state,
	stopDaemon, until, viaSocket} from './lib.mjs';

const shown = [];

// The stop just sent took effect: the page says so, the daemon recorded it, the belt stops.
async function stopped(page, how, t0) {
	await until(`the page to show the stop (${how})`, async () => (await state(page)) === 'emergency stopped', 10000);
	shown.push(Date.now() - t0);
	const st = (await viaSocket('GET', '/v1/status')).json;
	// The stop is answered once the driver has it; its record follows (the store's commit).
	const rec = await until(`the stop in the record (${how})`, async () => {
		const r = (await viaSocket('GET', `/v1/tests/${st.test_id}`)).json;
		return r.end_reason ? r : null;
	}, 10000);
	const ev = rec.events.find((e) => e.kind === 'estop');
	check(`${how}: the daemon records emergency_stop`, rec.end_reason === 'emergency_stop' && !!ev, rec.end_reason);
	check(`${how}: by the account logged in`, ev && ev.operator !== null && ev.operator !== undefined, JSON.stringify(ev));
	check(`${how}: the stop was commanded`, st.command.estop === true && st.command.belt_on === false, JSON.stringify(st.command));
	await until(`the belt to stop (${how})`, async () => {
		const s = (await viaSocket('GET', '/v1/status')).json;
		return s.treadmill.reading && !s.treadmill.running && s.treadmill.speed_kmh === 0;
	}, 30000);
	check(`${how}: the belt stopped`, true);
	await page.locator('#estop-msg').filter({hasText: 'Emergency stop done'}).waitFor();
	check(`${how}: the page confirms the stop`, true);
	return rec;
}

async function walking(page, patient) {
	await startTest(page, patient);
	await until('the belt to run', async () => /belt running/.test(await page.locator('#v-device').textContent()));
}

await run('browser.estop', async () => {
	const d = await startDaemon('[sim]\ntime_scale = 5');
	addUser('alice', 'technician', 'correct horse battery');
	addUser('phil', 'physician', 'physician password');
	const browser = await launch();
	const page = await newPage(browser);
	await login(page, d.url, 'alice', 'correct horse battery');

	await walking(page, 'MRN-E1');
	let t0 = Date.now();
	await page.getByRole('button', {name: /EMERGENCY STOP/}).click();
	let rec = await stopped(page, 'clicked', t0);
	check('clicked: the estop event names alice', rec.events.find((e) => e.kind === 'estop').operator === 'alice');
	await axe(page, 'station (emergency stopped)');
	await screenshot(page, '10-emergency-stopped');

	await walking(page, 'MRN-E2');
	await page.locator('#patient').focus(); // a text field has the focus: the key still stops
	t0 = Date.now();
	await page.keyboard.press('Escape');
	await stopped(page, 'Escape key', t0);

	await walking(page, 'MRN-E3');
	await page.locator('#b-stop').click();
	await page.locator('#dlg-stop').waitFor();
	check('the stop dialog is open, focus in its reason', await page.locator('#stop-reason').evaluate((e) => e === document.activeElement));
	await axe(page, 'stop dialog');
	await screenshot(page, '11-stop-dialog');
	t0 = Date.now();
	await page.keyboard.press('Escape');
	await stopped(page, 'Escape key with a dialog open', t0);
	await page.locator('#dlg-stop .close').click();

	await walking(page, 'MRN-E4');
	await page.locator('#b-stop').click();
	await page.locator('#dlg-stop').waitFor();
	t0 = Date.now();
	await page.getByRole('button', {name: /EMERGENCY STOP/}).click();
	await stopped(page, 'button with a dialog open', t0);
	check('the dialog did not block the button', await page.locator('#dlg-stop').isVisible());
	await page.locator('#dlg-stop .close').click();

	// The stop with a reason: a controlled stop, not an emergency one.
	await walking(page, 'MRN-E5');
	await page.locator('#b-stop').click();
	await page.getByLabel('Reason').fill('chest pain');
	await page.getByRole('button', {name: 'Stop the belt'}).click();
	await until('the stop', async () => ['stopping', 'recovery'].includes(await state(page)));
	const st = (await viaSocket('GET', '/v1/status')).json;
	// The page shows the live status, which the store's record follows by a commit: wait
	// for the record, not for a time.
	rec = await until('the stop in the record', async () => {
		const r = (await viaSocket('GET', `/v1/tests/${st.test_id}`)).json;
		return r.end_reason ? r : null;
	});
	check('stop with a reason: end reason operator_stop', rec.end_reason === 'operator_stop', rec.end_reason);
	check('... the reason recorded', rec.events.some((e) => e.kind === 'stop' && e.detail === 'chest pain'));
	await until('recovery', async () => (await state(page)) === 'recovery');
	await page.locator('#b-finish').click();
	await until('complete', async () => (await state(page)) === 'complete');

	// A physician watches: no commands, but the emergency stop.
	await walking(page, 'MRN-E6');
	const context2 = await browser.newContext({viewport: {width: 1280, height: 900}});
	const watcher = await context2.newPage();
	await login(watcher, d.url, 'phil', 'physician password');
	await until('the second screen to see the walk', async () => (await state(watcher)) === 'running');
	check('a second screen sees the same test', (await watcher.locator('#v-test').textContent()) === (await page.locator('#v-test').textContent()));
	for (const id of ['b-start', 'b-onset', 'b-max', 'b-stop'])
		check(`the physician's ${id} is disabled`, await watcher.locator(`#${id}`).isDisabled());
	check('the physician is told why', await watcher.locator('#readonly-note').isVisible());
	await screenshot(watcher, '12-physician-watching');
	t0 = Date.now();
	await watcher.getByRole('button', {name: /EMERGENCY STOP/}).click();
	rec = await stopped(watcher, 'physician', t0);
	check('the physician\'s stop names phil', rec.events.find((e) => e.kind === 'estop').operator === 'phil');
	await until('the technician\'s page to show it too', async () => (await state(page)) === 'emergency stopped');
	check('the technician\'s page shows the stop too', true);
	await page.locator('#v-events li').filter({hasText: /estop.* by phil/}).first().waitFor();
	check('... and who did it (phil)', true);
	check('the physician\'s page shows who started the test (alice)',
		await watcher.locator('#v-events li').filter({hasText: /start.* by alice/}).first().isVisible());

	const sorted = [...shown].sort((a, b) => a - b);
	console.log(`figure: e-stop on the page to the page showing emergency_stopped, ms: ${shown.join(', ')} (median ${sorted[Math.floor(sorted.length / 2)]})`);
	await browser.close();
	check('the daemon stops cleanly', (await stopDaemon(d)) === 0);
});
