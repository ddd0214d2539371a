// check_hl7.mjs - checks an HL7 v2 ORU^R01 message that treadlab built (issue 13):
// npm hl7v2 1.8.0 parses it strictly (a field of the wrong data type fails), then this
// script checks what hl7v2 does not: the segment order, every OBX-5 against its OBX-2
// (hl7v2 leaves OBX-5 as "varies"), OBX-1 and NTE-1 numbering, units, flags, statuses,
// MSH-18 against the bytes, and, when asked, values that must read back unchanged after
// unescaping (hostile text) and the embedded PDF's bytes.
//
// Run: node tests/records/check_hl7.mjs MESSAGE [--expect EXPECT.json] [--pdf FILE]
//      [--pv1 | --no-pv1] [--ed | --no-ed]
// EXPECT.json: {"PID.5.1": "O'Brien|^~\\&", "NTE#2.3": "..."}: segment, optional "#n"
// (the n-th of that segment, from 1), field, optional component; each value is compared
// with what hl7v2 reads back. Exit 0 and "ok ..." when every check holds, else 1 with
// the first problem; 2 on bad usage.
import fs from 'node:fs';
import {HL7Message} from 'hl7v2';

function fail(msg) {
	console.error(`check_hl7: ${msg}`);
	process.exit(1);
}

const args = process.argv.slice(2);
if (!args.length || args[0].startsWith('--')) {
	console.error('usage: check_hl7.mjs MESSAGE [--expect FILE] [--pdf FILE] [--pv1|--no-pv1] [--ed|--no-ed]');
	process.exit(2);
}
const file = args.shift();
const opts = {};
while (args.length) {
	const a = args.shift();
	if (a === '--expect' || a === '--pdf')
		opts[a.slice(2)] = args.shift();
	else if (['--pv1', '--no-pv1', '--ed', '--no-ed'].includes(a))
		opts[a.replace(/^--(no-)?/, '')] = !a.startsWith('--no-');
	else {
		console.error(`check_hl7: unknown option ${a}`);
		process.exit(2);
	}
}

const raw = fs.readFileSync(file);
const text = raw.toString('utf8');
if (!text.startsWith('MSH|^~\\&|'))
	fail('the message does not start with MSH|^~\\&|');
if (!text.endsWith('\r'))
	fail('the last segment does not end in CR');
for (const [byte, name] of [[0x0a, 'LF'], [0x0b, 'VT (MLLP start)'], [0x1c, 'FS (MLLP end)']])
	if (raw.includes(byte))
		fail(`the message holds a raw ${name} byte at ${raw.indexOf(byte)}`);
if (Buffer.compare(Buffer.from(text, 'utf8'), raw) !== 0)
	fail('the message is not valid UTF-8');

let msg;
try {
	msg = HL7Message.parse(raw, {strict: true});
} catch (e) {
	fail(`hl7v2 strict parse: ${e.message}${e.line ? ` (segment ${e.line})` : ''}`);
}
const segs = msg.segments;
const lines = text.split('\r').slice(0, -1);
if (segs.length !== lines.length)
	fail(`hl7v2 read ${segs.length} segments, the message has ${lines.length}`);

// MSH
const msh = msg.header;
const mshv = (f, c) => msh.field(f).getValue(c);
if (msg.version !== '2.5.1')
	fail(`MSH-12 is ${msg.version}, not 2.5.1`);
if (`${mshv(9, 1)}^${mshv(9, 2)}^${mshv(9, 3)}` !== 'ORU^R01^ORU_R01')
	fail(`MSH-9 is ${lines[0].split('|')[8]}, not ORU^R01^ORU_R01`);
const ctl = lines[0].split('|')[9];
if (!/^[\x21-\x7e]{1,20}$/.test(ctl))
	fail(`MSH-10 '${ctl}' is not 1 to 20 printable characters`);
if (mshv(11) !== 'P')
	fail(`MSH-11 is ${mshv(11)}, not P`);
const nonAscii = [...raw].some(b => b >= 0x80);
const charset = lines[0].split('|')[17] || '';
if (nonAscii !== (charset === 'UNICODE UTF-8'))
	fail(`MSH-18 is '${charset}' for a message ${nonAscii ? 'with' : 'without'} non-ASCII bytes`);

// Segment order: MSH PID [PV1] ORC OBR {NTE} {OBX {NTE}} (ORU^R01, one order observation).
const order = segs.map(s => s.segmentType).join(' ') + ' ';
if (!/^MSH PID (PV1 )?ORC OBR (NTE )*(OBX (NTE )*)+$/.test(order))
	fail(`segment order is not MSH PID [PV1] ORC OBR {NTE} {OBX {NTE}}: ${order.trim()}`);
if (opts.pv1 !== undefined && opts.pv1 !== order.includes('PV1 '))
	fail(opts.pv1 ? 'PV1 is missing' : 'PV1 is present without a patient class');

