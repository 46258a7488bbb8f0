# Copyright (c) 2026 Switchboard developers. MIT licence, see LICENSE.
#
# Broadcast latency (p50 solid, p99 dashed) against subscriber count, one colour per server.
# usage: gnuplot -e "data='latency.dat'; output='latency.png'" bench/load/plot.gp   (run.sh does this)
# latency.dat (written by report.py): subscribers, then p50 and p99 in ms for each server.

set terminal pngcairo size 960,600 font "sans,10"
set output output
set title "Broadcast latency at 20 broadcasts/s against subscribers (loopback; server on one core)"
set xlabel "subscribers"
set ylabel "latency, ms (log scale)"
set logscale y
set logscale x
set xtics (1000, 2000, 5000, 10000)
set xrange [800:12500]
set grid ytics mytics xtics
set key outside right top
set datafile missing "NaN"

names = "switchboard websocketpp websocketpp-frame-once node-ws"
colours = "#1f77b4 #d62728 #ff7f0e #2ca02c"
plot for [i=1:4] data using 1:(column(2*i)) with linespoints lw 2 pt 7 lc rgb word(colours, i) \
         title word(names, i)." p50", \
     for [i=1:4] data using 1:(column(2*i+1)) with linespoints lw 2 pt 5 dt 2 lc rgb word(colours, i) \
         title word(names, i)." p99"
