"""Charts drawn by gnuplot as SVG files (gnuplot-nox has the svg terminal).

Each function writes <name>.tsv (the data) and <name>.gp (the script) next to
<name>.svg, so a chart can be re-drawn or restyled by hand.  A missing value
(failed cell) is NaN in the data and simply has no bar.
"""
import os
import subprocess

# One colour per allocator, in table order, the same in every chart.
PALETTE = ["#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2", "#b07aa1",
           "#edc948", "#ff9da7", "#9c755f", "#bab0ac", "#1f77b4", "#8c564b"]


def colour(i):
    return PALETTE[i % len(PALETTE)]


def _num(v):
    return "NaN" if v is None else f"{v:.6g}"


def _label(s):
    return s.replace("_", "\\\\_").replace('"', "'")


HEAD = """set terminal svg size {w},{h} fixed enhanced font "Helvetica,12" background rgb "white"
set output "{out}"
set datafile separator "\\t"
set datafile missing "NaN"
set title "{title}"
set ylabel "{ylabel}"
set grid ytics lc rgb "#dddddd"
set border 3
set tics nomirror
set key outside right top vertical Left reverse noenhanced
"""


def _styles(series, colours):
    """One line style per series (gnuplot 5.4 misparses some long plot
    commands with inline 'lc rgb' options; styles keep each element short)."""
    return "".join(f'set style line {i + 1} lc rgb "{colours[s]}" lw 2 pt 7 ps 0.6\n'
                   for i, s in enumerate(series))


def _draw(outdir, name, script, rows):
    tsv, gp, svg = (os.path.join(outdir, name + ext) for ext in (".tsv", ".gp", ".svg"))
    with open(tsv, "w") as f:
        f.write("\n".join("\t".join(r) for r in rows) + "\n")
    with open(gp, "w") as f:
        f.write(script.replace("@DATA@", tsv))
    r = subprocess.run(["gnuplot", gp], capture_output=True, text=True, timeout=60)
    if r.returncode != 0 or not os.path.exists(svg):
        raise RuntimeError(f"gnuplot failed on {gp}: {r.stderr.strip()[-500:]}")
    return svg


def bars(outdir, name, title, ylabel, categories, series, values, colours, errorbars=True,
         refline=None, logscale=None):
    """Clustered bars: one cluster per category, one bar per series.
    values[(category, series)] = (mid, lo, hi) with errorbars, else mid.
    logscale None = automatic: a log axis when the values span over 20x,
    so one outlier does not flatten every other bar."""
    finite = [x for v in values.values() if v is not None
              for x in (v if isinstance(v, tuple) else (v,)) if x is not None and x > 0]
    if not finite:
        return None                      # nothing ran: no chart, the tables say why
    if logscale is None:
        logscale = max(finite) / min(finite) > 20
    rows = []
    for c in categories:
        row = [c]
        for s in series:
            v = values.get((c, s))
            if errorbars:
                row += [_num(x) for x in (v if v else (None, None, None))]
            else:
                row.append(_num(v))
        rows.append(row)
    width = max(700, min(1350, 120 + len(categories) * (22 * len(series) + 30)))
    sc = HEAD.format(w=width, h=460, out=os.path.join(outdir, name + ".svg"), title=title, ylabel=ylabel)
    sc += "set style data histograms\n"
    sc += ("set style histogram errorbars gap 2 lw 1\n" if errorbars else "set style histogram clustered gap 2\n")
    # Thin bars get no border, which would hide their colour.
    border = "border rgb '#555555'" if len(series) * len(categories) <= 120 else "noborder"
    sc += f"set style fill solid 0.9 {border}\nset boxwidth 0.9\n"
    sc += "set xtics rotate by -35 scale 0 noenhanced\n"
    if logscale:
        sc += f"set logscale y\nset yrange [{min(finite) / 1.5:.3g}:{max(finite) * 1.5:.3g}]\n"
        sc += f'set ylabel "{ylabel} (log scale)"\n'
    else:
        sc += "set yrange [0:*]\n"
    if refline:
        sc += f"set arrow from graph 0, first {refline} to graph 1, first {refline} nohead dt 2 lc rgb '#333333'\n"
    parts = []
    for i, s in enumerate(series):
        if errorbars:
            col = 2 + 3 * i
            using = f"{col}:{col + 1}:{col + 2}"
        else:
            using = f"{2 + i}"
        xt = ":xtic(1)" if i == 0 else ""
        src = "'@DATA@'" if i == 0 else "''"
        parts.append(f"{src} using {using}{xt} title \"{s}\" ls {i + 1}")
    sc += _styles(series, colours) + "plot " + ", \\\n     ".join(parts) + "\n"
    return _draw(outdir, name, sc, rows)


def lines(outdir, name, title, xlabel, ylabel, xs, series, values, colours, logx=True, logy=True):
    """One line per series over numeric xs; values[(x, series)] = y."""
    if not any(v is not None for v in values.values()):
        return None
    rows = [[str(x)] + [_num(values.get((x, s))) for s in series] for x in xs]
    sc = HEAD.format(w=900, h=460, out=os.path.join(outdir, name + ".svg"), title=title, ylabel=ylabel)
    sc += f'set xlabel "{xlabel}"\n'
    sc += ("set logscale x 2\n" if logx else "") + ("set logscale y\n" if logy else "")
    sc += f"set xrange [{min(xs) / 1.4:g}:{max(xs) * 1.4:g}]\n" if logx else ""
    sc += "set xtics (" + ", ".join(f'"{_short(x)}" {x}' for x in xs) + ")\n"
    parts = []
    for i, s in enumerate(series):
        src = "'@DATA@'" if i == 0 else "''"
        parts.append(f"{src} using 1:{2 + i} with linespoints title \"{s}\" ls {i + 1}")
    sc += _styles(series, colours) + "plot " + ", \\\n     ".join(parts) + "\n"
    return _draw(outdir, name, sc, rows)


def scatter(outdir, name, title, xlabel, ylabel, points, colours):
    """points: [(series, x, y)] labelled by series."""
    rows = [[s, _num(x), _num(y)] for s, x, y in points]
    sc = HEAD.format(w=800, h=460, out=os.path.join(outdir, name + ".svg"), title=title, ylabel=ylabel)
    sc += f'set xlabel "{xlabel}"\nset offsets graph 0.1, graph 0.1, graph 0.1, graph 0.1\nunset key\n'
    parts = []
    for i, (s, _, _) in enumerate(points):
        src = "'@DATA@'" if i == 0 else "''"
        parts.append(f"{src} every ::{i}::{i} using 2:3 with points ls {i + 1} ps 1.5 notitle")
        parts.append(f"'' every ::{i}::{i} using 2:3:1 with labels offset 1,1 left notitle")
    sc += _styles([p[0] for p in points], colours) + "plot " + ", \\\n     ".join(parts) + "\n"
    return _draw(outdir, name, sc, rows)


def _short(n):
    n = int(n)
    for unit, div in (("M", 1 << 20), ("K", 1 << 10)):
        if n >= div and n % div == 0:
            return f"{n // div}{unit}"
    return str(n)
