// app.js - the technician's page: log in, the live station over Server-Sent Events, the
// commands, pressures (typed, or read from the cuff), findings, the result and a
// patient's history. Everything it
// shows comes from the daemon's API (docs/api.md); it keeps no state of its own that
// the daemon does not have, so a reload or a reconnect shows the truth.
import {call, estop, onSessionEnded, setCsrf, setOperator} from './api.js';
import {drawLive, drawTrend} from './plot.js';

const $ = (id) => document.getElementById(id);

// el('td', {class: 'x'}, 'text', child): a DOM element; text always as text.
function el(tag, attrs, ...kids) {
	const e = document.createElement(tag);
	for (const [k, v] of Object.entries(attrs || {})) {
		if (v === undefined || v === null || v === false) continue;
		if (k === 'class') e.className = v;
		else if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
		else e.setAttribute(k, v === true ? '' : v);
	}
	for (const k of kids.flat())
		if (k !== null && k !== undefined) e.append(k instanceof Node ? k : String(k));
	return e;
}

const fmt = {
	s: (v) => (v == null ? '-' : `${v.toFixed(1)} s`),
	m: (v) => (v == null ? '-' : `${v.toFixed(1)} m`),
	mmss(sec) {
		if (sec == null || !isFinite(sec)) return '-';
		const s = Math.max(0, Math.round(sec));
		return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
	},
	num: (v, d) => (v == null ? '-' : Number(v).toFixed(d)),
};

const WALKING = ['running', 'resting', 'stopping', 'recovery'];
// the post-exercise minutes the daemon reminds of by default; the status says which it
// is configured with ([daemon] reminder_minutes)
const POST_MINUTES = [1, 3, 5, 10];
// the post-exercise criteria the daemon names (docs/clinical.md), in a technician's words
const CRITERIA = {
	post_abi_le_0_90: 'post-exercise ABI <= 0.90', abi_fall_gt_20pct: 'ABI fall > 20 %',
	ankle_fall_gt_30mmhg: 'ankle pressure fall > 30 mmHg', delayed_recovery_gt_3min: 'ankle pressure recovery > 3 min',
};
const SITES = [
	['brachial-right', 'Arm (brachial) right'], ['brachial-left', 'Arm (brachial) left'],
	['pt-right', 'PT right'], ['dp-right', 'DP right'], ['pt-left', 'PT left'], ['dp-left', 'DP left'],
	['toe-right', 'Toe right'], ['toe-left', 'Toe left'],
];
const QUESTIONS = [
	['triggered_by_standing', 'Comes on from standing alone, without walking'],
	['shopping_cart_sign', 'Walks further bent forward (leaning on a shopping cart)'],
	['numbness', 'Numbness'],
	['tingling', 'Tingling, pins and needles'],
	['weakness', 'Leg weakness'],
	['persistent_neuro_deficit', 'Numbness or weakness that stays at rest'],
	['sudden_muscle_knot', 'A sudden knot or cramp in the muscle'],
	['rest_pain', 'Pain at rest (at night, in the foot)'],
	['nonhealing_wound', 'A wound that does not heal'],
	['gangrene', 'Gangrene (black tissue)'],
	['skin_pallor', 'Pale skin'],
	['skin_cyanosis', 'Blue skin'],
	['cool_limb', 'Cold leg or foot'],
	['saddle_anesthesia', 'Numbness in the saddle area'],
	['bladder_dysfunction', 'New bladder or bowel trouble'],
	['acute_onset', 'Came on suddenly (hours or days)'],
];

const app = {
	session: null,       // {user, role, csrf_token}
	status: null,        // the last status object
	events: [],          // the current test's events (record + stream)
	testId: null,        // the test the status is about
	protocol: null,      // its protocol, expanded (GET /v1/protocols/{name})
	samples: [],         // [{t, speed, grade}] for the live plot
	recordId: null,      // the test the pressure, findings and result screens show
	record: null,        // its record as last read
	reminders: POST_MINUTES, // the daemon's post-exercise reminder minutes
	cuffLast: undefined, // the cuff's last reading seen ("test/count"): a new one reloads the record
	cuffPending: null, // that reading, until a record read back holds it
	cuffReading: false, // a read of the record for it is under way
	es: null, connected: false, retry: null, watchdog: null,
};

/* ---------- screens ---------- */

function show(screen) {
	for (const s of document.querySelectorAll('.screen')) s.hidden = s.id !== `screen-${screen}`;
	for (const b of document.querySelectorAll('#nav [data-screen]'))
		b.toggleAttribute('aria-current', b.dataset.screen === screen);
	const load = {record: loadRecord, result: loadResult}[screen];
	if (load) load();
	document.body.dataset.screen = screen;
}

function readOnly() {
	// technicians run tests; an admin may too (the first account on a new station is one);
	// a physician watches (the emergency stop excepted).
	return !app.session || app.session.role === 'physician';
}

/* ---------- log in ---------- */

async function loggedIn(s, screen) {
	app.session = s;
	setCsrf(s.csrf_token);
	setOperator(s.user);
	$('who').textContent = `${s.user} (${s.role})`;
	$('operator').textContent = s.user;
	$('nav').hidden = false;
	$('readonly-note').hidden = !readOnly();
	show(screen || 'station');
	await loadProtocols();
	connect();
}

function loggedOut(message) {
	app.session = null;
	setCsrf('');
	setOperator('');
	disconnect();
	$('who').textContent = '';
	$('nav').hidden = true;
	$('login-error').textContent = message || '';
	show('login');
	$('login-user').focus();
}

$('login-form').addEventListener('submit', async (e) => {
	e.preventDefault();
	$('login-error').textContent = '';
	try {
		const s = await call('POST', '/v1/session', {user: $('login-user').value, password: $('login-password').value});
		$('login-password').value = '';
		await loggedIn(s);
	} catch (err) {
		let msg = err.message;
		if (err.status === 401)
			msg += '. No account yet? See "First time on this station" below.';
		$('login-error').textContent = msg;
	}
});

$('logout').addEventListener('click', async () => {
	try { await call('DELETE', '/v1/session'); } catch (e) { /* ended already */ }
	loggedOut('Logged out.');
});

for (const btn of document.querySelectorAll('#nav [data-screen]'))
	btn.addEventListener('click', () => show(btn.dataset.screen));

/* ---------- the emergency stop: a click, or Escape anywhere, any time ---------- */