// Field checks hl7v2 does not make.
const fieldsOf = line => line.split('|');
const comps = f => f.split('^');
const NM = /^[+-]?(\d+(\.\d*)?|\.\d+)$/;
const UNITS = new Set(['s', 'm', 'mm[Hg]', '{ratio}']);
const FLAGS = new Set(['', 'L', 'H', 'N', 'A']);
let obxSeq = 0, nteSeq = 0, ed = null;
for (const [i, line] of lines.entries()) {
	const f = fieldsOf(line);
	const where = `segment ${i + 1} (${f[0]})`;
	if (f[0] === 'OBX') {
		nteSeq = 0;
		if (f[1] !== String(++obxSeq))
			fail(`${where}: OBX-1 is ${f[1]}, expected ${obxSeq}`);
		const type = f[2], value = f[5] ?? '';
		const code = comps(f[3] || '');
		if (code.length < 3 || !code[0] || !code[1] || !code[2])
			fail(`${where}: OBX-3 '${f[3]}' lacks code, text or coding system`);
		if (code[2] === 'LN' && !['77194-9', '8508-4', '55411-3'].includes(code[0]))
			fail(`${where}: LOINC ${code[0]} is not one the sources give`);
		if (type === 'NM') {
			if (!NM.test(value))
				fail(`${where}: OBX-5 '${value}' is not an NM number`);
		} else if (type === 'SN') {
			const c = comps(value);
			if (!['>', '<', '>=', '<=', '=', '<>', ''].includes(c[0]) || !NM.test(c[1] || ''))
				fail(`${where}: OBX-5 '${value}' is not a structured numeric`);
		} else if (type === 'CWE') {
			const c = comps(value);
			if (!c[0] || !c[1] || !c[2])
				fail(`${where}: OBX-5 '${value}' lacks code, text or coding system`);
		} else if (type === 'ED') {
			const c = comps(value);
			if (c.length !== 5 || c[3] !== 'Base64' || !c[1] || !c[2])
				fail(`${where}: OBX-5 is not ^type^subtype^Base64^data`);
			if (!/^[A-Za-z0-9+/]*={0,2}$/.test(c[4]) || c[4].length % 4)
				fail(`${where}: the ED data is not base64`);
			ed = Buffer.from(c[4], 'base64');
		} else if (type !== 'ST') {
			fail(`${where}: OBX-2 '${type}' is not a value type this message uses`);
		}
		if (f[6] !== undefined && f[6] !== '') {
			const u = comps(f[6]);
			if (!UNITS.has(u[0]) || u[2] !== 'UCUM')
				fail(`${where}: OBX-6 '${f[6]}' is not one of the UCUM units s, m, mm[Hg], {ratio}`);
		}
		if (!FLAGS.has(f[8] ?? ''))
			fail(`${where}: OBX-8 '${f[8]}' is not L, H, N or A`);
		if (f[11] !== 'F')
			fail(`${where}: OBX-11 is '${f[11]}', not F`);
	} else if (f[0] === 'NTE') {
		if (f[1] !== String(++nteSeq))
			fail(`${where}: NTE-1 is ${f[1]}, expected ${nteSeq}`);
		if (f[2] !== 'L')
			fail(`${where}: NTE-2 is '${f[2]}', not L`);
	} else {
		nteSeq = 0;
	}
	if (f[0] === 'OBR' && !['F', 'P'].includes(f[25]))
		fail(`${where}: OBR-25 is '${f[25]}', not F or P`);
}
if (opts.ed !== undefined && opts.ed !== (ed !== null))
	fail(opts.ed ? 'no ED OBX' : 'an ED OBX without a report');
if (opts.pdf) {
	const pdf = fs.readFileSync(opts.pdf);
	if (!ed || Buffer.compare(ed, pdf) !== 0)
		fail(`the embedded report is not the bytes of ${opts.pdf}`);
}

// Values that must read back unchanged.
let expected = 0;
if (opts.expect) {
	const want = JSON.parse(fs.readFileSync(opts.expect, 'utf8'));
	for (const [key, value] of Object.entries(want)) {
		const m = /^([A-Z][A-Z0-9]{2})(?:#(\d+))?\.(\d+)(?:\.(\d+))?$/.exec(key);
		if (!m)
			fail(`--expect: bad key ${key}`);
		const seg = msg.getSegment(m[1], Number(m[2] || 1) - 1);
		if (!seg)
			fail(`--expect ${key}: no such segment`);
		let got = seg.field(Number(m[3])).getValue(m[4] ? Number(m[4]) : undefined);
		if (Buffer.isBuffer(got))
			got = got.toString('utf8');
		if (got !== value)
			fail(`--expect ${key}: read back ${JSON.stringify(got)}, expected ${JSON.stringify(value)}`);
		expected++;
	}
}
console.log(`ok ${file}: ${segs.length} segments, ${obxSeq} OBX, control id ${ctl}` +
	(expected ? `, ${expected} values read back` : '') + (ed ? `, report ${ed.length} bytes` : ''));
