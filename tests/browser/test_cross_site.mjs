// browser.cross_site: with alice logged in on the page, another site open in the same
// browser tries to start the belt: a text/plain fetch (no preflight needed), a form
// posting text/plain, a JSON fetch that needs a preflight. Then raw requests with her
// cookie: a wrong Host (DNS rebinding), no CSRF token, a foreign Origin, an ended
// session. Every one is refused and nothing changes; the same request done right
// starts a test (so the refusals were the checks', not some other failure).
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import {SRC, WORK, addUser, check, launch, login, newPage, run, startDaemon, stopDaemon, until, viaSocket,
	viaTcp} from './lib.mjs';

// The other site: a page on another port (another origin, the same site for cookies,
// so the browser does send alice's cookie: the daemon's own checks must refuse).
function attacker(target) {
	const body = JSON.stringify({protocol: 'gardner-skinner', patient: 'EVIL1'});
	const html = `<!doctype html><title>other site</title>
<form id="f" method="POST" action="${target}/v1/tests" enctype="text/plain" target="sink">
<input name='${body.slice(0, -2)}' value='"}'></form><iframe name="sink"></iframe>
<script>
(async () => {
	const out = [];
	try { await fetch('${target}/v1/tests', {method: 'POST', mode: 'no-cors', credentials: 'include',
		headers: {'Content-Type': 'text/plain'}, body: '${body}'}); out.push('text/plain sent'); }
	catch (e) { out.push('text/plain failed'); }
	try { await fetch('${target}/v1/tests', {method: 'POST', credentials: 'include',
		headers: {'Content-Type': 'application/json'}, body: '${body}'}); out.push('json answered'); }
	catch (e) { out.push('json blocked'); }
	document.querySelector('iframe').onload = () => { document.title = 'done: ' + out.join(', '); };
	document.getElementById('f').submit();
})();
</script>`;
	const server = http.createServer((req, res) => {
		res.writeHead(200, {'Content-Type': 'text/html'});
		res.end(html);
	});
	return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

async function nothingChanged(what) {
	const st = (await viaSocket('GET', '/v1/status')).json;
	const tests = (await viaSocket('GET', '/v1/tests')).json;
	check(`${what}: nothing started`, st.state === 'idle' && tests.length === 0, `${st.state}, ${tests.length} tests`);
}

await run('browser.cross_site', async () => {
	// With a bearer token, as a listener beyond loopback must be: a request without the
	// session's cookie is refused, not taken as the open loopback's anonymous caller.
	fs.writeFileSync(path.join(WORK, 'token'), 'browser-test-token-0123456789\n');
	const d = await startDaemon(`[sim]\ntime_scale = 5\n[api]\ntoken_file = ${path.join(WORK, 'token')}`);
	addUser('alice', 'technician', 'correct horse battery');
	const browser = await launch();
	const page = await newPage(browser);
	await login(page, d.url, 'alice', 'correct horse battery');

	const evil = await attacker(d.url);
	const other = await page.context().newPage();
	await other.goto(`http://127.0.0.1:${evil.address().port}/`);
	await until('the other site\'s attempts', async () => (await other.title()).startsWith('done'), 20000);
	console.log(`the other site: ${await other.title()}`);
	await nothingChanged('a text/plain fetch, a JSON fetch and a text/plain form from another site');
	evil.close();

	const cookie = (await page.context().cookies()).find((c) => c.name === 'treadlab_session');
	check('the session cookie is HttpOnly and SameSite=Strict', cookie && cookie.httpOnly && cookie.sameSite === 'Strict');
	const csrf = await page.evaluate(() => fetch('/v1/session').then((r) => r.json()).then((j) => j.csrf_token));
	const body = JSON.stringify({protocol: 'gardner-skinner', patient: 'EVIL2'});
	const base = {'Cookie': `treadlab_session=${cookie.value}`, 'Content-Type': 'application/json', 'Host': d.addr};
	let r = await viaTcp(d.addr, 'POST', '/v1/tests', {...base, 'X-CSRF-Token': csrf, 'Host': `evil.example:${d.addr.split(':')[1]}`}, body);
	check(`a wrong Host: 403 (${r.json && r.json.error})`, r.status === 403);
	r = await viaTcp(d.addr, 'POST', '/v1/tests', base, body);
	check(`no CSRF token: 403 (${r.json && r.json.error})`, r.status === 403);
	r = await viaTcp(d.addr, 'POST', '/v1/tests', {...base, 'X-CSRF-Token': 'A'.repeat(43)}, body);
	check(`a wrong CSRF token: 403 (${r.json && r.json.error})`, r.status === 403);
	r = await viaTcp(d.addr, 'POST', '/v1/tests', {...base, 'X-CSRF-Token': csrf, 'Origin': 'http://evil.example'}, body);
	check(`a foreign Origin: 403 (${r.json && r.json.error})`, r.status === 403);
	r = await viaTcp(d.addr, 'POST', '/v1/tests', {...base, 'X-CSRF-Token': csrf, 'Content-Type': 'text/plain'}, body);
	check(`text/plain with the token: 415 (${r.json && r.json.error})`, r.status === 415);
	r = await viaTcp(d.addr, 'POST', '/v1/onset', {...base}, '{}');
	check(`a command without the token: 403 (${r.json && r.json.error})`, r.status === 403);
	await nothingChanged('the refused requests');

	// Every route that changes anything, read from the daemon's own route table (so a
	// route added later is covered the day it is added), refused the same four ways. The
	// session's own routes (log in, log out) and the emergency stop (by cookie alone, on
	// purpose: docs/security.md) have rules of their own, tested above and in
	// browser.estop.
	const table = fs.readFileSync(path.join(SRC, 'src/daemon/api_route.c'), 'utf8');
	const writes = [...table.matchAll(/\{"(\/v1\/[^"]*)", "(POST|PUT|DELETE|PATCH)"/g)]
		.map((m) => [m[1], m[2]]).filter(([p]) => p !== '/v1/session' && p !== '/v1/estop');
	check(`the route table's write routes were found (${writes.length})`, writes.length >= 15);
	const fill = (p) => p.replace('{id}', '1').replace('{mrn}', 'EVIL9').replace('{name}', 'alice');
	const snapshot = async () => JSON.stringify(await Promise.all(
		['/v1/status', '/v1/tests', '/v1/users', '/v1/patients/EVIL9', '/v1/outbox'].map(async (u) => {
			const x = await viaSocket('GET', u);
			return [u, x.status, u === '/v1/status' ? x.json.state : x.text];
		})));
	addUser('dr.who', 'physician', 'physician pass 1');
	const before = await snapshot();
	const port = d.addr.split(':')[1];
	for (const [p, m] of writes) {
		const u = fill(p), tok = {...base, 'X-CSRF-Token': csrf};
		const got = [
			(await viaTcp(d.addr, m, u, base, '{}')).status,
			(await viaTcp(d.addr, m, u, {...tok, 'Origin': 'http://evil.example'}, '{}')).status,
			(await viaTcp(d.addr, m, u, {...tok, 'Host': `evil.example:${port}`}, '{}')).status,
			(await viaTcp(d.addr, m, u, {...tok, 'Content-Type': 'text/plain'}, '{}')).status];
		check(`${m} ${p}: no token, foreign Origin, wrong Host: 403; text/plain: 415 (${got})`,
			got.join() === '403,403,403,415');
	}

	// Roles: a physician's session watches (and signs, and stops the belt): every other
	// write route refuses it, though its cookie, token, Host and Origin are right.
	const lr = await viaTcp(d.addr, 'POST', '/v1/session', {'Content-Type': 'application/json', 'Host': d.addr,
		'Origin': d.url}, JSON.stringify({user: 'dr.who', password: 'physician pass 1'}));
	check(`the physician logs in (${lr.status})`, lr.status === 200);
	const drCookie = String(lr.headers['set-cookie']).match(/treadlab_session=([^;]+)/)[1];
	const dr = {'Cookie': `treadlab_session=${drCookie}`, 'Content-Type': 'application/json', 'Host': d.addr,
		'Origin': d.url, 'X-CSRF-Token': lr.json.csrf_token};
	for (const [p, m] of writes.filter(([p]) => !p.endsWith('/sign') && p !== '/v1/cuff/vent')) {
		const r = await viaTcp(d.addr, m, fill(p), dr, '{}');
		check(`${m} ${p} by a physician's session: 403 (${r.status} ${r.json && r.json.error})`, r.status === 403);
	}
	// ... but venting the cuff only lets it down: like the emergency stop, anyone logged in
	// may (here no cuff is configured: 404, past the role check)
	r = await viaTcp(d.addr, 'POST', '/v1/cuff/vent', dr, '{}');
	check(`POST /v1/cuff/vent by a physician's session passes the role check (${r.status} ${r.json && r.json.error})`,
		r.status === 404 && /no cuff is configured/.test(r.json.error));
	const after = await snapshot();
	check('nothing changed: status, tests, users, patients, outbox', after === before, `${before} -> ${after}`);

	// Done right, the same request starts the belt: the refusals were the checks'.
	r = await viaTcp(d.addr, 'POST', '/v1/tests', {...base, 'X-CSRF-Token': csrf, 'Origin': d.url}, body);
	check(`the same with the token, Host and Origin right: 201 (${r.status})`, r.status === 201);
	await viaSocket('POST', '/v1/estop');

	// An ended session: logged out in another tab, the cookie is refused; the first tab
	// goes back to its login, saying why, at its next command or as soon as its live
	// stream finds the session gone (whichever comes first: a slow machine (ASan) lets
	// the stream win before the command is typed).
	const tab2 = await page.context().newPage();
	await tab2.goto(d.url + '/');
	await tab2.locator('#who').filter({hasText: 'alice'}).waitFor();
	await tab2.getByRole('button', {name: 'Log out'}).click();
	await tab2.getByRole('heading', {name: 'Log in'}).waitFor();
	try {
		await page.getByLabel('Patient identifier (MRN)').first().fill('EVIL4', {timeout: 3000});
		await page.locator('#b-start').click({timeout: 3000});
	} catch (e) {
		console.log('     the page had already left the station: ' + e.message.split('\n')[0]);
	}
	await page.locator('#login-error').filter({hasText: 'session has ended'}).waitFor();
	check('with its session ended the page goes to its login, saying why', await page.getByRole('heading', {name: 'Log in'}).isVisible());
	r = await viaTcp(d.addr, 'POST', '/v1/tests', {...base, 'X-CSRF-Token': csrf}, JSON.stringify({protocol: 'gardner-skinner', patient: 'EVIL3'}));
	check(`an ended session's cookie and token: 401 (${r.json && r.json.error})`, r.status === 401);
	const tests = (await viaSocket('GET', '/v1/tests')).json;
	check('only the one test done right exists', tests.length === 1 && tests[0].patient === 'EVIL2', JSON.stringify(tests.map((t) => t.patient)));
	await browser.close();
	check('the daemon stops cleanly', (await stopDaemon(d)) === 0);
});
