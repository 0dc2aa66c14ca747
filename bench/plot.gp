# bench/plot.gp - the chart of doc/BENCHMARKS.md: ns per operation of every
# engine on every timed workload, from the data file bench/driver writes
# (first row: "workload" and the engine names; one row per workload; "?" for
# a workload an engine cannot do).  bench/driver runs it as
#   gnuplot -e "datafile='...'; outfile='...'; subtitle='...'" bench/plot.gp
# The reader and writer of the concurrent workload are drawn as
# 1e9 / (ops/s), the ns per operation of each process.
if (!exists("datafile")) datafile = 'plot.dat'
if (!exists("outfile")) outfile = 'benchmarks.png'
if (!exists("subtitle")) subtitle = ''

set terminal pngcairo size 1500,720 font "sans,11" noenhanced
set output outfile
set title "fscollections and its peers: ns per operation (log scale, lower is better)\n".subtitle
set datafile missing '?'
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.85 border -1
set boxwidth 0.9
set logscale y
set format y "%.0f"
set ylabel "ns per operation"
set yrange [10:*]
set grid ytics mytics
set xtics scale 0 nomirror
set key outside right top vertical title "engine"
set lmargin 10
set bmargin 4
plot for [i=2:*] datafile using i:xtic(1) title columnheader(i)