async function doEstop(how) {
	const sent = estop(); // the request leaves before the page does anything else
	const msg = $('estop-msg');
	msg.textContent = `EMERGENCY STOP sent (${how}) at ${new Date().toLocaleTimeString()}`;
	msg.className = 'estop-msg sent';
	try {
		const r = await sent;
		if (!r.ok) {
			let j = null;
			try { j = await r.json(); } catch (e) { /* no body */ }
			msg.textContent = `EMERGENCY STOP REFUSED: ${(j && j.error) || r.status}. Use the treadmill's own stop.`;
			msg.className = 'estop-msg failed';
			return;
		}
		msg.textContent = `Emergency stop done (${how}) at ${new Date().toLocaleTimeString()}: the belt is stopping.`;
	} catch (e) {
		msg.textContent = 'EMERGENCY STOP NOT SENT: no connection to the daemon. Use the treadmill\'s own stop.';
		msg.className = 'estop-msg failed';
	}
}
$('estop').addEventListener('click', () => doEstop('button'));
// Capture phase: no field, dialog or handler of the page gets Escape before the stop.
document.addEventListener('keydown', (e) => {
	if (e.key === 'Escape' && !e.repeat) {
		e.preventDefault();
		e.stopPropagation();
		doEstop('Escape key');
	}
}, true);

/* ---------- live: the event stream, reconnecting by itself ---------- */

function banner(text) {
	$('banner').textContent = text || '';
	$('banner').hidden = !text;
	document.body.classList.toggle('offline', !!text);
}

function disconnect() {
	if (app.es) app.es.close();
	app.es = null;
	app.connected = false;
	clearTimeout(app.retry);
	clearTimeout(app.watchdog);
}

function connect() {
	disconnect();
	const es = new EventSource('/v1/events');
	app.es = es;
	es.addEventListener('status', (e) => {
		const st = JSON.parse(e.data);
		const first = !app.connected;
		app.connected = true;
		armWatchdog();
		onStatus(st, first);
		if (first) banner('');
	});
	es.addEventListener('event', (e) => onEvent(JSON.parse(e.data)));
	es.onerror = () => lost();
}

// A status comes every tick: three seconds without one is a lost daemon even when the
// connection has not said so.
function armWatchdog() {
	clearTimeout(app.watchdog);
	app.watchdog = setTimeout(lost, 3000);
}

function lost() {
	if (!app.session) return;
	disconnect();
	banner('Lost the connection to treadlabd. Reconnecting... The emergency stop still tries; the treadmill\'s own stop always works.');
	app.retry = setTimeout(reconnect, 1000);
}

async function reconnect() {
	try {
		await call('GET', '/v1/status');
	} catch (e) {
		if (e.status === 401) {
			banner('');
			loggedOut('The daemon restarted or your session ended: log in again.');
			return;
		}
		app.retry = setTimeout(reconnect, 1000);
		return;
	}
	connect();
}

/* ---------- live: what the status and events say ---------- */

// The stream's events carry no operator; the record has it: read again shortly after.
let eventsTimer = null;
function refreshEvents() {
	clearTimeout(eventsTimer);
	eventsTimer = setTimeout(async () => {
		if (app.testId == null) return;
		try {
			const rec = await call('GET', `/v1/tests/${app.testId}`);
			if (rec.id === app.testId) app.events = rec.events || [];
			renderEvents();
		} catch (e) { /* the next event tries again */ }
	}, 300);
}

function renderEvents() {
	const shown = app.events.filter((e) => e.kind !== 'reminder' || e === app.events[app.events.length - 1]).slice(-10).reverse();
	$('v-events').replaceChildren(...shown.map((e) => el('li', {},
		`${fmt.mmss(e.t_s)} ${e.kind.replace(/_/g, ' ')}${e.detail ? ': ' + e.detail : ''}`,
		el('span', {class: 'by'}, e.operator ? ` by ${e.operator}` : ` (${e.source})`))));
}

function onEvent(ev) {
	app.events.push(ev);
	renderEvents();
	refreshEvents();
	if (ev.kind === 'reminder')
		$('v-reminder').dataset.due = String(ev.value);
	if (['start', 'walk_end', 'complete', 'relief'].includes(ev.kind) && app.recordId === app.testId && !$('screen-result').hidden)
		loadResult();
}

// A new test, or a (re)connect: the record's events (marks, belt stop) and the protocol.
async function resync(st) {
	if (st.test_id == null) return;
	try {
		const rec = await call('GET', `/v1/tests/${st.test_id}`);
		if (rec.id === app.testId) app.events = rec.events || [];
		renderEvents();
	} catch (e) { /* shown on the next status */ }
	if (st.protocol && (!app.protocol || app.protocol.name !== st.protocol)) {
		try { app.protocol = await call('GET', `/v1/protocols/${st.protocol}`); } catch (e) { app.protocol = null; }
	}
}

function onStatus(st, first) {
	const newTest = st.test_id !== app.testId;
	app.status = st;
	if (Array.isArray(st.reminder_minutes) && String(st.reminder_minutes) !== String(app.reminders)) {
		app.reminders = st.reminder_minutes;
		buildPressureTable();
	}
	if (newTest) {
		app.testId = st.test_id;
		app.samples = [];
		app.events = [];
		renderEvents();
		$('v-reminder').dataset.due = '';
		if (app.testId != null && app.recordId !== app.testId) {
			app.recordId = app.testId;
			// a screen opened before the first status said "no test yet": it shows this test now
			const load = {record: loadRecord, result: loadResult}[document.body.dataset.screen];
			if (load) load();
		}
	}
	if (newTest || first) resync(st);
	const last = app.samples[app.samples.length - 1];
	if (st.test_id != null && WALKING.includes(st.state) && (!last || st.t_s - last.t >= 0.5))
		app.samples.push({t: st.t_s, speed: st.command.speed_kmh, grade: st.command.grade_pct});
	render(st);
}

function stageText(st) {
	const p = app.protocol;
	if (st.stage == null) return ['-', '-'];
	const n = p && p.name === st.protocol ? p.stages.length : null;
	const stg = n ? p.stages[st.stage] : null;
	let what = `${st.stage + 1}${n ? ` of ${n}` : ''}`;
	if (stg) what += stg.kind === 'walk' ? ` (${fmt.num(stg.speed_kmh, 1)} km/h, ${fmt.num(stg.grade_pct, 1)} %)` : ` (${stg.kind})`;
	let next = '-';
	if (stg && ['running', 'resting'].includes(st.state)) {
		const left = stg.start_s + stg.duration_s - st.t_s;
		next = st.stage + 1 < n ? fmt.mmss(left / (st.time_scale || 1)) : `end in ${fmt.mmss(left / (st.time_scale || 1))}`;
	}
	return [what, next];
}

