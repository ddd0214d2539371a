// browser.restart: the daemon goes away under an open page (while a test walks) and comes
// back on the same address. The page says it lost the daemon, its emergency stop says it
// could not be sent, it reconnects by itself and, sessions being in the daemon's memory,
// asks for the login again; then it shows the true state, not the one it had.
import {addUser, axe, check, launch, login, newPage, run, screenshot, startDaemon, startTest, state,
	stopDaemon, until, viaSocket} from './lib.mjs';

await run('browser.restart', async () => {
	let d = await startDaemon('[sim]\ntime_scale = 5');
	const port = Number(d.addr.split(':')[1]);
	addUser('alice', 'technician', 'correct horse battery');
	const browser = await launch();
	const page = await newPage(browser);
	await login(page, d.url, 'alice', 'correct horse battery');
	await startTest(page, 'MRN-R1');
	check('the banner is hidden while connected', await page.locator('#banner').isHidden());

	check('the daemon stops (SIGTERM)', (await stopDaemon(d)) === 0);
	await page.locator('#banner').filter({hasText: 'Lost the connection to treadlabd'}).waitFor({timeout: 10000});
	check('the page says it lost the daemon', true);
	await page.getByRole('button', {name: /EMERGENCY STOP/}).click();
	await page.locator('#estop-msg').filter({hasText: 'NOT SENT'}).waitFor();
	check('an emergency stop without the daemon says it was not sent', true);
	await axe(page, 'station (connection lost)');
	await screenshot(page, '20-connection-lost');

	d = await startDaemon('[sim]\ntime_scale = 5', port);
	await page.locator('#login-error').filter({hasText: 'log in again'}).waitFor({timeout: 20000});
	check('reconnected by itself: the session ended with the daemon, the page asks to log in again', true);
	check('the banner is gone', await page.locator('#banner').isHidden());
	await screenshot(page, '21-after-restart-login');
	await login(page, d.url, 'alice', 'correct horse battery');
	const st = (await viaSocket('GET', '/v1/status')).json;
	await until('the page to show the daemon\'s state', async () => (await state(page)) === st.state.replace('_', ' '));
	check(`the page shows the true state (${st.state}), not "running"`, (await state(page)) !== 'running');
	const tests = (await viaSocket('GET', '/v1/tests?patient=MRN-R1')).json;
	check('the interrupted test is recorded as such', ['aborted', 'interrupted'].includes(tests[0].state), tests[0].state);
	await page.getByRole('button', {name: 'History'}).click();
	await page.getByLabel('Patient identifier (MRN)').last().fill('MRN-R1');
	await page.getByRole('button', {name: 'Show tests'}).click();
	await page.locator('#history tbody tr').first().filter({hasText: tests[0].state}).waitFor();
	check('the history shows it so', true);
	await browser.close();
	check('the daemon stops cleanly', (await stopDaemon(d)) === 0);
});
