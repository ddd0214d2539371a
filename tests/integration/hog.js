// hog.js - clients that try to take every connection of treadlabd's listeners, as the
// hostile test of issue 9 did: slow clients that send half a request and wait, and open
// event streams. Plain node, no packages.
//
//   node hog.js --unix PATH --tcp HOST:PORT --slow N --streams M [--stalled K]
//
// Opens N slow connections, M event streams and K stalled requests (a whole head that
// announces a body, then one byte of it) on each listener given. Prints one line
// "ready slow=S streams=E refused=R failed=F" once every connection has settled (S slow
// clients connected, E streams open with 200, R streams answered with another status, F
// connections that failed: refused, reset, closed before an answer), then holds them all
// until stdin closes or SIGTERM. Once the daemon has closed every slow and stalled
// connection (its timeouts), it prints "closed slow=S stalled=K".
'use strict';
const net = require('net');

const args = {};
for (let i = 2; i < process.argv.length; i += 2)
	args[process.argv[i].replace(/^--/, '')] = process.argv[i + 1];
const nSlow = Number(args.slow || 0), nStreams = Number(args.streams || 0);
const nStalled = Number(args.stalled || 0);
const targets = [];
if (args.unix)
	targets.push({path: args.unix, hostHeader: 'treadlabd'});
if (args.tcp) {
	const [host, port] = args.tcp.split(':');
	targets.push({host, port: Number(port), hostHeader: args.tcp});
}

const sockets = [];
let pending = 0, slow = 0, streams = 0, refused = 0, failed = 0;
let toClose = 0, closedSlow = 0, closedStalled = 0;

// A slow or stalled connection the daemon closed after it settled.
function closedByDaemon(kind) {
	if (kind === 'slow')
		closedSlow++;
	else
		closedStalled++;
	if (--toClose === 0)
		console.log(`closed slow=${closedSlow} stalled=${closedStalled}`);
}

function settled() {
	if (--pending === 0)
		console.log(`ready slow=${slow} streams=${streams} refused=${refused} failed=${failed}` +
			    (nStalled ? ` stalled=${stalled}` : ''));
}

// A connection that fails before it settled counts once; later failures are ignored.
function watch(s) {
	s.settled = false;
	const failure = () => {
		if (s.settled)
			return;
		s.settled = true;
		failed++;
		settled();
	};
	s.on('error', failure);
	s.on('close', failure);
	return () => {
		if (s.settled)
			return false;
		s.settled = true;
		return true;
	};
}

let stalled = 0;
for (const t of targets) {
	for (let i = 0; i < nStalled; i++) {
		pending++;
		toClose++;
		const s = net.connect(t, () => {
			s.write(`POST /v1/onset HTTP/1.1\r\nHost: ${t.hostHeader}\r\n` +
				'Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{');
			if (settle()) {
				s.ok = true;
				stalled++;
				settled();
			}
		});
		const settle = watch(s);
		s.on('data', () => {}); // an answer would come only after the body
		s.on('close', () => {
			if (s.ok)
				closedByDaemon('stalled');
		});
	}
	for (let i = 0; i < nSlow; i++) {
		pending++;
		toClose++;
		const s = net.connect(t, () => {
			// Half a request line, and then nothing.
			s.write('POST /v1/tes');
			if (settle()) {
				s.ok = true;
				slow++;
				settled();
			}
		});
		const settle = watch(s);
		s.on('close', () => {
			if (s.ok)
				closedByDaemon('slow');
		});
		sockets.push(s);
	}
	for (let i = 0; i < nStreams; i++) {
		pending++;
		const s = net.connect(t, () => {
			s.write(`GET /v1/events HTTP/1.1\r\nHost: ${t.hostHeader}\r\n\r\n`);
		});
		const settle = watch(s);
		let head = '';
		s.on('data', (d) => {
			if (s.settled)
				return; // keeps reading, so the stream never stalls on this side
			head += d.toString('latin1');
			const m = head.match(/^HTTP\/1\.1 (\d+)/);
			if (!m || !settle())
				return;
			if (m[1] === '200')
				streams++;
			else
				refused++;
			settled();
		});
		sockets.push(s);
	}
}
if (pending === 0)
	console.log('ready slow=0 streams=0 refused=0 failed=0');

function quit() {
	for (const s of sockets)
		s.destroy();
	process.exit(0);
}
process.stdin.on('end', quit);
process.stdin.on('close', quit);
process.stdin.resume();
process.on('SIGTERM', quit);