// The commanded profile from the protocol's stages, from 0 to the first sample this page
// saw (or to the end of walking): a page opened or reconnected mid-test draws it whole.
function profileBefore(st) {
	const p = app.protocol;
	if (!p || p.name !== st.protocol || st.test_id == null) return [];
	const walkEnd = app.events.find((e) => e.kind === 'walk_end');
	let until = app.samples.length ? app.samples[0].t : st.t_s;
	if (walkEnd) until = Math.min(until, walkEnd.t_s);
	const pts = [];
	for (const s of p.stages) {
		if (s.start_s >= until) break;
		const speed = s.kind === 'walk' ? s.speed_kmh : 0, grade = s.kind === 'walk' ? s.grade_pct : 0;
		pts.push({t: s.start_s, speed, grade}, {t: Math.min(s.start_s + s.duration_s, until), speed, grade});
	}
	return pts;
}

function reminderText(st) {
	if (st.state !== 'recovery') return '';
	const stop = [...app.events].reverse().find((e) => e.kind === 'belt_stopped');
	if (!stop) return '';
	const since = st.t_s - stop.t_s; // test time since the belt stopped
	const due = $('v-reminder').dataset.due;
	const next = app.reminders.find((m) => m * 60 > since);
	let text = due ? `Take the minute-${due} pressures now. ` : '';
	if (next != null)
		text += `Post-exercise pressures: minute ${next} in ${fmt.mmss((next * 60 - since) / (st.time_scale || 1))}`;
	return text;
}

function render(st) {
	$('v-state').textContent = st.state.replace('_', ' ');
	$('v-state').dataset.state = st.state;
	$('v-end').textContent = st.end_reason ? `end: ${st.end_reason.replace(/_/g, ' ')}` : '';
	$('v-test').textContent = st.test_id != null ? `${st.test_id} (${st.patient}, ${st.protocol})` : '-';
	$('v-time').textContent = st.test_id != null ? fmt.mmss(st.t_s) + (st.time_scale !== 1 ? ` (time x${st.time_scale})` : '') : '-';
	const [stage, next] = stageText(st);
	$('v-stage').textContent = stage;
	$('v-next').textContent = next;
	const tm = st.treadmill || {};
	$('v-speed').textContent = `${fmt.num(st.command.speed_kmh, 2)} / ${tm.reading ? fmt.num(tm.speed_kmh, 2) : '-'} km/h`;
	$('v-grade').textContent = `${fmt.num(st.command.grade_pct, 1)} / ${tm.reading ? fmt.num(tm.grade_pct, 1) : '-'} %`;
	const ep = st.endpoints || {};
	$('v-cot').textContent = fmt.s(ep.cot_s);
	$('v-pwt').textContent = fmt.s(ep.pwt_s) + (ep.pwt_censored ? ' (at least: walking ended otherwise)' : '');
	$('v-icd').textContent = fmt.m(ep.icd_m);
	$('v-acd').textContent = fmt.m(ep.acd_m) + (ep.acd_censored ? ' (at least)' : '');
	const dev = tm.connected === false ? `not connected${tm.error ? ': ' + tm.error : ''}`
		: !tm.reading ? 'no reading' : tm.stopped_by_device ? `stopped by the device${tm.detail ? ': ' + tm.detail : ''}`
		: `${tm.driver}, ${tm.running ? 'belt running' : 'belt stopped'}`;
	$('v-device').textContent = dev;
	$('v-buttons').textContent = st.button_error ? `FAILING: ${st.button_error}` : 'ok';
	const alarm = [st.alarm && `Alarm: ${st.alarm}`, st.store_error && `Not recorded: ${st.store_error}`].filter(Boolean).join(' ');
	$('v-alarm').textContent = alarm;
	$('v-alarm').hidden = !alarm;
	// results not yet in the medical record (the outbox: treadlab outbox, docs/records.md)
	const ob = st.outbox || {};
	const obText = ob.undelivered ? `${ob.undelivered} result${ob.undelivered === 1 ? '' : 's'} not yet delivered to the medical record` +
		(ob.failed ? ` (${ob.failed} failed${ob.alert ? ': ' + ob.alert : ''}; see treadlab outbox)` : '') : '';
	$('v-outbox').textContent = obText;
	$('v-outbox').hidden = !obText;
	$('v-outbox').dataset.failed = ob.failed ? 'yes' : 'no';
	const rem = reminderText(st);
	$('v-reminder').textContent = rem;
	$('v-reminder').hidden = !rem;
	// also where the technician types the pressures, when that is this test's table
	const here = app.recordId === app.testId ? rem : '';
	$('r-reminder').textContent = here;
	$('r-reminder').hidden = !here;
	const marks = app.events.filter((e) => ['onset', 'max', 'stop', 'estop'].includes(e.kind))
		.map((e) => ({t: e.t_s, label: e.kind === 'onset' && e.detail === 'repeat' ? 'onset (repeat)' : e.kind}));
	const tmax = app.protocol && app.protocol.name === st.protocol ? Math.min(app.protocol.max_duration_s, st.t_s + 120) : 0;
	drawLive($('plot'), profileBefore(st).concat(app.samples), marks, tmax);
	const s = st.state, ro = readOnly();
	$('b-start').disabled = ro || WALKING.includes(s);
	$('b-onset').disabled = ro || s !== 'running';
	$('b-max').disabled = ro || s !== 'running';
	$('b-relief').disabled = ro || !['recovery', 'resting'].includes(s);
	$('b-stop').disabled = ro || !['running', 'resting'].includes(s);
	$('b-finish').disabled = ro || s !== 'recovery';
	renderCuff(st);
}

/* ---------- run a test ---------- */

async function loadProtocols() {
	const sel = $('protocol');
	if (sel.options.length) return;
	try {
		const list = await call('GET', '/v1/protocols');
		for (const p of list) sel.append(el('option', {value: p.name}, p.title));
		const gs = list.find((p) => p.name === 'gardner-skinner');
		if (gs) sel.value = gs.name;
		await showProtocol();
	} catch (e) {
		$('start-error').textContent = `protocols: ${e.message}`;
	}
}

