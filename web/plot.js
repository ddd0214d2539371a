// plot.js - small canvas plots: the live speed and grade against test time, and the
// COT/PWT trend across visits. Colours come from the style sheet (CSS custom properties).
function css(name) {
	return getComputedStyle(document.documentElement).getPropertyValue(name).trim() || '#000';
}

function frame(ctx, w, h, pad) {
	ctx.clearRect(0, 0, w, h);
	ctx.strokeStyle = css('--fg-dim');
	ctx.lineWidth = 1;
	ctx.strokeRect(pad, pad / 2, w - 2 * pad, h - 1.5 * pad);
}

// samples: [{t, speed, grade}], marks: [{t, label}], tmax: the protocol's length or so.
export function drawLive(canvas, samples, marks, tmax) {
	const ctx = canvas.getContext('2d');
	const w = canvas.width, h = canvas.height, pad = 30;
	frame(ctx, w, h, pad);
	const last = samples.length ? samples[samples.length - 1].t : 0;
	const t1 = Math.max(60, tmax || 0, last);
	const x = (t) => pad + (w - 2 * pad) * t / t1;
	const ySpeed = (v) => h - pad - (h - 1.5 * pad) * Math.min(v, 10) / 10;
	const yGrade = (v) => h - pad - (h - 1.5 * pad) * Math.min(Math.max(v, 0), 25) / 25;
	ctx.fillStyle = css('--fg-dim');
	ctx.font = '11px sans-serif';
	ctx.fillText('0', pad - 10, h - pad + 12);
	ctx.fillText(`${Math.round(t1)} s`, w - pad - 20, h - pad + 12);
	ctx.fillText('10 km/h, 25 %', pad + 4, pad / 2 + 12);
	const line = (key, y, colour) => {
		ctx.strokeStyle = colour;
		ctx.lineWidth = 2;
		ctx.beginPath();
		samples.forEach((s, i) => (i ? ctx.lineTo : ctx.moveTo).call(ctx, x(s.t), y(s[key])));
		ctx.stroke();
	};
	line('speed', ySpeed, css('--speed'));
	line('grade', yGrade, css('--grade'));
	ctx.strokeStyle = css('--mark');
	ctx.fillStyle = css('--mark');
	for (const m of marks) {
		ctx.beginPath();
		ctx.moveTo(x(m.t), pad / 2);
		ctx.lineTo(x(m.t), h - pad);
		ctx.stroke();
		ctx.fillText(m.label, x(m.t) + 3, pad / 2 + 24);
	}
}

// tests: oldest first, [{label, cot, pwt}]
export function drawTrend(canvas, tests) {
	const ctx = canvas.getContext('2d');
	const w = canvas.width, h = canvas.height, pad = 30;
	frame(ctx, w, h, pad);
	const vals = tests.flatMap((t) => [t.cot, t.pwt]).filter((v) => v != null);
	const top = Math.max(60, ...vals);
	const n = Math.max(tests.length, 2);
	const x = (i) => pad + (w - 2 * pad) * i / (n - 1);
	const y = (v) => h - pad - (h - 1.5 * pad) * v / top;
	ctx.fillStyle = css('--fg-dim');
	ctx.font = '11px sans-serif';
	ctx.fillText(`${Math.round(top)} s`, pad + 4, pad / 2 + 12);
	tests.forEach((t, i) => ctx.fillText(t.label, x(i) - 8, h - pad + 14));
	const series = (key, colour) => {
		ctx.strokeStyle = colour;
		ctx.fillStyle = colour;
		ctx.lineWidth = 2;
		ctx.beginPath();
		let started = false;
		tests.forEach((t, i) => {
			if (t[key] == null) return;
			(started ? ctx.lineTo : ctx.moveTo).call(ctx, x(i), y(t[key]));
			started = true;
		});
		ctx.stroke();
		tests.forEach((t, i) => {
			if (t[key] != null) ctx.fillRect(x(i) - 3, y(t[key]) - 3, 6, 6);
		});
	};
	series('cot', css('--cot'));
	series('pwt', css('--pwt'));
}
