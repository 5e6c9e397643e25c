module graceful-sequence/bench/fanout

go 1.19