async function showProtocol() {
	const p = await call('GET', `/v1/protocols/${$('protocol').value}`);
	$('protocol-ref').textContent = p.reference;
	const body = $('stages').tBodies[0];
	body.replaceChildren(...p.stages.map((s) => el('tr', {},
		el('td', {}, s.index + 1), el('td', {}, fmt.mmss(s.start_s)), el('td', {}, fmt.mmss(s.duration_s)),
		el('td', {}, s.kind === 'walk' ? `${fmt.num(s.speed_kmh, 1)} km/h${s.speed_mph != null ? ` (${s.speed_mph} mph)` : ''}` : s.kind),
		el('td', {}, s.kind === 'walk' ? `${fmt.num(s.grade_pct, 1)} %` : '-'))));
}
$('protocol').addEventListener('change', () => showProtocol().catch((e) => { $('start-error').textContent = e.message; }));

// The optional demographics go to the patient before the start (a refused value stops
// the start, with the daemon's words); the accession to the test once it has an id.
$('start-form').addEventListener('submit', async (e) => {
	e.preventDefault();
	$('start-error').textContent = '';
	const mrn = $('patient').value;
	const demo = {};
	for (const [id, key] of [['family', 'family'], ['given', 'given'], ['birth-date', 'birth_date'], ['sex', 'sex']])
		if ($(id).value.trim()) demo[key] = $(id).value.trim();
	const accession = $('accession').value.trim();
	try {
		if (Object.keys(demo).length)
			await call('PUT', `/v1/patients/${encodeURIComponent(mrn)}`, demo);
		const t = await call('POST', '/v1/tests', {protocol: $('protocol').value, patient: mrn});
		if (accession && t && t.id != null)
			await call('PUT', `/v1/tests/${t.id}/order`, {accession});
		// once used: the next test (another patient, another order) starts from empty
		for (const id of ['family', 'given', 'birth-date', 'sex', 'accession']) $(id).value = '';
	} catch (err) {
		$('start-error').textContent = err.message;
	}
});

async function command(path, body) {
	$('cmd-msg').textContent = '';
	try {
		await call('POST', path, body);
		return true;
	} catch (err) {
		$('cmd-msg').textContent = err.message;
		return false;
	}
}
$('b-onset').addEventListener('click', () => command('/v1/onset'));
$('b-max').addEventListener('click', () => command('/v1/max'));
$('b-finish').addEventListener('click', () => command('/v1/finish'));

// Dialogs are opened non-modally (show(), not showModal()): the page and its emergency
// stop stay usable while one is open.
function openDialog(id, focus) {
	const d = $(id);
	d.show();
	$(focus).focus();
}
for (const d of document.querySelectorAll('dialog'))
	d.querySelector('.close').addEventListener('click', () => d.close());
$('b-relief').addEventListener('click', () => openDialog('dlg-relief', 'posture'));
$('b-stop').addEventListener('click', () => openDialog('dlg-stop', 'stop-reason'));
$('relief-form').addEventListener('submit', async (e) => {
	e.preventDefault();
	if (await command('/v1/relief', {posture: $('posture').value})) $('dlg-relief').close();
});
$('stop-form').addEventListener('submit', async (e) => {
	e.preventDefault();
	const reason = $('stop-reason').value.trim();
	if (await command('/v1/stop', reason ? {reason} : {})) $('dlg-stop').close();
});

/* ---------- pressures and findings ---------- */

function fieldId(phase, minute, site) {
	return `p-${phase}${minute == null ? '' : minute}-${site}`;
}

const ankle = (site) => /^(pt|dp)-/.test(site);

// The post-exercise columns: the daemon's reminder minutes, and any other minute the
// record has (a pressure recorded from the command line).
function postMinutes() {
	const rec = (app.record && app.record.pressures || []).filter((p) => p.phase === 'post' && Number.isInteger(p.minute));
	// and the minute of a cuff series on this test, so its cell is there to highlight
	const s = app.status && app.status.cuff && app.status.cuff.series;
	const cuff = s && s.phase === 'post' && s.test_id === app.recordId && s.minute != null ? [Math.round(s.minute)] : [];
	return [...new Set([...app.reminders, ...rec.map((p) => p.minute), ...cuff])].sort((a, b) => a - b);
}

// Built again when the minutes change; values typed and not yet sent are kept.
function buildPressureTable() {
	const minutes = postMinutes();
	if ($('pressures').dataset.minutes === String(minutes)) return;
	const typed = [...$('pressures').querySelectorAll('input[type=number]')].filter((i) => i.value !== '' && i.dataset.sent !== sentKey(i))
		.map((i) => [i.id, i.value, $(`${i.id}-nc`) && $(`${i.id}-nc`).checked]);
	$('pressures').dataset.minutes = String(minutes);
	const cols = [['rest', null, 'Rest'], ...minutes.map((m) => ['post', m, `Post ${m} min`])];
	$('pressures').tHead.replaceChildren(el('tr', {}, el('th', {scope: 'col'}, 'Site'),
		...cols.map(([, , label]) => el('th', {scope: 'col'}, label))));
	$('pressures').tBodies[0].replaceChildren(...SITES.map(([site, name]) => el('tr', {},
		el('th', {scope: 'row'}, name),
		...cols.map(([phase, minute, label]) => {
			const id = fieldId(phase, minute, site);
			const input = el('input', {id, type: 'number', min: 0, max: 300, step: 1, inputmode: 'numeric',
				'aria-label': `${name}, ${label}`, 'aria-describedby': `${id}-msg ${id}-src`});
			input.dataset.phase = phase;
			input.dataset.site = site;
			if (minute != null) input.dataset.minute = String(minute);
			input.addEventListener('change', () => sendPressure(input));
			input.addEventListener('keydown', (e) => { if (e.key === 'Enter') { e.preventDefault(); sendPressure(input); } });
			// An ankle artery that does not compress at the cuff's maximum: the number is
			// then the cuff pressure reached (docs/api.md, pressures).
			const nc = ankle(site) ? el('label', {class: 'nc'}, el('input', {type: 'checkbox', id: `${id}-nc`,
				'aria-label': `${name}, ${label}: noncompressible`, onchange: () => sendPressure(input)}), ' noncompressible') : null;
			return el('td', {}, input, el('span', {id: `${id}-src`, class: 'src-tag', hidden: true}), nc,
				el('span', {id: `${id}-msg`, class: 'field-msg', 'aria-live': 'polite'}));
		}))));
	for (const [id, value, nc] of typed) {
		if (!$(id)) continue;
		$(id).value = value;
		if (nc) $(`${id}-nc`).checked = true;
	}
	if (app.record && app.record.id === app.recordId) fillRecord(app.record, false);
}

