// modbus_serial_server.js - an independent Modbus TCP slave (npm modbus-serial's
// ServerTCP) programmed from a treadlab device profile, for interoperability tests of
// the "modbus" driver. Usage: node modbus_serial_server.js PROFILE [WATCHDOG_MS]
// Prints "ready PORT" once it listens on 127.0.0.1; exits on SIGTERM.
"use strict";
const fs = require("fs");
const net = require("net");
const ModbusRTU = require("modbus-serial");

const [profilePath, watchdogArg] = process.argv.slice(2);
const text = fs.readFileSync(profilePath, "utf8");
const regs = {}, command = {}, status = {};
let section = "";
for (const raw of text.split("\n")) {
	const line = raw.replace(/(^|\s)[#;].*$/, "").trim();
	if (!line) continue;
	const sec = line.match(/^\[(\w+)\]$/);
	if (sec) { section = sec[1]; continue; }
	const [key, value] = line.split("=").map((s) => s.trim());
	if (section === "registers") {
		const [kind, addr] = value.split(/\s+/);
		regs[key] = { kind, addr: Number(addr) };
	} else if (section === "command") {
		command[key] = value.split(/\s+/).map(Number);
	} else if (section === "status") {
		status[key] = Number(value);
	}
}

const state = {
	speed_setpoint: 0, grade_setpoint: 0, command: 0,
	watchdog_ms: watchdogArg === undefined ? 1000 : Number(watchdogArg),
	running: false,
};
const last = (seq) => seq[seq.length - 1];
function value(key) {
	switch (key) {
	case "speed_actual": return state.running ? state.speed_setpoint : 0;
	case "grade_actual": return state.grade_setpoint;
	case "status": return state.running ? status.running : 0;
	case "boot_count": return 1;
	case "fault_code": case "button": return 0;
	default: return state[key];
	}
}
function keyAt(kind, addr) {
	for (const [key, r] of Object.entries(regs))
		if (r.kind === kind && r.addr === addr) return key;
	return null;
}
function get(kind) {
	return (addr) => {
		const key = keyAt(kind, addr);
		if (key === null) return Promise.reject({ modbusErrorCode: 0x02, msg: "no register" });
		return value(key);
	};
}
const vector = {
	getHoldingRegister: get("holding"),
	getInputRegister: get("input"),
	setRegister: (addr, v) => {
		const key = keyAt("holding", addr);
		if (key === null) return Promise.reject({ modbusErrorCode: 0x02, msg: "no register" });
		state[key] = v;
		if (key === "command") {
			if (v === last(command.start)) state.running = true;
			else if (v === last(command.stop) || (command.estop && v === last(command.estop)))
				state.running = false;
		}
		return undefined;
	},
};

// port 0 is not honoured by ServerTCP: take a free port from the kernel first.
const probe = net.createServer();
probe.listen(0, "127.0.0.1", () => {
	const port = probe.address().port;
	probe.close(() => {
		const server = new ModbusRTU.ServerTCP(vector, { host: "127.0.0.1", port, unitID: 1 });
		server.on("initialized", () => console.log(`ready ${port}`));
		server.on("socketError", () => {});
		process.on("SIGTERM", () => server.close(() => process.exit(0)));
	});
});
