// browser.outbox: the page shows results that have not reached the medical record. A test
// is run, recorded and signed through the API with [hl7] send_to at a port nobody listens
// on: the station view says one result is not yet delivered, then, once its attempts are
// spent, that it failed and why (the outbox's alert); nothing of it shows before.
import net from 'node:net';
import {addUser, axe, check, launch, login, newPage, run, screenshot, startDaemon, stopDaemon,
	until, viaSocket} from './lib.mjs';

// A loopback port with no listener: bound, then closed.
async function closedPort() {
	const srv = net.createServer();
	await new Promise((r) => srv.listen(0, '127.0.0.1', r));
	const port = srv.address().port;
	await new Promise((r) => srv.close(r));
	return port;
}

await run('browser.outbox', async () => {
	const port = await closedPort();
	const d = await startDaemon('[sim]\ntime_scale = 20\npatient_onset_s = 30\npatient_max_s = 60\n' +
		`[hl7]\nsend_to = 127.0.0.1:${port}\nmax_attempts = 3\nretry_min_ms = 300\nretry_max_ms = 300\nack_timeout_ms = 500`);
	addUser('alice', 'technician', 'correct horse battery');
	addUser('dr.who', 'physician', 'physician pass 1');
	const browser = await launch();
	const page = await newPage(browser);
	await login(page, d.url, 'alice', 'correct horse battery');
	check('nothing undelivered at first: the line is hidden', await page.locator('#v-outbox').isHidden());

	const start = await viaSocket('POST', '/v1/tests', {protocol: 'gardner-skinner', patient: 'MRN-O1'});
	check('a test starts (201)', start.status === 201, start.text);
	const id = start.json.id;
	await until('the virtual patient\'s max press', async () =>
		(await viaSocket('GET', '/v1/status')).json.state === 'recovery', 60000);
	check('the test finishes', (await viaSocket('POST', '/v1/finish', {})).status === 200);
	const who = await viaSocket('PUT', '/v1/patients/MRN-O1', {assigning_authority: 'HOSP', family: 'Doe',
		given: 'Jane', birth_date: '1950-03-01', sex: 'female'});
	check('the demographics are recorded', who.status === 200, who.text);
	const order = await viaSocket('PUT', `/v1/tests/${id}/order`, {accession: 'ACC-O1'});
	check('the order is recorded', order.status === 200, order.text);
	const sign = await viaSocket('POST', `/v1/tests/${id}/sign`, {user: 'dr.who', password: 'physician pass 1'});
	check('the physician signs; the HL7 message is queued', sign.status === 201 || sign.status === 200, sign.text);

	const line = page.locator('#v-outbox');
	await line.filter({hasText: '1 result not yet delivered to the medical record'}).waitFor({timeout: 20000});
	check('the station view says one result is not yet delivered', true);
	await line.filter({hasText: 'failed'}).waitFor({timeout: 30000});
	const text = await line.textContent();
	check('once its attempts are spent it says it failed, and why', /1 failed: .+; see treadlab outbox/.test(text), text);
	check('... marked as failed (red)', (await line.getAttribute('data-failed')) === 'yes');
	const box = (await viaSocket('GET', '/v1/outbox')).json;
	const states = JSON.stringify(box);
	check('the daemon\'s outbox holds the failed message', /failed/.test(states), states.slice(0, 300));
	await axe(page, 'station (a result not delivered)');
	await screenshot(page, '40-outbox-failed');
	await browser.close();
	check('the daemon stops cleanly', (await stopDaemon(d)) === 0);
});