// Another test's record: the table starts empty.
function clearPressures(id) {
	$('pressures').dataset.test = String(id);
	for (const input of $('pressures').querySelectorAll('input')) {
		if (input.type === 'checkbox') input.checked = false;
		else input.value = '';
		delete input.dataset.sent;
		delete input.dataset.refused;
		input.removeAttribute('aria-invalid');
	}
	for (const m of $('pressures').querySelectorAll('.field-msg')) m.replaceChildren();
	for (const t of $('pressures').querySelectorAll('.src-tag')) {
		t.replaceChildren();
		t.hidden = true;
	}
}

// What a field holds: its number, and for an ankle whether it is noncompressible.
function sentKey(input) {
	const nc = $(`${input.id}-nc`);
	return `${input.value}${nc && nc.checked ? ' nc' : ''}`;
}

async function sendPressure(input, confirm) {
	const key = sentKey(input);
	if (input.value === '' || input.dataset.sent === key) return;
	// Enter and then leaving the field would send a refused value twice.
	if (!confirm && input.dataset.refused === key) return;
	const msg = $(`${input.id}-msg`);
	const body = {phase: input.dataset.phase, site: input.dataset.site, mmhg: Number(input.value)};
	if (input.dataset.minute) body.minute = Number(input.dataset.minute);
	if (key.endsWith(' nc')) body.noncompressible = true;
	if (confirm) body.confirm_implausible = true;
	try {
		const rec = await call('POST', `/v1/tests/${app.recordId}/pressures`, body);
		input.dataset.sent = key;
		delete input.dataset.refused;
		input.removeAttribute('aria-invalid');
		msg.textContent = 'recorded';
		msg.className = 'field-msg ok';
		fillRecord(rec, false);
	} catch (e) {
		if (e.status) input.dataset.refused = key; // the daemon refused it (not: no answer)
		input.setAttribute('aria-invalid', 'true');
		msg.textContent = e.message;
		msg.className = 'field-msg error';
		// An arm pressure below 50 is refused unless the technician confirms it.
		if (/confirm_implausible/.test(e.message) && !confirm)
			msg.append(' ', el('button', {type: 'button', class: 'confirm', onclick: () => sendPressure(input, true)},
				`Keep ${input.value} (checked)`));
	}
}

function buildQuestions() {
	$('f-bools').replaceChildren(...QUESTIONS.map(([key, text]) => el('div', {class: 'q'},
		el('label', {for: `f-${key}`}, text),
		el('select', {id: `f-${key}`, name: key},
			el('option', {value: ''}, 'not asked'), el('option', {value: 'true'}, 'yes'), el('option', {value: 'false'}, 'no')))));
}

function fillRecord(rec, withFindings) {
	app.record = rec;
	$('record-test').textContent = `- test ${rec.id}, patient ${rec.patient}`;
	if ($('pressures').dataset.test !== String(rec.id)) clearPressures(rec.id);
	if ($('pressures').dataset.minutes !== String(postMinutes())) {
		buildPressureTable(); // fills the record in again
		return fillFindings(rec, withFindings);
	}
	// the last of a field's pressures is the one that counts (the record keeps them all)
	const byField = new Map();
	for (const p of rec.pressures || []) {
		const id = fieldId(p.phase, p.minute == null ? null : Math.round(p.minute), p.site);
		if (!byField.has(id)) byField.set(id, []);
		byField.get(id).push(p);
	}
	for (const [id, ps] of byField) {
		const p = ps[ps.length - 1];
		const input = $(id);
		const nc = input && $(`${input.id}-nc`);
		if (input && document.activeElement !== input && (!nc || document.activeElement !== nc)) {
			input.value = String(p.mmhg);
			if (nc) nc.checked = !!p.noncompressible;
			input.dataset.sent = sentKey(input);
		}
		if (input) tagSource(id, ps);
	}
	fillFindings(rec, withFindings);
}

// Where a field's value came from: "cuff" when the cuff recorded the one that counts;
// "corrected" when it was typed over a cuff's (the record keeps both). The detail is
// read out with the field (aria-describedby) and shown on hover.
function cuffDetail(p) {
	return `from the cuff (${p.source})` +
		(p.interval_ms != null ? `, samples ${p.interval_ms} ms apart around the press` : '') +
		(p.deflation_mmhg_s != null ? `, deflating at ${fmt.num(p.deflation_mmhg_s, 1)} mmHg/s` : '') +
		(p.operator ? `, series by ${p.operator}` : '');
}

function tagSource(id, ps) {
	const tag = $(`${id}-src`);
	if (!tag) return;
	const last = ps[ps.length - 1];
	const fromCuff = (p) => /^cuff-/.test(p.source || '');
	const cuff = [...ps].reverse().find(fromCuff);
	let word, detail;
	if (fromCuff(last)) {
		word = 'cuff';
		detail = cuffDetail(last);
	} else if (cuff) {
		word = 'corrected';
		detail = `typed${last.operator ? ` by ${last.operator}` : ''} over the cuff's ${cuff.mmhg} mmHg (${cuffDetail(cuff)}); the record keeps both`;
	} else {
		tag.replaceChildren();
		tag.hidden = true;
		return;
	}
	tag.className = `src-tag ${word}`;
	tag.title = detail;
	tag.replaceChildren(word, el('span', {class: 'visually-hidden'}, `: ${detail}`));
	tag.hidden = false;
}

function fillFindings(rec, withFindings) {
	if (!withFindings) return;
	const f = rec.findings || {};
	for (const box of document.querySelectorAll('#findings [name=location]'))
		box.checked = (f.location || []).includes(box.value);
	$('f-side').value = f.side || '';
	$('f-relief').value = f.relief || '';
	$('f-relief-time').value = f.relief_time_s == null ? '' : String(f.relief_time_s);
	for (const [key] of QUESTIONS) $(`f-${key}`).value = f[key] == null ? '' : String(f[key]);
}

