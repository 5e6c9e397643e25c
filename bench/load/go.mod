module graceful-sequence/bench/load

go 1.19
