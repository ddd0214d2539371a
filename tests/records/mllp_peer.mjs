// mllp_peer.mjs - an independent MLLP receiver for the outbox's tests: @medplum/hl7's
// Hl7Server, whose ACKs @medplum/core builds (MSA-2 = the message's MSH-10).
//
// node --experimental-websocket mllp_peer.mjs SCRIPT LOG [PORT [SAVE_DIR]]
//   SCRIPT: the answer to each message received, in turn, comma-separated; the last one
//   repeats: AA, AE (MSA-3 "rejected by the peer"), AR, silent (no answer), drop (close
//   the connection without an answer). E.g. "AR,AA".
//   LOG: one line per message received: "MSH-10 MSH-9 ANSWER BYTES".
//   PORT: 0 or absent for any free port.
//   SAVE_DIR: each message received is also written there whole, as MSH-10.hl7
//   (segments ended by CR), for a checker to read (README.md, Into the medical record).
// Prints "listening PORT" once it accepts connections; stops on SIGTERM.
import { appendFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Hl7Message } from '@medplum/core';
import { Hl7Server } from '@medplum/hl7';

const [script, log, portArg, saveDir] = process.argv.slice(2);
if (!script || !log) {
	console.error('usage: mllp_peer.mjs SCRIPT LOG [PORT]');
	process.exit(2);
}
const steps = script.split(',');
for (const s of steps) {
	if (!['AA', 'AE', 'AR', 'silent', 'drop'].includes(s)) {
		console.error(`mllp_peer: unknown step '${s}' (AA, AE, AR, silent, drop)`);
		process.exit(2);
	}
}
let n = 0;

const server = new Hl7Server((conn) => {
	conn.addEventListener('message', ({ message }) => {
		const step = steps[Math.min(n, steps.length - 1)];
		n++;
		const text = message.toString();
		const id = message.header.getField(10).toString();
		const type = message.header.getField(9).toString();
		appendFileSync(log, `${id} ${type} ${step} ${text.length}\n`);
		if (saveDir)
			writeFileSync(join(saveDir, `${id.replace(/[^A-Za-z0-9._-]/g, '_')}.hl7`), text);
		if (step === 'silent')
			return;
		if (step === 'drop') {
			conn.socket.destroy();
			return;
		}
		let ack = message.buildAck({ ackCode: step });
		if (step === 'AE')
			ack = Hl7Message.parse(ack.toString().replace(/MSA\|AE\|([^|\r]*)[^\r]*/, 'MSA|AE|$1|rejected by the peer: unknown patient'));
		conn.send(ack);
	});
	conn.addEventListener('error', () => {});
});

await server.start(Number(portArg || 0));
console.log(`listening ${server.server.address().port}`);
process.on('SIGTERM', () => process.exit(0));