async function loadRecord() {
	if (app.recordId == null) {
		$('record-test').textContent = '- no test yet';
		return;
	}
	try {
		fillRecord(await call('GET', `/v1/tests/${app.recordId}`), true);
	} catch (e) {
		$('findings-msg').textContent = e.message;
	}
}

// The findings document the classifier reads (PUT /v1/tests/{id}/findings, "symptoms").
function findingsDocument() {
	const s = {};
	const loc = [...document.querySelectorAll('#findings [name=location]:checked')].map((b) => b.value);
	if (loc.length) s.location = loc;
	if ($('f-side').value) s.side = $('f-side').value;
	if ($('f-relief').value) s.relief = $('f-relief').value;
	if ($('f-relief-time').value !== '') s.relief_time_s = Number($('f-relief-time').value);
	for (const [key] of QUESTIONS) {
		const v = $(`f-${key}`).value;
		if (v) s[key] = v === 'true';
	}
	return s;
}

$('findings').addEventListener('submit', async (e) => {
	e.preventDefault();
	const msg = $('findings-msg');
	try {
		await call('PUT', `/v1/tests/${app.recordId}/findings`, {symptoms: findingsDocument()});
		msg.textContent = 'Findings recorded.';
		msg.className = 'ok';
	} catch (err) {
		msg.textContent = err.message;
		msg.className = 'error';
	}
});

/* ---------- the cuff: a guided series of pressures read from the cuff (issue 15) ---------- */

const siteName = (site) => (SITES.find(([s]) => s === site) || [site, site])[1];

// The post-exercise minute due now: the daemon's last reminder (its event), or in
// recovery before the first one, the next reminder minute (the same rule as the
// countdown's); the first reminder minute otherwise.
function dueMinute(st) {
	const due = $('v-reminder').dataset.due;
	if (due) return Math.round(Number(due));
	const stop = [...app.events].reverse().find((e) => e.kind === 'belt_stopped');
	if (st && stop && st.state === 'recovery') {
		const next = app.reminders.find((m) => m * 60 > st.t_s - stop.t_s);
		if (next != null) return next;
	}
	return app.reminders[0];
}

// The picker follows the minute due; the technician's own choice stands until the next
// minute falls due.
function syncMinute(st) {
	const input = $('cuff-minute');
	const due = dueMinute(st);
	if (due != null && input.dataset.due !== String(due)) {
		input.dataset.due = String(due);
		if (document.activeElement !== input) input.value = String(due);
	}
	const v = input.value.trim();
	$('cuff-post').textContent = `Take the minute-${v === '' ? '?' : v} pressures with the cuff`;
}

function pickedMinute() {
	const v = $('cuff-minute').value.trim(), m = Number(v);
	return v !== '' && Number.isInteger(m) && m >= 0 && m <= 60 ? m : null;
}

// The table's cell of the site the cuff is on: outlined and labelled.
function markCuffCell(id) {
	const td = id && $(id) ? $(id).closest('td') : null;
	const cur = $('pressures').querySelector('td.cuff-current');
	if (cur === td) return;
	if (cur) {
		cur.classList.remove('cuff-current');
		for (const h of cur.querySelectorAll('.cuff-here')) h.remove();
	}
	if (td) {
		td.classList.add('cuff-current');
		td.prepend(el('span', {class: 'cuff-here'}, 'cuff here'));
	}
}

// Whether the record holds the cuff's reading (its site, phase and minute, its value).
function holdsReading(rec, r) {
	return (rec.pressures || []).some((p) => p.site === r.site && p.phase === r.phase &&
		(p.minute == null ? r.minute == null : p.minute === r.minute) &&
		Math.abs(p.mmhg - r.mmhg) < 0.05 && String(p.source || '').startsWith('cuff'));
}

// The status can say a reading was taken before the writer has committed it: the record
// is read again, at each status, until it holds the reading (a read that came too early,
// or failed, once left the cell empty for good).
async function refreshForReading() {
	const r = app.cuffPending;
	if (!r || app.cuffReading || app.recordId !== r.test_id) return;
	app.cuffReading = true;
	try {
		const rec = await call('GET', `/v1/tests/${app.recordId}`);
		if (rec.id === app.recordId) fillRecord(rec, false);
		if (rec.id === r.test_id && holdsReading(rec, r) && app.cuffPending === r) app.cuffPending = null;
	} catch (e) { /* the next status tries again */ } finally {
		app.cuffReading = false;
	}
}

