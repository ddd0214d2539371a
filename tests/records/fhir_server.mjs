// fhir_server.mjs MODE LOG [CERT KEY] - a scripted FHIR server for the records tests, on
// 127.0.0.1 at a free port (HTTPS with CERT and KEY, PEM files); prints "listening PORT"
// once it accepts connections. Every request is
// logged to LOG as one JSON line {method, path, authorization, content_type, body}.
// MODE says how it answers a POST:
//   201      a transaction-response Bundle (one 201 Created entry per request entry)
//   400      an OperationOutcome with two error issues
//   500      an OperationOutcome (a transient failure)
//   timeout  reads the request and never answers
//   429      Too Many Requests (come back later)
//   302      a redirect elsewhere
// Stops at SIGTERM.
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';

const [mode, log, cert, key] = process.argv.slice(2);
if (!['201', '400', '500', 'timeout', '429', '302'].includes(mode) || !log) {
	console.error('usage: fhir_server.mjs 201|400|500|timeout|429|302 LOG');
	process.exit(2);
}

function send(res, status, body) {
	res.writeHead(status, {'Content-Type': 'application/fhir+json'});
	res.end(JSON.stringify(body));
}

const handler = (req, res) => {
	const chunks = [];
	req.on('data', (c) => chunks.push(c));
	req.on('end', () => {
		const body = Buffer.concat(chunks).toString('utf8');
		fs.appendFileSync(log, JSON.stringify({
			method: req.method, path: req.url,
			authorization: req.headers.authorization ?? null,
			content_type: req.headers['content-type'] ?? null, body,
		}) + '\n');
		if (mode === 'timeout')
			return; // the client's deadline has to end this
		if (mode === '429') {
			res.writeHead(429, {'Retry-After': '1'});
			return res.end();
		}
		if (mode === '302') {
			res.writeHead(302, {'Location': 'http://127.0.0.1:9/elsewhere'});
			return res.end();
		}
		if (mode === '400')
			return send(res, 400, {resourceType: 'OperationOutcome', issue: [
				{severity: 'error', code: 'invalid',
				 diagnostics: 'Patient.birthDate: 1956-02-30 is not a date'},
				{severity: 'error', code: 'required',
				 details: {text: 'DiagnosticReport.code is required'}}]});
		if (mode === '500')
			return send(res, 500, {resourceType: 'OperationOutcome', issue: [
				{severity: 'fatal', code: 'exception', diagnostics: 'database unavailable'}]});
		let entries = [];
		try {
			entries = JSON.parse(body).entry ?? [];
		} catch {
			return send(res, 400, {resourceType: 'OperationOutcome', issue: [
				{severity: 'error', code: 'structure', diagnostics: 'body is not JSON'}]});
		}
		send(res, 201, {resourceType: 'Bundle', type: 'transaction-response',
			entry: entries.map((e, i) => ({response: {
				status: '201 Created',
				location: `${e.request?.url ?? 'Resource'}/${i + 1}/_history/1`}}))});
	});
};
const server = cert ? https.createServer({cert: fs.readFileSync(cert), key: fs.readFileSync(key)}, handler)
	: http.createServer(handler);
server.listen(0, '127.0.0.1', () => console.log(`listening ${server.address().port}`));
process.on('SIGTERM', () => {
	server.closeAllConnections();
	server.close(() => process.exit(0));
});
