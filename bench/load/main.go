// Command load is the benchmark's client of GET /sequence/stream (and /sequence/last) of
// graceful-sequence on loopback: one program, one scenario per subcommand, all of them over one
// dialer, one HTTP/1.1 request writer and one server-sent event parser (conn.go, sse.go).
//
//	load fanout  -port P | -ports P1,P2 ...   N streams, the delivery lag of every value (bench.py, cluster.py)
//	load burst   -port P -clients N ...       N stream requests at once: is every client answered? (stream-burst.sh)
//	load hostile -target H:P -attack KIND ... one address attacks, another behaves (hostile.sh)
//	load record  -port P [-follow]            every event of one stream, as an EventSource reads it (rolling_restart.py)
//
// `load SUBCOMMAND -h` lists a subcommand's options. Each talks to its harness on stdout, one
// line each, a word then the rest (OPEN, WINDOW, SETTLED, EVENT, CONNECTION; RESULT <json> last).
// Standard library only; every phase is bounded in time and the process ends on its own.
package main

import (
	"flag"
	"fmt"
	"math"
	"os"
	"syscall"
	"time"
)

var scenarios = []struct {
	name, summary string
	run           func(args []string)
}{
	{"fanout", "N streams on one port or several: lag of every value emitted in a window, checks", fanout},
	{"burst", "N stream requests one after the other, none waiting: whether and when each is answered", burst},
	{"hostile", "an attacker holds connections while a well-behaved client asks", hostile},
	{"record", "every event of a stream, following it across reconnects with Last-Event-ID", record},
}

func main() {
	if len(os.Args) > 1 {
		for _, s := range scenarios {
			if s.name == os.Args[1] {
				s.run(os.Args[2:])
				return
			}
		}
	}
	fmt.Fprintln(os.Stderr, "usage: load SUBCOMMAND [options] (load SUBCOMMAND -h for its options)")
	for _, s := range scenarios {
		fmt.Fprintf(os.Stderr, "  %-8s %s\n", s.name, s.summary)
	}
	os.Exit(2)
}

// options parses a subcommand's flags, declared by define on the flag set; exits on an error.
func options(name string, args []string, define func(*flagSet)) {
	set := flag.NewFlagSet("load "+name, flag.ExitOnError)
	define(set)
	_ = set.Parse(args)
}

// say writes one line of the protocol on stdout, unbuffered: the harness reads it as it comes.
func say(format string, args ...interface{}) {
	fmt.Fprintf(os.Stdout, format+"\n", args...)
}

// stopped: stop is closed (the scenario is ending).
func stopped(stop <-chan struct{}) bool {
	select {
	case <-stop:
		return true
	default:
		return false
	}
}

// pause waits d, or until stop is closed.
func pause(stop <-chan struct{}, d time.Duration) {
	select {
	case <-stop:
	case <-time.After(d):
	}
}

// raiseFileLimit raises the soft limit of open files to the hard one (each connection takes a
// descriptor) and returns the limit in force.
func raiseFileLimit() uint64 {
	var limit syscall.Rlimit
	if syscall.Getrlimit(syscall.RLIMIT_NOFILE, &limit) == nil && limit.Cur < limit.Max {
		limit.Cur = limit.Max
		_ = syscall.Setrlimit(syscall.RLIMIT_NOFILE, &limit)
	}
	_ = syscall.Getrlimit(syscall.RLIMIT_NOFILE, &limit)
	return limit.Cur
}

// percentile of sorted values at the rank floor(p/100*n + shift), from 1, within 1..n; false if
// there is none. Each scenario keeps the rank its published figures were computed with: fanout's
// shift of 1 (one rank above the nearest rank where p/100*n is whole), burst's 0.5 (the rounded
// rank).
func percentile(sorted []float64, p, shift float64) (float64, bool) {
	if len(sorted) == 0 {
		return 0, false
	}
	k := int(math.Floor(p/100*float64(len(sorted))+shift)) - 1
	if k < 0 {
		k = 0
	}
	if k > len(sorted)-1 {
		k = len(sorted) - 1
	}
	return sorted[k], true
}

type flagSet = flag.FlagSet