function renderCuff(st) {
	const c = st.cuff;
	$('cuff-panel').hidden = !c;
	if (!c) {
		markCuffCell(null);
		return;
	}
	const s = c.series || null, ro = readOnly();
	$('cuff-mmhg').textContent = c.mmhg == null ? 'no reading' : `${Math.round(c.mmhg)} mmHg`;
	$('cuff-mmhg').dataset.mmhg = c.mmhg == null ? '' : String(c.mmhg);
	const stateText = c.connected === false ? 'not connected' : c.state;
	$('cuff-state').textContent = stateText;
	$('cuff-state').dataset.state = c.connected === false ? 'disconnected' : c.state;
	$('cuff-source').textContent = `(${c.source}${c.can_inflate ? '' : ', inflated by hand'})`;
	const err = c.error ? `CUFF ERROR: ${c.error}` : c.connected === false ? 'CUFF NOT CONNECTED' : '';
	if ($('cuff-error').textContent !== err) $('cuff-error').textContent = err;
	$('cuff-error').hidden = !err;
	if ($('cuff-message').textContent !== (c.message || '')) $('cuff-message').textContent = c.message || '';
	const how = c.can_inflate ? 'Place the cuff and the probe on the site shown before starting: the series inflates ' +
		'its first site at once; after each reading move them to the next site and press Inflate (or the foot switch).'
		: 'This cuff is inflated and deflated by hand: place it and the probe on the site shown, inflate it, let it down slowly.';
	if ($('cuff-how').textContent !== how) $('cuff-how').textContent = how;

	$('cuff-series').textContent = !s ? 'none'
		: `${s.phase === 'rest' ? 'rest' : `minute ${fmt.num(s.minute, 0)} after exercise`}, test ${s.test_id}`;
	$('cuff-site').textContent = s ? siteName(s.site) : '-';
	$('cuff-next').textContent = !s ? '-' : s.next ? siteName(s.next) : 'none (last site)';
	$('cuff-done').textContent = !s ? '-' : (s.done || []).map(siteName).join(', ') || 'none yet';
	const sites = s ? s.sites || [] : [];
	const sel = $('cuff-goto');
	if (sel.dataset.sites !== String(sites)) {
		sel.dataset.sites = String(sites);
		sel.replaceChildren(...sites.map((x) => el('option', {value: x}, siteName(x))));
	}
	if (s && sel.dataset.current !== s.site) {
		sel.dataset.current = s.site;
		if (document.activeElement !== sel) sel.value = s.site;
	}

	syncMinute(st);
	const noTest = app.recordId == null;
	$('cuff-rest').disabled = ro || noTest || !!s;
	$('cuff-post').disabled = ro || noTest || !!s;
	$('cuff-minute').disabled = ro || noTest || !!s;
	$('cuff-inflate').hidden = !c.can_inflate;
	// the daemon inflates a cuff that is down (idle) only
	$('cuff-inflate').disabled = ro || !s || c.connected === false || c.state !== 'idle';
	$('cuff-mark').disabled = ro || !s;
	$('cuff-skip').disabled = ro || !s || !s.next;
	$('cuff-skip').title = s && s.next ? `go on to ${siteName(s.next)}` : '';
	$('cuff-goto').disabled = ro || !s;
	$('cuff-goto-b').disabled = ro || !s;
	$('cuff-end').disabled = ro || !s;
	// Vent is never disabled: anyone logged in may let the cuff down, at any time. A gauge
	// the daemon cannot command has none: its valve is opened by hand.
	$('cuff-vent').hidden = !c.can_inflate;

	buildPressureTable(); // a series at a minute the table has no column for adds it
	markCuffCell(s && s.test_id === app.recordId
		? fieldId(s.phase, s.phase === 'post' ? Math.round(s.minute) : null, s.site) : null);
	// a new reading: the record has it; read it into the table
	const last = c.last ? `${c.last.test_id}/${c.last.recorded}` : '';
	if (app.cuffLast !== undefined && last !== app.cuffLast && c.last && c.last.test_id === app.recordId)
		app.cuffPending = c.last;
	app.cuffLast = last;
	refreshForReading();
}

// Every answer is the cuff's status: shown at once, before the next tick brings it.
async function cuffCmd(path, body, what) {
	$('cuff-cmd-msg').textContent = '';
	try {
		const c = await call('POST', path, body);
		if (c && app.status && app.status.cuff) {
			app.status.cuff = c;
			renderCuff(app.status);
		}
		return true;
	} catch (e) {
		$('cuff-cmd-msg').textContent = `${what}: ${e.message}`;
		return false;
	}
}

$('cuff-rest').addEventListener('click', () =>
	cuffCmd('/v1/cuff/series', {test: app.recordId, phase: 'rest'}, 'Rest series'));
$('cuff-post').addEventListener('click', () => {
	const m = pickedMinute();
	if (m == null) {
		$('cuff-cmd-msg').textContent = 'Post-exercise minute: a whole number from 0 to 60';
		$('cuff-minute').focus();
		return;
	}
	cuffCmd('/v1/cuff/series', {test: app.recordId, phase: 'post', minute: m}, `Minute-${m} series`);
});
$('cuff-minute').addEventListener('input', () => syncMinute(app.status));
$('cuff-inflate').addEventListener('click', () => cuffCmd('/v1/cuff/inflate', {}, 'Inflate'));
$('cuff-mark').addEventListener('click', () => cuffCmd('/v1/cuff/mark', {}, 'Signal back'));
$('cuff-skip').addEventListener('click', () => {
	const s = app.status && app.status.cuff && app.status.cuff.series;
	if (s && s.next) cuffCmd('/v1/cuff/site', {site: s.next}, 'Skip site');
});
$('cuff-goto-b').addEventListener('click', () => cuffCmd('/v1/cuff/site', {site: $('cuff-goto').value}, 'Go to site'));
$('cuff-vent').addEventListener('click', () => cuffCmd('/v1/cuff/vent', {}, 'Vent'));
$('cuff-end').addEventListener('click', () => cuffCmd('/v1/cuff/end', {}, 'End series'));
// F2 is the page's foot switch, on any screen (a USB foot pedal can send it); Esc stays
// the emergency stop's alone.
document.addEventListener('keydown', (e) => {
	if (e.key !== 'F2' || e.repeat || !app.session || !app.status || !app.status.cuff) return;
	e.preventDefault();
	if (readOnly()) return;
	cuffCmd('/v1/cuff/mark', {}, 'Signal back (F2)');
});

/* ---------- result ---------- */

// A post-exercise index the daemon left null (docs/api.md) because the leg's ankle artery
// was noncompressible at that point: an arm pressure and a noncompressible ankle recorded.
function postNoncompressible(rec, side, minute) {
	const at = (rec.pressures || []).filter((p) => p.phase === 'post' && Math.abs(p.minute - minute) < 1e-6);
	const last = (site) => at.filter((p) => p.site === site).pop();
	const arm = ['brachial-left', 'brachial-right'].map(last).some((p) => p && p.mmhg > 0);
	return arm && [`pt-${side}`, `dp-${side}`].map(last).some((p) => p && p.noncompressible);
}

function abiTable(rec) {
	const abi = rec.abi && rec.abi.abi;
	if (!abi) return el('p', {}, 'No ABI yet: it needs an arm and an ankle pressure.');
	const minutes = [...new Set(['left', 'right'].flatMap((s) => (abi[s] && abi[s].post || []).map((p) => p.minute)))].sort((a, b) => a - b);
	// the daemon's categories (2016 AHA/ACC, docs/clinical.md, ABI) on its index to 0.01
	const postCat = (v) => (v == null ? '' : ` (${v <= 0.9 ? 'abnormal' : v <= 0.99 ? 'borderline' : v <= 1.4 ? 'normal' : 'noncompressible'})`);
	return el('table', {class: 'abi'}, el('caption', {}, 'Ankle-brachial index'),
		el('thead', {}, el('tr', {}, el('th', {scope: 'col'}, 'Side'), el('th', {scope: 'col'}, 'Rest'),
			...minutes.map((m) => el('th', {scope: 'col'}, `Post ${m} min`)), el('th', {scope: 'col'}, 'Criteria'))),
		el('tbody', {}, ...['right', 'left'].map((side) => {
			const a = abi[side] || {};
			return el('tr', {}, el('th', {scope: 'row'}, side),
				el('td', {}, a.rest != null ? `${fmt.num(a.rest, 2)} (${a.rest_category})`
					: a.rest_category === 'noncompressible' ? 'noncompressible' : '-'),
				...minutes.map((m) => {
					const p = (a.post || []).find((q) => q.minute === m);
					if (p && p.abi == null && postNoncompressible(rec, side, m)) return el('td', {}, 'noncompressible');
					return el('td', {}, !p || p.abi == null ? '-' : `${fmt.num(p.abi, 2)}${postCat(p.abi)}${p.fall_pct != null ? `, fall ${fmt.num(p.fall_pct, 0)} %` : ''}`);
				}),
				el('td', {}, (a.criteria || []).map((k) => CRITERIA[k] || k).join('; ') || '-'));
		})));
}

