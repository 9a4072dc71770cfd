"""runloom's benchmarks (`make bench`): what runloom adds on top of Temporal, measured."""
