// hog.js - clients that try to take every connection of treadlabd's listeners, as the
// hostile test of issue 9 did: slow clients that send half a request and wait, and open
// event streams. Plain node, no packages.
//
//   node hog.js --unix PATH --tcp HOST:PORT --slow N --streams M
//
// Opens N slow connections and M event streams on each listener given. Prints one line
// "ready slow=S streams=E refused=R failed=F" once every connection has settled (S slow
// clients connected, E streams open with 200, R streams answered with another status, F
// connections that failed: refused, reset, closed before an answer), then holds them all
// until stdin closes or SIGTERM.
'use strict';
const net = require('net');

const args = {};
for (let i = 2; i < process.argv.length; i += 2)
	args[process.argv[i].replace(/^--/, '')] = process.argv[i + 1];
const nSlow = Number(args.slow || 0), nStreams = Number(args.streams || 0);
const targets = [];
if (args.unix)
	targets.push({path: args.unix, hostHeader: 'treadlabd'});
if (args.tcp) {
	const [host, port] = args.tcp.split(':');
	targets.push({host, port: Number(port), hostHeader: args.tcp});
}

const sockets = [];
let pending = 0, slow = 0, streams = 0, refused = 0, failed = 0;

function settled() {
	if (--pending === 0)
		console.log(`ready slow=${slow} streams=${streams} refused=${refused} failed=${failed}`);
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

for (const t of targets) {
	for (let i = 0; i < nSlow; i++) {
		pending++;
		const s = net.connect(t, () => {
			// Half a request line, and then nothing.
			s.write('POST /v1/tes');
			if (settle()) {
				slow++;
				settled();
			}
		});
		const settle = watch(s);
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