function renderResult(rec) {
	const c = rec.classification;
	const out = [];
	$('result-test').textContent = `- test ${rec.id}, patient ${rec.patient}, ${rec.state}`;
	const d = rec.demographics || {};
	const name = [d.family, d.given].filter((x) => x).join(', ');
	$('result-patient').textContent = name || d.birth_date
		? `${name || 'name not given'}${d.birth_date ? `, born ${d.birth_date}` : ''}${d.sex ? `, ${d.sex}` : ''}` +
		  `${rec.order && rec.order.accession ? `; accession ${rec.order.accession}` : ''}`
		: '';
	if (!c) {
		$('result').replaceChildren(el('p', {}, 'Not classified yet.'));
		return;
	}
	const flags = c.red_flags || [];
	out.push(flags.length
		? el('div', {class: 'redflags', role: 'alert'}, el('h2', {}, `RED FLAG${flags.length > 1 ? 'S' : ''}`),
			el('ul', {}, ...flags.map((f) => el('li', {}, el('strong', {}, f.code.replace(/_/g, ' ')), `: ${f.reason}`))))
		: el('p', {class: 'noflags'}, 'No red flags.'));
	out.push(el('p', {class: 'category'}, 'Category: ', el('strong', {id: 'category'}, c.category)));
	out.push(el('p', {}, el('a', {href: `/v1/tests/${rec.id}/report.pdf`}, `The report of test ${rec.id} (PDF)`)));
	for (const w of c.warnings || []) out.push(el('p', {class: 'warning'}, `Warning: ${w.warning || w.text || JSON.stringify(w)}`));
	const sev = c.severity || {};
	if (sev.rutherford || sev.fontaine)
		out.push(el('p', {}, `Rutherford ${sev.rutherford && sev.rutherford.grade || '-'}, Fontaine ${sev.fontaine && sev.fontaine.grade || '-'}`));
	out.push(abiTable(rec));
	const e = c.endpoints || {};
	out.push(el('table', {class: 'endpoints'}, el('caption', {}, 'Endpoints'), el('tbody', {},
		el('tr', {}, el('th', {scope: 'row'}, 'End reason'), el('td', {}, (rec.end_reason || '-').replace(/_/g, ' '))),
		el('tr', {}, el('th', {scope: 'row'}, 'COT'), el('td', {}, fmt.s(rec.cot_s))),
		el('tr', {}, el('th', {scope: 'row'}, 'PWT'), el('td', {}, e.pwt ? e.pwt.text : fmt.s(rec.pwt_s))),
		el('tr', {}, el('th', {scope: 'row'}, 'ICD'), el('td', {}, fmt.m(rec.icd_m))),
		el('tr', {}, el('th', {scope: 'row'}, 'ACD'), el('td', {}, e.acd ? e.acd.text : fmt.m(rec.acd_m))),
		el('tr', {}, el('th', {scope: 'row'}, 'Walking time'), el('td', {}, fmt.s(rec.walking_time_s))),
		el('tr', {}, el('th', {scope: 'row'}, 'Distance'), el('td', {}, fmt.m(rec.distance_m))),
		el('tr', {}, el('th', {scope: 'row'}, 'Recovery'), el('td', {}, fmt.s(rec.recovery_s))))));
	out.push(el('h2', {}, 'Findings'));
	out.push(el('ul', {class: 'findings'}, ...(c.findings || []).map((f) => el('li', {},
		`${f.finding} `, el('span', {class: 'points'}, `points to ${f.points_to}`), el('br'),
		el('span', {class: 'source'}, `Source: ${f.source}`)))));
	if ((c.rationale || []).length) {
		out.push(el('h2', {}, 'Reasons'));
		out.push(el('ul', {}, ...c.rationale.map((r) => el('li', {}, r))));
	}
	$('result').replaceChildren(...out);
}

async function loadResult() {
	if (app.recordId == null) return;
	try {
		renderResult(await call('GET', `/v1/tests/${app.recordId}`));
	} catch (e) {
		$('result').replaceChildren(el('p', {class: 'error'}, e.message));
	}
}

/* ---------- history ---------- */

$('history-form').addEventListener('submit', async (e) => {
	e.preventDefault();
	$('history-error').textContent = '';
	let tests;
	try {
		tests = await call('GET', `/v1/tests?patient=${encodeURIComponent($('history-patient').value)}`);
	} catch (err) {
		$('history-error').textContent = err.message;
		tests = [];
	}
	$('history').tBodies[0].replaceChildren(...tests.map((t) => el('tr', {},
		el('td', {}, t.id), el('td', {}, (t.started_at || '').replace('T', ' ').slice(0, 16)), el('td', {}, t.protocol),
		el('td', {}, t.state), el('td', {}, (t.end_reason || '-').replace(/_/g, ' ')),
		el('td', {}, fmt.num(t.cot_s, 1)), el('td', {}, fmt.num(t.pwt_s, 1)),
		el('td', {}, el('button', {type: 'button', onclick: () => { app.recordId = t.id; show('result'); }}, `Open test ${t.id}`)))));
	drawTrend($('trend'), [...tests].reverse().map((t) => ({label: `#${t.id}`, cot: t.cot_s, pwt: t.pwt_s})));
});

/* ---------- start ---------- */

onSessionEnded(() => loggedOut('Your session has ended (logged out, idle too long, or the daemon restarted): log in again.'));

buildPressureTable();
buildQuestions();
drawTrend($('trend'), []);
(async () => {
	try {
		await loggedIn(await call('GET', '/v1/session'));
	} catch (e) {
		loggedOut(e.status === 401 || e.status === undefined ? '' : e.message);
	}
})();
