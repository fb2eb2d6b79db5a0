"""`microshop bench`: a load generator, footprint probes and a side-by-side comparison
with the chapter's own system (bench/seed-baseline). docs/performance.md tells how to
read the numbers."""
