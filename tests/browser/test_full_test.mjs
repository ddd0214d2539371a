// browser.full_test: a whole Gardner-Skinner test through the page at 20x time: log in,
// the protocol's stage table, start, the live stage change, onset and max presses, the
// plot's marks, relief, pressures at rest and after exercise (a refused one shows the
// daemon's message beside its field), findings, finish, the result with its
// classification, the patient's history; axe on every screen, a screenshot of each. The
// start form's optional name, birth date, sex and accession reach the record (issue 13)
// and the result shows them.
import {addUser, axe, check, login, launch, newPage, run, screenshot, startDaemon, startTest, state,
	stopDaemon, until, viaSocket} from './lib.mjs';

await run('browser.full_test', async () => {
	const d = await startDaemon('[sim]\ntime_scale = 20');
	addUser('alice', 'technician', 'correct horse battery');
	const browser = await launch();
	const page = await newPage(browser);

	await page.goto(d.url + '/');
	await page.getByRole('heading', {name: 'Log in'}).waitFor();
	check('the login screen shows the first-run step', await page.getByText('sudo treadlab user add NAME --role admin').isVisible());
	check('the emergency stop is on the login screen', await page.getByRole('button', {name: /EMERGENCY STOP/}).isVisible());
	await axe(page, 'login');
	await screenshot(page, '01-login');

	await page.getByLabel('User name').fill('alice');
	await page.getByLabel('Password').fill('wrong password!');
	await page.getByRole('button', {name: 'Log in'}).click();
	await page.locator('#login-error').filter({hasText: 'wrong user name or password'}).waitFor();
	check('a wrong password is refused with the daemon\'s words', true);

	await login(page, d.url, 'alice', 'correct horse battery');
	check('logged in as alice (technician)', (await page.locator('#who').textContent()) === 'alice (technician)');
	check('the operator is the login', (await page.locator('#operator').textContent()) === 'alice');
	await page.locator('#stages tbody tr').first().waitFor();
	check('the Gardner-Skinner stage table is shown', (await page.locator('#stages tbody tr').count()) >= 8);
	check('with its reference', /Gardner AW/.test(await page.locator('#protocol-ref').textContent()));
	check('idle: the commands wait for a test', await page.locator('#b-onset').isDisabled());
	await axe(page, 'station (idle)');
	await screenshot(page, '02-station-idle');

	await page.getByLabel('Family name', {exact: true}).fill('Doe');
	await page.getByLabel('Given name', {exact: true}).fill('Jane');
	await page.getByLabel('Birth date', {exact: true}).fill('1950-03-01');
	await page.getByLabel('Sex', {exact: true}).selectOption('female');
	await page.getByLabel('Accession (order) number', {exact: true}).fill('ACC-GS1');
	await startTest(page, 'MRN-GS1');
	const st0 = await viaSocket('GET', '/v1/status');
	check('the daemon runs the test the page started', st0.json.state === 'running' && st0.json.patient === 'MRN-GS1'
		&& st0.json.protocol === 'gardner-skinner', st0.text);
	const testId = st0.json.test_id;
	const pat = (await viaSocket('GET', '/v1/patients/MRN-GS1')).json;
	check('the start form\'s name, birth date and sex are the patient\'s', pat.family === 'Doe' && pat.given === 'Jane'
		&& pat.birth_date === '1950-03-01' && pat.sex === 'female', JSON.stringify(pat));
	await until('the accession', async () =>
		(await viaSocket('GET', `/v1/tests/${testId}`)).json.order.accession === 'ACC-GS1');
	check('... and the accession the test\'s order', true);
	await page.locator('#v-stage').filter({hasText: /^1 of \d+/}).waitFor();
	await page.locator('#v-stage').filter({hasText: /^2 of \d+ \(3\.2 km\/h, 2\.0 %\)/}).waitFor();
	check('the live view shows the stage change to stage 2 (2 %)', true);
	check('the time to the next stage is counted', /^\d+:\d\d$/.test(await page.locator('#v-next').textContent()));
	await page.locator('#b-onset').click();
	await page.locator('#v-cot').filter({hasText: /^\d+\.\d s$/}).waitFor();
	check('onset: COT shown', true);
	check('onset: ICD shown', /^\d+\.\d m$/.test(await page.locator('#v-icd').textContent()));
	await axe(page, 'station (walking)');
	await screenshot(page, '03-station-walking');
	await page.locator('#b-max').click();
	await page.locator('#v-pwt').filter({hasText: /^\d+\.\d s/}).waitFor();
	await until('recovery', async () => (await state(page)) === 'recovery');
	check('max: walking ends and the test is in recovery', true);
	await page.locator('#v-reminder').filter({hasText: /minute 1 in \d+:\d\d|minute-1 pressures now/}).waitFor();
	check('the post-exercise pressure reminder counts down', true);
	const rec0 = (await viaSocket('GET', `/v1/tests/${testId}`)).json;
	const kinds = rec0.events.map((e) => e.kind);
	check('the record has the page\'s onset and max, by alice', kinds.includes('onset') && kinds.includes('max')
		&& rec0.events.find((e) => e.kind === 'onset').operator === 'alice', JSON.stringify(kinds));

	await page.locator('#b-relief').click();
	check('the relief dialog is open', await page.locator('#dlg-relief').isVisible());
	await page.getByLabel('How did the patient get relief?').selectOption('standing');
	await axe(page, 'relief dialog');
	await screenshot(page, '04-relief-dialog');
	await page.getByRole('button', {name: 'Record relief'}).click();
	await page.locator('#dlg-relief').waitFor({state: 'hidden'});
	const rec1 = (await viaSocket('GET', `/v1/tests/${testId}`)).json;
	check('relief recorded (standing)', rec1.events.some((e) => e.kind === 'relief' && e.detail === 'standing'));

	await page.getByRole('button', {name: 'Pressures and findings'}).click();
	await page.locator('#record-test').filter({hasText: `test ${testId}`}).waitFor();
	const put = async (label, value) => {
		const f = page.getByLabel(label, {exact: true});
		await f.fill(String(value));
		await f.press('Enter');
		const id = await f.getAttribute('id');
		await page.locator(`#${id}-msg`).filter({hasText: /recorded|\S/}).waitFor();
		return page.locator(`#${id}-msg`).textContent();
	};
	const rest = [['Arm (brachial) right, Rest', 130], ['Arm (brachial) left, Rest', 126], ['PT right, Rest', 100],
		['DP right, Rest', 96], ['PT left, Rest', 128], ['DP left, Rest', 124],
		['Arm (brachial) right, Post 1 min', 140], ['PT right, Post 1 min', 50], ['PT left, Post 1 min', 126]];
	for (const [label, v] of rest)
		check(`pressure ${label} = ${v} recorded`, (await put(label, v)) === 'recorded');
	check('0 (no Doppler signal) is a reading', (await put('Toe right, Rest', 0)) === 'recorded');
	const msg = await put('Arm (brachial) left, Post 1 min', 40);
	check('an implausible arm pressure: the daemon\'s message beside the field', /implausible/.test(msg), msg);
	check('... and the field is marked invalid', (await page.getByLabel('Arm (brachial) left, Post 1 min', {exact: true})
		.getAttribute('aria-invalid')) === 'true');
	let rec2 = (await viaSocket('GET', `/v1/tests/${testId}`)).json;
	check('the record has the 10 pressures typed (not the refused one)', rec2.pressures.length === 10, rec2.pressures.length);
	await page.getByRole('button', {name: 'Keep 40 (checked)'}).click();
	await page.locator('#p-post1-brachial-left-msg').filter({hasText: /^recorded$/}).waitFor();
	rec2 = (await viaSocket('GET', `/v1/tests/${testId}`)).json;
	check('confirmed, the implausible one is recorded as confirmed', rec2.pressures.length === 11 &&
		rec2.pressures.some((p) => p.site === 'brachial-left' && p.mmhg === 40 && p.confirmed), rec2.pressures.length);
	check('... by alice', rec2.pressures.every((p) => p.operator === 'alice'));

	await page.getByRole('checkbox', {name: 'calf'}).check();
	await page.getByLabel('Which leg?').selectOption('right');
	await page.getByLabel('What made it better?').selectOption('standing');
	await page.getByLabel('How long until it was better (seconds)?').fill('90');
	await page.getByLabel('Numbness', {exact: true}).selectOption('false');
	await page.getByLabel('Pain at rest (at night, in the foot)').selectOption('false');
	await page.getByRole('button', {name: 'Record findings'}).click();
	await page.locator('#findings-msg').filter({hasText: /\S/}).waitFor();
	const fmsg = await page.locator('#findings-msg').textContent();
	check('findings recorded', fmsg === 'Findings recorded.', fmsg);
	await axe(page, 'pressures and findings');
	await screenshot(page, '05-pressures-findings');
	const rec3 = (await viaSocket('GET', `/v1/tests/${testId}`)).json;
	const want = {location: ['calf'], side: 'right', relief: 'standing', relief_time_s: 90, numbness: false, rest_pain: false};
	check('the findings document is the one the classifier reads', JSON.stringify(rec3.findings) === JSON.stringify(want),
		JSON.stringify(rec3.findings));

	await page.getByRole('button', {name: 'Station'}).click();
	await page.locator('#b-finish').click();
	await until('complete', async () => (await state(page)) === 'complete');
	check('finish: complete', true);

	await page.getByRole('button', {name: 'Result'}).click();
	await page.locator('#category').waitFor();
	check('the result shows the classification (vascular)', (await page.locator('#category').textContent()) === 'vascular');
	check('no red flags, said first', await page.locator('#result > :first-child').filter({hasText: 'No red flags.'}).isVisible());
	check('the ABI table: right rest 0.77 (abnormal)', await page.locator('table.abi').getByText('0.77 (abnormal)').isVisible());
	check('the endpoints with the end reason', await page.locator('table.endpoints').getByText('max claudication').isVisible());
	check('findings with their source', (await page.locator('.findings .source').count()) > 0);
	const who = await page.locator('#result-patient').textContent();
	check('the result names the patient and the birth date', /Doe, Jane, born 1950-03-01/.test(who), who);
	const pdf = await page.evaluate(async (id) => {
		const r = await fetch(`/v1/tests/${id}/report.pdf`);
		return [r.status, r.headers.get('Content-Type')];
	}, testId);
	check(`the report link gives the PDF (${pdf})`, pdf[0] === 200 && /pdf/.test(pdf[1]) &&
		(await page.getByRole('link', {name: `The report of test ${testId} (PDF)`}).getAttribute('href')) === `/v1/tests/${testId}/report.pdf`);
	await axe(page, 'result');
	await screenshot(page, '06-result');

	await page.getByRole('button', {name: 'History'}).click();
	await page.getByLabel('Patient identifier (MRN)').last().fill('MRN-GS1');
	await page.getByRole('button', {name: 'Show tests'}).click();
	await page.locator('#history tbody tr').first().waitFor();
	check('the history lists the test', (await page.locator('#history tbody tr').first().textContent()).includes('complete'));
	await axe(page, 'history');
	await screenshot(page, '07-history');

	// A red flag comes first and unmissable: rest pain with no toe pressure.
	await viaSocket('PUT', `/v1/tests/${testId}/findings`, {symptoms: {...want, rest_pain: true}});
	await page.getByRole('button', {name: `Open test ${testId}`}).click();
	await page.locator('.redflags').waitFor();
	check('a red flag is the first thing on the result', await page.locator('#result > :first-child.redflags').isVisible());
	await screenshot(page, '08-result-red-flag');
	await browser.close();
	check('the daemon stops cleanly', (await stopDaemon(d)) === 0);
});
