"""Developer tools: sample-data generator, demo, benchmarks, planted-truth checks.

Sits just under the CLI; product code never imports it."""
