// api.js - the daemon's HTTP API as the page uses it (docs/api.md): JSON both ways, the
// session's CSRF token on every request that changes something.
let csrf = '';
let sessionEnded = () => {};

let operator = '';

export function setCsrf(token) { csrf = token || ''; }
// The account logged in, named as the operator of every command and record: with the
// session the daemon checks it is the account; on a listener that needs no login (the
// loopback one without a token) a request whose cookie is gone still names who did it.
export function setOperator(name) { operator = name || ''; }
// Called when the daemon says the session is over (idle too long, logged out elsewhere,
// the daemon restarted): the page goes back to its login.
export function onSessionEnded(fn) { sessionEnded = fn; }

export class ApiError extends Error {
	constructor(status, message) { super(message); this.status = status; }
}

// call('POST', '/v1/onset', {}): the answer's JSON, or throws ApiError with the daemon's
// own message (shown beside the field or button that caused it).
export async function call(method, path, body) {
	const init = {method, credentials: 'same-origin', headers: {}, cache: 'no-store'};
	if (method !== 'GET') {
		init.headers['Content-Type'] = 'application/json';
		if (csrf) init.headers['X-CSRF-Token'] = csrf;
		const b = body === undefined ? {} : {...body};
		if (operator && !path.startsWith('/v1/session') && !path.startsWith('/v1/users'))
			b.operator = operator;
		init.body = JSON.stringify(b);
	}
	let r;
	try {
		r = await fetch(path, init);
	} catch (e) {
		throw new ApiError(0, 'the daemon does not answer (' + e.message + ')');
	}
	let j = null;
	try { j = await r.json(); } catch (e) { j = null; }
	if (r.status === 401 && path !== '/v1/session' && csrf)
		sessionEnded();
	if (!r.ok)
		throw new ApiError(r.status, (j && j.error) || `HTTP ${r.status}`);
	return j;
}

// The emergency stop: sent at once, never waits for anything else of the page.
export function estop() {
	return fetch('/v1/estop', {method: 'POST', credentials: 'same-origin', cache: 'no-store',
		headers: {'Content-Type': 'application/json', 'X-CSRF-Token': csrf}, body: '{}'});
}
