#!/bin/sh
# Scaling tables for docs/performance.md (`make bench-scaling`): samples/s from batch 1 to
# 4096 at 1 and 2 threads, and the time of one training epoch against the number of rows of
# the tabular demo, with the peak resident memory of the whole run.
set -e
flowtrain=${1:-.build/release/flowtrain}
out=.build-scaling
mkdir -p $out
for threads in 1 2; do
  echo "== bench/mlp.yaml, $threads thread(s)"
  $flowtrain bench bench/mlp.yaml --batch 1,4,16,64,256,1024,4096 --threads $threads --repeats 5 | grep batch
done
for threads in 1 2; do
  echo "== flows/security.yaml, $threads thread(s)"
  $flowtrain bench flows/security.yaml --batch 1,8,64,256 --threads $threads --repeats 5 | grep -E 'batch|peak resident'
done
echo "== orders: one epoch against rows (2 threads)"
for rows in 10000 100000 1000000; do
  [ -f $out/orders-$rows/orders.csv ] || $flowtrain datasets orders --out $out/orders-$rows --n $rows > /dev/null
  sed "s#../datasets/orders/orders.csv#$PWD/$out/orders-$rows/orders.csv#" flows/orders.yaml > $out/orders-$rows.yaml
  rm -rf $out/run-$rows
  start=$(date +%s.%N)
  /usr/bin/time -f "%M" -o $out/rss-$rows $flowtrain train $out/orders-$rows.yaml --epochs 1 --threads 2 \
    --run-dir $out/run-$rows 2> $out/train-$rows.log > /dev/null
  end=$(date +%s.%N)
  epoch=$(grep -o '[0-9.]* s *(best)' $out/train-$rows.log | grep -o '^[0-9.]*')
  echo "rows $rows: epoch $epoch s, whole run $(echo "$end - $start" | bc) s, peak resident $(( $(cat $out/rss-$rows) / 1024 )) MB"
done
