#!/usr/bin/env python3
"""pgmcmp.py GOLDEN.pgm[.gz] PAGE.pgm: compares two grey pages (binary PGM, P5).

Exits 0 when they are the same size, the mean absolute difference is at most MEAN (grey
levels of 255) and at most FRAC of the pixels differ by more than 64; else prints the
figures and exits 1. Tolerances: --mean (default 1.5), --frac (default 0.005)."""
import gzip
import sys


def read_pgm(path):
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        data = f.read()
    fields, pos = [], 0
    while len(fields) < 4:
        while data[pos:pos + 1].isspace():
            pos += 1
        if data[pos:pos + 1] == b"#":
            pos = data.index(b"\n", pos) + 1
            continue
        start = pos
        while not data[pos:pos + 1].isspace():
            pos += 1
        fields.append(data[start:pos])
    if fields[0] != b"P5" or int(fields[3]) != 255:
        sys.exit(f"pgmcmp: {path}: not an 8-bit binary PGM (P5)")
    w, h = int(fields[1]), int(fields[2])
    pix = data[pos + 1:pos + 1 + w * h]
    if len(pix) != w * h:
        sys.exit(f"pgmcmp: {path}: {len(pix)} bytes of pixels, {w * h} expected")
    return w, h, pix


def main():
    args, mean_max, frac_max = [], 1.5, 0.005
    it = iter(sys.argv[1:])
    for a in it:
        if a == "--mean":
            mean_max = float(next(it))
        elif a == "--frac":
            frac_max = float(next(it))
        else:
            args.append(a)
    if len(args) != 2:
        sys.exit("usage: pgmcmp.py [--mean M] [--frac F] GOLDEN.pgm[.gz] PAGE.pgm")
    gw, gh, g = read_pgm(args[0])
    pw, ph, p = read_pgm(args[1])
    if (gw, gh) != (pw, ph):
        print(f"pgmcmp: size {pw}x{ph}, golden {gw}x{gh}")
        return 1
    total = sum(abs(a - b) for a, b in zip(g, p))
    big = sum(1 for a, b in zip(g, p) if abs(a - b) > 64)
    mean, frac = total / len(g), big / len(g)
    ok = mean <= mean_max and frac <= frac_max
    print(f"pgmcmp: {args[1]}: mean difference {mean:.3f} (max {mean_max}), "
          f"{frac * 100:.3f} % of pixels differ (max {frac_max * 100:.3f} %): "
          f"{'ok' if ok else 'DIFFERENT'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
